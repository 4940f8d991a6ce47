package labenv.cli;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.container.Launcher;
import labenv.image.Json;
import labenv.project.OutputDiff;
import labenv.project.OutputHashes;
import labenv.project.ProjectRunner;
import labenv.project.Receipt;
import labenv.project.SweepReceipt;
import labenv.store.AtomicFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "verify",
    description = {"Run an analysis again from its receipt alone, and compare every output with the receipt's hashes.",
        "The image and the datasets are taken by digest from the store (labenv load brings them from an archive). "
        + "Exits 0 when every output matches, 1 when one differs (each is explained: tables by rows and cells, "
        + "JSON by paths, text by a unified diff, other files by size and hash), 2 for a bad receipt."})
final class VerifyCommand extends Verb {
  @Parameters(index = "0", paramLabel = "RECEIPT", description = "a receipt.json or a sweep's sweep-receipt.json (or "
      + "the folder that has one: a project's receipt.json first, then its sweep/sweep-receipt.json)")
  Path receiptPath;

  @Option(names = "--explain", description = "Show every difference in full (default: the first lines of each).")
  boolean explain;

  @Option(names = "--tolerance", paramLabel = "T",
      description = "Accept numbers within T (|a-b| <= T*max(1,|a|,|b|)) in tables and JSON; reported as such, never as an "
          + "exact match.")
  double tolerance;

  @Option(names = "--keep", description = "Keep the re-run's outputs (printed) even when they match.")
  boolean keep;

  @Option(names = "--task", paramLabel = "NAME|INDEX",
      description = "For a sweep's summary: verify this task only (default: every task).")
  String task;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  /** Lines of each explanation shown without --explain. */
  private static final int BRIEF_LINES = 6;

  @Override
  public Integer call() {
    if (tolerance < 0 || Double.isNaN(tolerance)) {
      throw LabenvException.badInput("--tolerance " + tolerance + ": expected 0 or more");
    }
    Path file = receiptFile();
    ProjectRunner runner = new ProjectRunner(store(), images(), containers(), VersionProvider.version());
    if (SweepReceipt.isSweep(file)) {
      if (format != OutputFormat.json) {
        err().println("verify: running the sweep's tasks again from their receipts (" + file + ")");
        err().flush();
      }
      return verifySweep(file, runner);
    }
    if (task != null) {
      throw LabenvException.badInput("--task is for a sweep's summary (" + SweepReceipt.FILE + "); " + file
          + " is one run's receipt");
    }
    Receipt expected = Receipt.read(file);
    Path originals = file.toAbsolutePath().getParent();
    Path outputs = store().root().resolve("verify").resolve(AtomicFile.randomSuffix());
    if (format != OutputFormat.json) {
      err().println("verify: running " + expected.project() + " again (image " + expected.image().digest()
          .substring(0, 19) + ", " + expected.datasets().size() + " dataset" + (expected.datasets().size() == 1 ? ""
          : "s") + ")");
      err().flush();
    }
    // Held while the scratch outputs exist: prune (exclusive) removes only what killed runs left.
    try (labenv.store.StoreLock gc = store().lockShared()) {
      return verify(expected, originals, outputs, runner);
    }
  }

  private int verify(Receipt expected, Path originals, Path outputs, ProjectRunner runner) {
    Comparison c = rerun(expected, originals, outputs, runner, Launcher.Stdio.inherit(false));
    print(expected, c.actual(), c.findings(), c.exact(), c.accepted(), c.kept());
    return c.accepted() ? ExitCode.OK : ExitCode.FAILED;
  }

  /** A re-run compared with its receipt: each differing output explained; {@code kept}: its outputs, when kept. */
  private record Comparison(Receipt actual, List<Map<String, Object>> findings, boolean exact, boolean accepted,
      Path kept) {}

  private Comparison rerun(Receipt expected, Path originals, Path outputs, ProjectRunner runner,
      Launcher.Stdio stdio) {
    Receipt actual;
    try {
      actual = runner.rerun(expected, outputs, stdio);
    } catch (LabenvException e) {
      ProjectRunner.removeTree(outputs);
      throw e;
    }

    Map<String, Receipt.OutputFile> before = byPath(expected.outputs().files());
    Map<String, Receipt.OutputFile> after = byPath(actual.outputs().files());
    List<Map<String, Object>> findings = new ArrayList<>();
    boolean exact = actual.exitCode() == expected.exitCode() && actual.outputs().root().equals(expected.outputs().root());
    boolean accepted = exact;
    if (!exact) {
      accepted = actual.exitCode() == expected.exitCode();
      for (String path : union(before, after)) {
        Receipt.OutputFile b = before.get(path);
        Receipt.OutputFile a = after.get(path);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("path", path);
        if (b == null) {
          f.put("status", "added");
          f.put("lines", List.of("not in the receipt: made by this run only (" + a.size() + " bytes)"));
          accepted = false;
        } else if (a == null) {
          f.put("status", "missing");
          f.put("lines", List.of("in the receipt (" + b.size() + " bytes, sha256 " + b.sha256() + "), not made by this run"));
          accepted = false;
        } else if (!a.sha256().equals(b.sha256())) {
          Path original = originals.resolve(path);
          OutputDiff.Explanation x = original(original, b)
              ? OutputDiff.explain(path, original, outputs.resolve(path), new OutputDiff.Options(tolerance, 5)) : null;
          boolean within = x != null && x.withinTolerance();
          f.put("status", within ? "within-tolerance" : "differs");
          List<String> lines = new ArrayList<>();
          lines.add("sha256 " + b.sha256().substring(0, 12) + " (" + b.size() + " bytes) in the receipt, "
              + a.sha256().substring(0, 12) + " (" + a.size() + " bytes) now");
          if (x != null) {
            lines.addAll(x.lines());
          } else {
            lines.add("(the original is not beside the receipt, or no longer matches it: only hashes to compare)");
          }
          f.put("lines", lines);
          accepted &= within;
        } else {
          continue;
        }
        findings.add(f);
      }
    }
    boolean keepOutputs = keep || !exact;
    if (!keepOutputs) {
      ProjectRunner.removeTree(outputs);
    }
    return new Comparison(actual, findings, exact, accepted, keepOutputs ? outputs : null);
  }

  /**
   * A sweep's summary: every task (or {@code --task}) run again from its receipt (checked against the summary's
   * digest) and compared with it, each explained on its own; exits 1 when any task does not match.
   */
  private int verifySweep(Path file, ProjectRunner runner) {
    SweepReceipt summary = SweepReceipt.read(file);
    Path base = file.toAbsolutePath().getParent();
    List<SweepReceipt.Task> tasks = summary.tasks();
    if (task != null) {
      SweepReceipt.Task chosen = null;
      for (SweepReceipt.Task t : tasks) {
        if (t.name().equals(task) || String.valueOf(t.index()).equals(task)) {
          chosen = t;
        }
      }
      if (chosen == null) {
        throw LabenvException.badInput(file + ": no task \"" + task + "\" (its tasks: " + String.join(" ",
            tasks.stream().map(SweepReceipt.Task::name).limit(5).toList()) + (tasks.size() > 5 ? " ..." : "") + ")");
      }
      tasks = List.of(chosen);
    }
    // Every receipt is checked before anything runs: a damaged summary fails at once.
    Map<String, Receipt> receipts = new LinkedHashMap<>();
    for (SweepReceipt.Task t : tasks) {
      if (t.receipt() != null) {
        receipts.put(t.name(), SweepReceipt.receipt(file, t));
      }
    }
    Path scratch = store().root().resolve("verify").resolve(AtomicFile.randomSuffix());
    int verified = 0;
    List<String> notVerified = new ArrayList<>();
    List<Map<String, Object>> json = new ArrayList<>();
    try (labenv.store.StoreLock gc = store().lockShared()) {
      for (SweepReceipt.Task t : tasks) {
        Receipt expected = receipts.get(t.name());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", t.name());
        if (expected == null) {
          // Nothing to run again: the sweep never recorded this task.
          notVerified.add(t.name());
          m.put("result", "no-receipt");
          m.put("status", t.status().toString());
          json.add(m);
          if (format != OutputFormat.json) {
            out().println("task " + t.name() + ": no receipt to verify (" + t.status() + (t.error() != null ? ": "
                + t.error() : "") + ")");
          }
          continue;
        }
        if (format != OutputFormat.json) {
          out().println("task " + t.name() + ":");
          out().flush();
        }
        // The tasks' output would interleave with the comparisons: each goes to a log beside its outputs.
        Path outputs = scratch.resolve(t.name());
        Comparison c;
        try {
          Files.createDirectories(outputs);
          try (java.io.OutputStream log = Files.newOutputStream(outputs.resolve(labenv.project.Collector.LOG))) {
            c = rerun(expected, base.resolve(t.outputs()), outputs, runner, Launcher.Stdio.output(log));
          }
        } catch (java.io.IOException e) {
          throw LabenvException.failed("cannot write in " + outputs + ": " + e.getMessage(), e);
        }
        if (c.accepted()) {
          verified++;
        } else {
          notVerified.add(t.name());
        }
        if (format == OutputFormat.json) {
          m.put("result", c.exact() ? "match" : c.accepted() ? "match-within-tolerance" : "differs");
          m.put("expectedRoot", expected.outputs().root());
          m.put("actualRoot", c.actual().outputs().root());
          m.put("expectedExitCode", expected.exitCode());
          m.put("actualExitCode", c.actual().exitCode());
          m.put("differences", c.findings());
          m.put("outputs", c.kept() == null ? null : c.kept().toString());
          json.add(m);
        } else {
          print(expected, c.actual(), c.findings(), c.exact(), c.accepted(), c.kept(), "  ");
        }
      }
    }
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("result", notVerified.isEmpty() ? "match" : "differs");
      m.put("root", summary.root());
      m.put("tolerance", tolerance);
      m.put("tasks", json);
      out().println(Json.pretty(m));
    } else {
      out().println(notVerified.isEmpty() ? "verified: every task of the sweep matches its receipt (" + verified
          + " task" + (verified == 1 ? "" : "s") + ", sweep root " + summary.root() + ")"
          : "not verified: " + notVerified.size() + " of " + tasks.size() + " tasks differ: " + String.join(" ",
              notVerified));
    }
    out().flush();
    if (!Files.exists(scratch)) {
      return notVerified.isEmpty() ? ExitCode.OK : ExitCode.FAILED;
    }
    try (java.util.stream.Stream<Path> left = Files.list(scratch)) {
      if (left.findAny().isEmpty()) {
        ProjectRunner.removeTree(scratch);
      }
    } catch (java.io.IOException e) {
      // left for prune
    }
    return notVerified.isEmpty() ? ExitCode.OK : ExitCode.FAILED;
  }

  /**
   * The receipt named: a file as given; in a folder its receipt.json, else a sweep summary (DIR/sweep-receipt.json,
   * or a project's DIR/sweep/sweep-receipt.json); with --task, a folder's sweep summary first.
   */
  private Path receiptFile() {
    if (!Files.isDirectory(receiptPath)) {
      return receiptPath;
    }
    List<Path> candidates = new ArrayList<>(List.of(receiptPath.resolve(Receipt.FILE),
        receiptPath.resolve(SweepReceipt.FILE), receiptPath.resolve(labenv.project.ProjectFile.SWEEP_DIR)
            .resolve(SweepReceipt.FILE)));
    if (task != null) {
      candidates.add(candidates.remove(0));
    }
    for (Path c : candidates) {
      if (Files.isRegularFile(c)) {
        return c;
      }
    }
    return candidates.get(0);
  }

  /** True when {@code original} is still the file the receipt recorded (so it can be compared with). */
  private static boolean original(Path original, Receipt.OutputFile recorded) {
    try {
      return Files.isRegularFile(original, LinkOption.NOFOLLOW_LINKS) && Files.size(original) == recorded.size()
          && OutputHashes.sha256(original).equals(recorded.sha256());
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private void print(Receipt expected, Receipt actual, List<Map<String, Object>> findings, boolean exact,
      boolean accepted, Path kept) {
    print(expected, actual, findings, exact, accepted, kept, "");
  }

  private void print(Receipt expected, Receipt actual, List<Map<String, Object>> findings, boolean exact,
      boolean accepted, Path kept, String indent) {
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("result", exact ? "match" : accepted ? "match-within-tolerance" : "differs");
      m.put("expectedRoot", expected.outputs().root());
      m.put("actualRoot", actual.outputs().root());
      m.put("expectedExitCode", expected.exitCode());
      m.put("actualExitCode", actual.exitCode());
      m.put("tolerance", tolerance);
      m.put("differences", findings);
      m.put("outputs", kept == null ? null : kept.toString());
      out().println(Json.pretty(m));
      out().flush();
      return;
    }
    if (exact) {
      out().println(indent + "verified: every output matches (" + actual.outputs().files().size() + " files, root "
          + actual.outputs().root() + ")");
    } else {
      if (actual.exitCode() != expected.exitCode()) {
        out().println(indent + "exit code: " + expected.exitCode() + " in the receipt, " + actual.exitCode() + " now");
      }
      for (Map<String, Object> f : findings) {
        out().println(indent + f.get("path") + ": " + f.get("status"));
        @SuppressWarnings("unchecked")
        List<String> lines = (List<String>) f.get("lines");
        int shown = explain ? lines.size() : Math.min(lines.size(), BRIEF_LINES);
        for (int i = 0; i < shown; i++) {
          out().println(indent + "  " + lines.get(i));
        }
        if (shown < lines.size()) {
          out().println(indent + "  ... " + (lines.size() - shown) + " more lines (--explain shows them)");
        }
      }
      out().println(indent + (accepted
          ? "verified within tolerance " + tolerance + ": the outputs are NOT identical; every difference is numeric "
              + "and within the tolerance"
          : "not verified: " + findings.size() + " output" + (findings.size() == 1 ? "" : "s") + " differ"
              + (actual.exitCode() != expected.exitCode() ? ", and the exit code" : "")));
    }
    if (kept != null) {
      out().println(indent + "this run's outputs: " + kept);
    }
    out().flush();
  }

  private static Map<String, Receipt.OutputFile> byPath(List<Receipt.OutputFile> files) {
    Map<String, Receipt.OutputFile> m = new LinkedHashMap<>();
    files.forEach(f -> m.put(f.path(), f));
    return m;
  }

  private static List<String> union(Map<String, ?> a, Map<String, ?> b) {
    java.util.TreeSet<String> all = new java.util.TreeSet<>(a.keySet());
    all.addAll(b.keySet());
    return new ArrayList<>(all);
  }
}
