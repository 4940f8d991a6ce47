package labenv.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import labenv.LabenvException;
import labenv.container.Launcher;
import labenv.image.Json;
import labenv.project.ProjectFile;
import labenv.project.ProjectRunner;
import labenv.project.ProjectRunner.Variation;
import labenv.project.Receipt;
import labenv.store.AtomicFile;
import labenv.store.Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "check",
    description = {"Find the outputs of a project that are not deterministic, and what they depend on.",
        "Runs the analysis once as labenv run does, then once more per variation (in the spirit of Debian's "
        + "reprotest): the same conditions later (randomness, wall-clock time), another hostname, the environment "
        + "in reverse order, one more CPU (and thread), datasets listing their directories in reverse order (root "
        + "only), umask 0077, the fr_FR.UTF-8 locale. Each output that differs is named with the variations that "
        + "change it. Writes nothing in the project. Exits 0 when every output is the same under every variation, "
        + "1 otherwise."})
final class CheckCommand extends Verb {
  @Parameters(index = "0", paramLabel = "DIR", arity = "0..1", description = "the project folder (default: here)")
  Path dir;

  @Option(names = "--keep", description = "Keep every run's outputs (their folder is printed).")
  boolean keep;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    Path projectDir = (dir == null ? Path.of("") : dir).toAbsolutePath().normalize();
    ProjectFile p = ProjectFile.read(projectDir);
    ProjectRunner runner = new ProjectRunner(store(), images(), containers(), VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(this, runner, p, format == OutputFormat.json);
    Path base = store().root().resolve("check").resolve(AtomicFile.randomSuffix());
    List<Variation> variations = new ArrayList<>(List.of(Variation.values()));
    variations.remove(Variation.NONE);
    variations.add(0, Variation.NONE);
    boolean root = "0".equals(System.getProperty("labenv.uid", uid()));
    Map<Variation, String> skipped = new LinkedHashMap<>();
    if (p.datasets().isEmpty()) {
      variations.remove(Variation.LISTING_ORDER);
      skipped.put(Variation.LISTING_ORDER, "no datasets");
    } else if (!root) {
      variations.remove(Variation.LISTING_ORDER);
      skipped.put(Variation.LISTING_ORDER, "needs root (a tmpfs)");
    }
    // Held while the scratch outputs exist: prune (exclusive) removes only what killed runs left.
    try (labenv.store.StoreLock gc = store().lockShared()) {
      Receipt baseline = trial(runner, p, image, null, base.resolve("baseline"));
      if (baseline.exitCode() != 0) {
        throw LabenvException.failed(p.name() + ": the analysis exits " + baseline.exitCode() + " under its own "
            + "conditions: fix that first (labenv run shows its output)");
      }
      // Every later run starts at least a second after the first: wall-clock time differs in every one of them.
      sleepUntil(System.currentTimeMillis() + 1100);
      Map<String, List<Variation>> unstable = new TreeMap<>();
      Map<Variation, String> problems = new LinkedHashMap<>();
      for (Variation v : variations) {
        Receipt r;
        try {
          r = trial(runner, p, image, v, base.resolve(v.name().toLowerCase(java.util.Locale.ROOT)));
        } catch (LabenvException e) {
          problems.put(v, e.getMessage());
          continue;
        }
        if (r.exitCode() != 0) {
          problems.put(v, "the analysis exited " + r.exitCode());
          continue;
        }
        for (String path : differing(baseline, r)) {
          unstable.computeIfAbsent(path, k -> new ArrayList<>()).add(v);
        }
      }
      print(p, baseline, variations, unstable, problems, skipped, keep ? base : null);
      return unstable.isEmpty() && problems.isEmpty() ? ExitCode.OK : ExitCode.FAILED;
    } finally {
      if (!keep) {
        ProjectRunner.removeTree(base);
      }
    }
  }

  private Receipt trial(ProjectRunner runner, ProjectFile p, Image image, Variation v, Path outputs) {
    if (format != OutputFormat.json) {
      err().println("check: " + (v == null ? "run under the project's own conditions" : "vary " + v.description()));
      err().flush();
    }
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    Receipt r = runner.trial(p, image, v == null ? Variation.NONE : v, outputs, Launcher.Stdio.output(output));
    if (r.exitCode() != 0 && format != OutputFormat.json) {
      String text = output.toString(StandardCharsets.UTF_8);
      String[] lines = text.split("\n");
      for (int i = Math.max(0, lines.length - 10); i < lines.length; i++) {
        err().println("  | " + lines[i]);
      }
      err().flush();
    }
    return r;
  }

  private static List<String> differing(Receipt a, Receipt b) {
    Map<String, String> before = new TreeMap<>();
    a.outputs().files().forEach(f -> before.put(f.path(), f.sha256()));
    Map<String, String> after = new TreeMap<>();
    b.outputs().files().forEach(f -> after.put(f.path(), f.sha256()));
    java.util.TreeSet<String> all = new java.util.TreeSet<>(before.keySet());
    all.addAll(after.keySet());
    return all.stream().filter(k -> !java.util.Objects.equals(before.get(k), after.get(k))).toList();
  }

  private void print(ProjectFile p, Receipt baseline, List<Variation> tried, Map<String, List<Variation>> unstable,
      Map<Variation, String> problems, Map<Variation, String> skipped, Path kept) {
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("project", p.name());
      m.put("deterministic", unstable.isEmpty() && problems.isEmpty());
      m.put("outputs", baseline.outputs().files().size());
      m.put("variations", tried.stream().map(v -> v.name().toLowerCase(java.util.Locale.ROOT)).toList());
      Map<String, Object> u = new LinkedHashMap<>();
      unstable.forEach((k, v) -> u.put(k, v.stream().map(x -> x.name().toLowerCase(java.util.Locale.ROOT)).toList()));
      m.put("unstable", u);
      Map<String, String> pr = new LinkedHashMap<>();
      problems.forEach((k, v) -> pr.put(k.name().toLowerCase(java.util.Locale.ROOT), v));
      m.put("failed", pr);
      Map<String, String> sk = new LinkedHashMap<>();
      skipped.forEach((k, v) -> sk.put(k.name().toLowerCase(java.util.Locale.ROOT), v));
      m.put("skipped", sk);
      m.put("kept", kept == null ? null : kept.toString());
      out().println(Json.pretty(m));
      out().flush();
      return;
    }
    if (unstable.isEmpty() && problems.isEmpty()) {
      out().println("deterministic: all " + baseline.outputs().files().size() + " outputs are the same under every "
          + "variation (" + tried.size() + " runs after the first)");
    }
    for (Map.Entry<String, List<Variation>> e : unstable.entrySet()) {
      List<Variation> vs = e.getValue();
      if (vs.contains(Variation.NONE)) {
        out().println(e.getKey() + ": differs from run to run under the same conditions (randomness without a seed, "
            + "or the wall-clock time)");
      } else {
        out().println(e.getKey() + ": depends on " + String.join("; ", vs.stream().map(Variation::description)
            .toList()));
      }
    }
    problems.forEach((v, why) -> out().println("could not vary " + v.description() + ": " + why));
    skipped.forEach((v, why) -> out().println("not varied: " + v.description() + " (" + why + ")"));
    if (!unstable.isEmpty()) {
      out().println("not deterministic: " + unstable.size() + " of " + baseline.outputs().files().size()
          + " outputs differ (labenv verify would fail for them on another host)");
    }
    if (kept != null) {
      out().println("outputs of every run: " + kept);
    }
    out().flush();
  }

  private static void sleepUntil(long millis) {
    long left;
    while ((left = millis - System.currentTimeMillis()) > 0) {
      try {
        Thread.sleep(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static String uid() {
    try {
      return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (java.io.IOException | RuntimeException e) {
      return "-1";
    }
  }
}
