package labenv.project;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import labenv.LabenvException;
import labenv.store.AtomicFile;
import labenv.store.Image;

/**
 * {@code labenv run --sweep}: a project's sweep tasks run here, at most {@code jobs} at once, each a hermetic run of
 * its own ({@link ProjectRunner#runTask}). Layout, in the project:
 *
 * <pre>
 * sweep/sweep-receipt.json        the summary (SweepReceipt)
 * sweep/NAME/receipt.json         each task's receipt (also when its command failed)
 * sweep/NAME/task.log             its stdout and stderr
 * sweep/NAME/DIR/...              its output directories (DIR as in outputs:)
 * </pre>
 *
 * A whole sweep is staged in {@code .labenv/} and replaces {@code sweep/} when every task has ended, failed ones
 * included (kept and marked in the summary): the previous sweep stays whole until then. One task ({@code --task})
 * replaces only its own folder, and the summary is made again from the folders there.
 */
public final class SweepRunner {
  private final ProjectRunner runner;
  private final String version;

  public SweepRunner(ProjectRunner runner, String labenvVersion) {
    this.runner = runner;
    this.version = labenvVersion;
  }

  /** The default parallelism: as many tasks as the machine's CPUs hold at the project's CPU limit (at least 1). */
  public static int defaultJobs(ProjectFile p) {
    return Math.max(1, (int) Math.floor(Runtime.getRuntime().availableProcessors() / ProjectRunner.cpus(p.cpus())));
  }

  /** The sweep folder of a project. */
  public static Path folder(ProjectFile p) {
    return p.dir().resolve(ProjectFile.SWEEP_DIR);
  }

  /**
   * Runs {@code only} (every task when null) of {@code p}'s sweep, at most {@code jobs} at once; {@code ended} hears of
   * each task as it ends (from the worker threads, one at a time). Returns the summary, written to
   * {@code sweep/sweep-receipt.json}.
   */
  public SweepReceipt run(ProjectFile p, Image image, SweepTask only, int jobs, Consumer<SweepReceipt.Task> ended) {
    if (p.sweep() == null) {
      throw LabenvException.badInput(p.dir().resolve(ProjectFile.FILE) + ": no sweep: declared (sweep: {grid: ...} or "
          + "{list: ...}); run without --sweep runs the project once");
    }
    if (jobs < 1) {
      throw LabenvException.badInput("--jobs " + jobs + ": expected 1 or more");
    }
    List<SweepTask> all = p.sweep().tasks();
    List<SweepTask> tasks = only == null ? all : List.of(only);
    // What every task needs (its datasets in the store, a command) fails here, once, before anything runs.
    Receipt.ImageRef imageRef = null;
    for (SweepTask t : tasks) {
      imageRef = runner.plan(p, image, t).image();
    }
    Path work = p.dir().resolve(".labenv");
    try (labenv.store.StoreLock lock = ProjectRunner.lock(p)) {
      Path staging = work.resolve("sweep-" + AtomicFile.randomSuffix());
      try {
        Files.createDirectories(staging);
        Map<Integer, String> errors = runAll(p, image, tasks, staging, jobs, ended);
        Path folder = folder(p);
        if (only == null) {
          replace(staging, folder, work);
        } else {
          Files.createDirectories(folder);
          replace(staging.resolve(only.name()), folder.resolve(only.name()), work);
        }
        List<SweepReceipt.Task> found = new ArrayList<>(Collector.fromFolder(folder, all));
        // labenv's own failure (no receipt written): say why, rather than "no receipt"
        errors.forEach((i, e) -> found.set(i, Collector.missing(all.get(i), Collector.parameters(all.get(i)), e)));
        SweepReceipt summary = SweepReceipt.of(version, p.name(), imageRef,
            p.sweep().pass().yaml(), p.sweep().parameters(), found);
        AtomicFile.write(folder.resolve(SweepReceipt.FILE), summary.toJson());
        return summary;
      } catch (IOException e) {
        throw LabenvException.failed("project " + p.dir() + ": sweep: " + e.getMessage(), e);
      } finally {
        ProjectRunner.removeTree(staging);
      }
    }
  }

  /** Runs the tasks below {@code staging}; returns labenv's own failures by task index (the commands' are receipts). */
  private Map<Integer, String> runAll(ProjectFile p, Image image, List<SweepTask> tasks, Path staging, int jobs,
      Consumer<SweepReceipt.Task> ended) {
    Map<Integer, String> errors = new HashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, tasks.size()), r -> {
      Thread t = new Thread(r, "sweep-task");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (SweepTask t : tasks) {
        futures.add(pool.submit(() -> {
          Path root = staging.resolve(t.name());
          SweepReceipt.Task done;
          try {
            Files.createDirectories(root);
            runner.runTask(p, image, t, root, root.resolve(Collector.LOG));
            done = Collector.fromFolder(staging, List.of(t)).get(0);
          } catch (LabenvException | IOException e) {
            String why = "labenv could not run it: " + e.getMessage();
            synchronized (errors) {
              errors.put(t.index(), why);
            }
            done = Collector.missing(t, Collector.parameters(t), why);
          }
          synchronized (ended) {
            ended.accept(done);
          }
        }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw LabenvException.failed("sweep task failed unexpectedly: " + e.getCause(), e.getCause());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed("sweep interrupted", e);
    } finally {
      pool.shutdownNow();
    }
    return errors;
  }

  /** Puts {@code staged} where {@code target} is, the old one removed after: a reader sees one or the other. */
  static void replace(Path staged, Path target, Path work) throws IOException {
    Path old = work.resolve("old-" + AtomicFile.randomSuffix());
    Files.createDirectories(target.getParent());
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
    ProjectRunner.removeTree(old);
  }
}
