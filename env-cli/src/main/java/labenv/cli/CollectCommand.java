package labenv.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import labenv.LabenvException;
import labenv.cluster.Slurm;
import labenv.cluster.SlurmJobs;
import labenv.cluster.TaskPlans;
import labenv.cluster.TaskStatus;
import labenv.project.Collector;
import labenv.project.ProjectFile;
import labenv.project.ProjectRunner;
import labenv.project.Receipt;
import labenv.project.Sweep;
import labenv.project.SweepReceipt;
import labenv.project.SweepRunner;
import labenv.project.SweepTask;
import labenv.store.AtomicFile;
import labenv.store.Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code labenv collect --from PATH [DIR]}: a project's tasks, run elsewhere, brought back into it with their receipts.
 */
@Command(name = "collect", description = {"Bring a project's outputs back from where a cluster ran it, with receipts.",
    "--from PATH: a folder holding one folder per task (by name or index), as a Kubernetes Job writes its output "
        + "volume (labenv export k8s) or labenv run writes them: each task's output directories and its receipt.json, "
        + "or the status file the Job's wrapper writes (the receipt is then made from the project's plan, which must be "
        + "the one the Job ran). A sweep lands in sweep/ with sweep/sweep-receipt.json; a project without one gets its "
        + "outputs and receipt.json as labenv run gives them. Exits 1 when a task failed or is missing (the others are "
        + "kept)."})
final class CollectCommand extends Verb {
  @Option(names = "--from", paramLabel = "PATH",
      description = "The folder with the tasks' folders (e.g. a mounted output volume).")
  Path from;

  // added for Slurm: the tasks' folders of a job labenv submit --slurm recorded, its tasks as it planned them
  @Option(names = "--slurm", paramLabel = "JOBID", arity = "0..1", fallbackValue = "",
      description = "From a Slurm job submitted from the project (default: the latest): its tasks' folders in "
          + ".labenv/slurm/JOBID/; tasks still pending or running are collected as missing.")
  String slurm;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "the project (default: here)")
  Path dir;

  @Override
  public Integer call() {
    // --slurm takes an optional JOBID, which picocli gives it even when the word is the project: job ids are digits.
    if (slurm != null && !slurm.isEmpty() && !slurm.matches("[0-9]+")) {
      if (dir != null) {
        throw LabenvException.badInput("--slurm " + slurm + ": not a Slurm job id (digits)");
      }
      dir = Path.of(slurm);
      slurm = "";
    }
    Path project = (dir != null ? dir : Path.of("")).toAbsolutePath().normalize();
    ProjectFile p = ProjectFile.read(project);
    if ((from == null) == (slurm == null)) {
      throw LabenvException.badInput("collect needs --from PATH or --slurm [JOBID] (where the tasks ran)");
    }
    if (slurm != null) {
      SlurmJobs.Job job = SlurmJobs.find(project, slurm.isEmpty() ? null : slurm);
      TaskPlans.File planned = TaskPlans.read(project.resolve(job.plans()));
      unfinished(project, job);
      from = SlurmJobs.dir(project).resolve(job.id());
      return collect(project, p, TaskPlans.tasks(planned), t -> planned.task(t.index()).plan());
    }
    if (!Files.isDirectory(from)) {
      throw LabenvException.badInput("--from " + from + ": not a folder (the tasks' folders are read from it)");
    }
    List<SweepTask> tasks = Sweep.tasks(p);
    ProjectRunner runner = new ProjectRunner(store(), images(), containers(), VersionProvider.version());
    // The plans are needed only for tasks that left a status and no receipt (Kubernetes): the image is made then.
    Image[] image = {null};
    Function<SweepTask, ProjectRunner.TaskPlan> plans = t -> {
      if (image[0] == null) {
        image[0] = BaseImagesOnDemand.projectImage(this, runner, p, false);
      }
      return runner.plan(p, image[0], t);
    };
    return collect(project, p, tasks, plans);
  }

  /** Says which tasks of a Slurm job have not ended: they are collected as missing (collect again later). */
  private void unfinished(Path project, SlurmJobs.Job job) {
    java.util.Map<Integer, String> queue;
    try {
      queue = new Slurm(root.env).queue(job.id());
    } catch (LabenvException e) {
      return; // no Slurm here (the folder was copied off the cluster): the tasks' folders say all there is
    }
    List<String> waiting = TaskStatus.of(project, job, queue).stream()
        .filter(t -> t.state() == TaskStatus.State.pending || t.state() == TaskStatus.State.running)
        .map(t -> t.name() + " (" + t.state() + ")").toList();
    if (!waiting.isEmpty()) {
      err().println("labenv: job " + job.id() + ": " + waiting.size() + " task" + (waiting.size() == 1 ? "" : "s")
          + " not ended yet, collected as missing: " + String.join(", ", waiting) + " (collect again when they end)");
      err().flush();
    }
  }

  private int collect(Path project, ProjectFile p, List<SweepTask> tasks,
      Function<SweepTask, ProjectRunner.TaskPlan> plans) {
    Path work = project.resolve(".labenv");
    try (labenv.store.StoreLock lock = ProjectRunner.lock(p)) {
      Path staging = work.resolve("collect-" + AtomicFile.randomSuffix());
      try {
        Files.createDirectories(staging);
        for (SweepTask t : tasks) {
          Collector.copy(from, t, p.outputs(), staging);
        }
        List<SweepReceipt.Task> found = Collector.fromFolder(staging, tasks, p.name(), plans,
            VersionProvider.version());
        return p.sweep() != null ? sweep(p, tasks, found, staging, work, plans)
            : single(p, found.get(0), staging.resolve(tasks.get(0).name()), work);
      } catch (IOException e) {
        throw LabenvException.failed("collect into " + project + ": " + e.getMessage(), e);
      } finally {
        ProjectRunner.removeTree(staging);
      }
    }
  }

  private int sweep(ProjectFile p, List<SweepTask> tasks, List<SweepReceipt.Task> found, Path staging, Path work,
      Function<SweepTask, ProjectRunner.TaskPlan> plans) throws IOException {
    Receipt.ImageRef image = null;
    Map<String, Receipt> receipts = new HashMap<>();
    for (SweepReceipt.Task t : found) {
      if (t.receipt() != null) {
        receipts.put(t.name(), Receipt.read(staging.resolve(t.receipt())));
        image = image != null ? image : receipts.get(t.name()).image();
      }
    }
    if (image == null) {
      image = plans.apply(tasks.get(0)).image();
    }
    SweepReceipt summary = SweepReceipt.of(VersionProvider.version(), p.name(), image, p.sweep().pass().yaml(),
        p.sweep().parameters(), found);
    AtomicFile.write(staging.resolve(SweepReceipt.FILE), summary.toJson());
    Path folder = SweepRunner.folder(p);
    Path old = work.resolve("old-" + AtomicFile.randomSuffix());
    if (Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) {
      Files.move(folder, old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(staging, folder, StandardCopyOption.ATOMIC_MOVE);
    ProjectRunner.removeTree(old);
    for (SweepReceipt.Task t : found) {
      out().println("task " + t.name() + ": " + t.status() + (t.exitCode() != null && t.exitCode() != 0 ? " (exit "
          + t.exitCode() + ")" : ""));
      if (t.status() != SweepReceipt.Status.ok) {
        if (t.error() != null) {
          err().println("  " + t.error());
        }
        if (t.logTail() != null) {
          t.logTail().forEach(l -> err().println("  | " + l));
        }
      }
    }
    List<SweepReceipt.Task> bad = summary.unsuccessful();
    out().println("sweep receipt: " + folder.resolve(SweepReceipt.FILE));
    out().println("root: " + summary.root());
    out().println("outputs root: " + summary.outputsRoot());
    out().println(found.size() - bad.size() + " of " + found.size() + " tasks ok");
    out().flush();
    err().flush();
    return bad.isEmpty() ? ExitCode.OK : ExitCode.FAILED;
  }

  /** A project without a sweep: as {@code labenv run} leaves it (outputs replaced and receipt.json only on success). */
  private int single(ProjectFile p, SweepReceipt.Task t, Path task, Path work) throws IOException {
    if (t.status() != SweepReceipt.Status.ok) {
      Path failed = work.resolve("failed");
      if (t.status() == SweepReceipt.Status.failed || t.status() == SweepReceipt.Status.damaged) {
        ProjectRunner.removeTree(failed);
        Files.move(task, failed, StandardCopyOption.ATOMIC_MOVE);
      }
      throw LabenvException.failed(p.name() + ": " + t.status() + (t.error() != null ? ": " + t.error() : "")
          + (t.status() == SweepReceipt.Status.missing ? "" : "; the project's outputs are unchanged, what was "
              + "collected is in " + failed));
    }
    ProjectRunner.swapIn(p, task, work);
    Path receipt = p.dir().resolve(Receipt.FILE);
    Files.move(task.resolve(Receipt.FILE), receipt, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    out().println("receipt: " + receipt);
    out().println("outputs: " + t.outputsRoot());
    out().flush();
    return ExitCode.OK;
  }
}
