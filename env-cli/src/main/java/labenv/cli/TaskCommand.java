package labenv.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import labenv.cluster.TaskPlans;
import labenv.container.Launcher;
import labenv.project.OutputHashes;
import labenv.project.ProjectRunner;
import labenv.project.Receipt;
import labenv.store.AtomicFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code labenv task PLANS INDEX FOLDER}: what a cluster node runs for one task of a job that {@code labenv submit}
 * planned. The task runs from its plan alone (image and datasets by digest, argv, environment, workdir, limits: as
 * {@code labenv verify} re-runs a receipt), its outputs written into FOLDER and its receipt to FOLDER/receipt.json,
 * whatever the command's exit status: a failed task is recorded, not hidden. Exits with the command's status.
 */
@Command(name = "task", hidden = true, description = {"Run one task of a cluster job from its plan (labenv submit's "
    + "batch script calls it on the nodes).", "The outputs go into FOLDER, the receipt to FOLDER/receipt.json; exits "
    + "with the command's status."})
final class TaskCommand extends Verb {
  @Parameters(index = "0", paramLabel = "PLANS", description = "the job's plans (.labenv/slurm/plans/sha256-*.json)")
  Path plans;

  @Parameters(index = "1", paramLabel = "INDEX", description = "the task's index (the array task id)")
  int index;

  @Parameters(index = "2", paramLabel = "FOLDER", description = "where its outputs and receipt go")
  Path folder;

  @Override
  public Integer call() {
    TaskPlans.File file = TaskPlans.read(plans);
    TaskPlans.Entry entry = file.task(index);
    ProjectRunner.TaskPlan plan = entry.plan();
    Path root = folder.toAbsolutePath().normalize();
    try {
      Files.createDirectories(root);
      // A task Slurm runs again (requeued) starts from nothing: outputs of the attempt before are not its own.
      Files.deleteIfExists(root.resolve(Receipt.FILE));
      for (String dir : plan.outputs()) {
        ProjectRunner.removeTree(root.resolve(dir));
        if (Files.exists(root.resolve(dir))) {
          throw LabenvException.failed("cannot clear " + root.resolve(dir) + " of an earlier attempt");
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot prepare " + root + ": " + e.getMessage(), e);
    }
    // The plan is what a receipt records before the run: the runner runs it by digest, as verify does.
    Receipt planned = new Receipt(Receipt.SCHEMA, new Receipt.Tool(VersionProvider.version()), file.project(),
        plan.image(), plan.datasets(), plan.argv(), plan.workdir(), plan.env(), plan.limits(), "none",
        ProjectRunner.HOSTNAME, null, null, null, 0, new Receipt.Outputs(plan.outputs(), OutputHashes.root(List.of()),
        List.of()));
    ProjectRunner runner = new ProjectRunner(store(), images(), containers(), VersionProvider.version());
    Receipt r = runner.rerun(planned, root, Launcher.Stdio.inherit(false));
    AtomicFile.write(root.resolve(Receipt.FILE), r.toJson());
    err().println("labenv: task " + index + " (" + entry.task().name() + ") of " + file.project() + ": exit "
        + r.exitCode() + ", outputs " + r.outputs().root() + " (" + r.outputs().files().size() + " files)");
    err().flush();
    return r.exitCode();
  }
}
