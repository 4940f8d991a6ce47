package labenv.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.image.Json;

/**
 * Reads a sweep's tasks back from a folder where they were run: {@code labenv run --sweep}'s staging folder, a Slurm
 * job's shared output folder, or a Kubernetes Job's output volume. Below the folder each task has a folder of its own,
 * named as the task ({@code alpha=0.1,seed=1}) or by its index ({@code 0}, as a Kubernetes Job writes it: a pod only
 * knows its index), holding the project's output directories and either
 *
 * <ul>
 *   <li>{@code receipt.json} (and {@code task.log}), written by {@code labenv run} (here, or on a Slurm node), or
 *   <li>{@code labenv-status.json}, {@code {"exitCode": N, "plan": "sha256:..."}}, written by the shell line that
 *       wraps the command in a Kubernetes Job: the receipt is then made here from the task's plan, which must be the
 *       one the Job was made from (its digest), and the outputs' hashes.
 * </ul>
 *
 * Nothing is written to the folder read: {@link #copy} brings a task's files into the project first.
 */
public final class Collector {
  /** What the Kubernetes Job's wrapper writes when the command ends. */
  public static final String STATUS = "labenv-status.json";
  /** A task's output (stdout and stderr), beside its receipt. */
  public static final String LOG = "task.log";
  /** Lines of a failed task's log kept in the summary. */
  static final int TAIL = 10;

  private Collector() {}

  /** {@code {"exitCode": N, "plan": "sha256:..."}}: a task's end, as the Kubernetes wrapper writes it. */
  public record Status(Integer exitCode, String plan) {}

  /** A task's folder below {@code folder}: by its name if there is one, else by its index (null when neither is). */
  public static Path taskDir(Path folder, SweepTask task) {
    Path byName = folder.resolve(task.name());
    if (Files.isDirectory(byName, LinkOption.NOFOLLOW_LINKS)) {
      return byName;
    }
    Path byIndex = folder.resolve(String.valueOf(task.index()));
    return Files.isDirectory(byIndex, LinkOption.NOFOLLOW_LINKS) ? byIndex : null;
  }

  /**
   * The tasks found below {@code folder}, each with a receipt written by {@code labenv run}; a task without one is
   * {@code missing}. Equivalent to {@link #fromFolder(Path, List, String, Function, String)} without plans.
   */
  public static List<SweepReceipt.Task> fromFolder(Path folder, List<SweepTask> tasks) {
    return fromFolder(folder, tasks, null, null, null);
  }

  /**
   * The tasks found below {@code folder}, in task order. A task with a receipt: {@code ok} or {@code failed} by its
   * exit code, {@code damaged} when the outputs there no longer match it. A task with only a status file (Kubernetes):
   * its receipt is made from {@code plans} (the project's plan of each task; {@code project}, {@code version} name it)
   * and written into its folder, so {@code folder} must be the project's copy. Otherwise {@code missing}.
   */
  public static List<SweepReceipt.Task> fromFolder(Path folder, List<SweepTask> tasks, String project,
      Function<SweepTask, ProjectRunner.TaskPlan> plans, String version) {
    List<SweepReceipt.Task> out = new ArrayList<>();
    for (SweepTask t : tasks) {
      out.add(task(folder, t, project, plans, version));
    }
    return out;
  }

  private static SweepReceipt.Task task(Path folder, SweepTask t, String project,
      Function<SweepTask, ProjectRunner.TaskPlan> plans, String version) {
    Map<String, String> params = parameters(t);
    Path dir = taskDir(folder, t);
    if (dir == null) {
      return missing(t, params, "no folder " + folder.resolve(t.name()) + " (nor " + t.index() + ")");
    }
    String rel = folder.relativize(dir).toString();
    Path receiptFile = dir.resolve(Receipt.FILE);
    if (!Files.isRegularFile(receiptFile, LinkOption.NOFOLLOW_LINKS) && Files.isRegularFile(dir.resolve(STATUS))
        && plans != null) {
      try {
        write(dir, receiptFile, t, project, plans.apply(t), version);
      } catch (LabenvException e) {
        return damaged(t, params, rel, null, e.getMessage());
      }
    }
    if (!Files.isRegularFile(receiptFile, LinkOption.NOFOLLOW_LINKS)) {
      return missing(t, params, "no " + Receipt.FILE + " in " + dir + (Files.exists(dir.resolve(LOG))
          ? " (the log's end: " + String.join(" | ", tail(dir.resolve(LOG))) + ")" : ""));
    }
    Receipt r;
    String digest;
    try {
      r = Receipt.read(receiptFile);
      digest = Digest.of(Files.readAllBytes(receiptFile)).toString();
    } catch (LabenvException | IOException e) {
      return damaged(t, params, rel, null, e.getMessage());
    }
    String found = OutputHashes.root(OutputHashes.hash(dir, r.outputs().dirs()));
    String receiptRel = rel + "/" + Receipt.FILE;
    if (!found.equals(r.outputs().root())) {
      return new SweepReceipt.Task(t.index(), t.name(), params, SweepReceipt.Status.damaged, r.exitCode(), receiptRel,
          digest, rel, found, "the outputs in " + dir + " are not the ones its receipt lists (root " + found + ", not "
          + r.outputs().root() + ")", null);
    }
    boolean ok = r.exitCode() == 0;
    return new SweepReceipt.Task(t.index(), t.name(), params, ok ? SweepReceipt.Status.ok : SweepReceipt.Status.failed,
        r.exitCode(), receiptRel, digest, rel, r.outputs().root(), ok ? null : "the command exited " + r.exitCode(),
        ok ? null : tail(dir.resolve(LOG)));
  }

  /** A task's parameters: its variables, or its --NAME=VALUE arguments. */
  static Map<String, String> parameters(SweepTask t) {
    Map<String, String> m = new java.util.LinkedHashMap<>(t.env());
    for (String a : t.args()) {
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 2) {
        m.put(a.substring(2, eq), a.substring(eq + 1));
      }
    }
    return m;
  }

  static SweepReceipt.Task missing(SweepTask t, Map<String, String> params, String error) {
    return new SweepReceipt.Task(t.index(), t.name(), params, SweepReceipt.Status.missing, null, null, null, null,
        null, error, null);
  }

  private static SweepReceipt.Task damaged(SweepTask t, Map<String, String> params, String rel, Integer exit,
      String error) {
    return new SweepReceipt.Task(t.index(), t.name(), params, SweepReceipt.Status.damaged, exit, null, null, rel, null,
        error, null);
  }

  /** The receipt of a task that ran without labenv (Kubernetes): its plan, its status, its outputs' hashes. */
  private static void write(Path dir, Path receiptFile, SweepTask t, String project, ProjectRunner.TaskPlan plan,
      String version) {
    Path statusFile = dir.resolve(STATUS);
    Status status;
    try {
      status = Json.mapper().readValue(Files.readAllBytes(statusFile), Status.class);
    } catch (IOException e) {
      throw LabenvException.badInput(statusFile + ": not a task status (" + e.getMessage().lines().findFirst()
          .orElse("") + ")");
    }
    if (status.exitCode() == null || status.plan() == null) {
      throw LabenvException.badInput(statusFile + ": not a task status (exitCode and plan are required)");
    }
    String expected = planDigest(plan);
    if (!expected.equals(status.plan())) {
      throw LabenvException.badInput("task " + t.name() + " ran from plan " + status.plan() + ", not from the project's "
          + "plan " + expected + " (labenv.yaml, the image or a dataset changed since the Job was made: collect with "
          + "the project as it was, or run again)");
    }
    List<Receipt.OutputFile> files = OutputHashes.hash(dir, plan.outputs());
    String ended = mtime(statusFile);
    Receipt r = new Receipt(Receipt.SCHEMA, new Receipt.Tool(version), project, plan.image(), plan.datasets(),
        plan.argv(), plan.workdir(), plan.env(), plan.limits(), "cluster", ProjectRunner.HOSTNAME,
        new Receipt.Host("unknown", "unknown", "unknown", 0), null, ended, status.exitCode(),
        new Receipt.Outputs(plan.outputs(), OutputHashes.root(files), files));
    labenv.store.AtomicFile.write(receiptFile, r.toJson());
  }

  /** The digest a cluster task's status names: sha256 of the plan's canonical JSON. */
  public static String planDigest(ProjectRunner.TaskPlan plan) {
    return Digest.of(Json.canonical(plan)).toString();
  }

  private static String mtime(Path f) {
    try {
      return Instant.ofEpochMilli(Files.getLastModifiedTime(f).toMillis()).toString();
    } catch (IOException e) {
      return null;
    }
  }

  /** The last lines of a log (none when there is none). */
  static List<String> tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
      return List.copyOf(lines.subList(Math.max(0, lines.size() - TAIL), lines.size()));
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * Copies task {@code t}'s files from {@code from} (a folder as {@link #fromFolder} reads) into {@code into/NAME}: its
   * output directories {@code dirs}, receipt, status and log. Symbolic links are copied as links, never followed.
   * Returns false when {@code from} has no folder for the task.
   */
  public static boolean copy(Path from, SweepTask t, List<String> dirs, Path into) {
    Path src = taskDir(from, t);
    if (src == null) {
      return false;
    }
    Path dst = into.resolve(t.name());
    try {
      Files.createDirectories(dst);
      for (String f : List.of(Receipt.FILE, STATUS, LOG)) {
        if (Files.isRegularFile(src.resolve(f), LinkOption.NOFOLLOW_LINKS)) {
          Files.copy(src.resolve(f), dst.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
      for (String d : dirs) {
        Path s = src.resolve(d);
        if (Files.isDirectory(s, LinkOption.NOFOLLOW_LINKS)) {
          copyTree(s, dst.resolve(d));
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot copy task " + t.name() + " from " + src + " to " + dst + ": "
          + e.getMessage(), e);
    }
    return true;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Path target = to.resolve(from.relativize(file).toString());
        if (attrs.isSymbolicLink()) {
          Files.createSymbolicLink(target, Files.readSymbolicLink(file));
        } else if (attrs.isRegularFile()) {
          Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
