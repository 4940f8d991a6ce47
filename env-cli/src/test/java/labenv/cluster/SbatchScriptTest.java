package labenv.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch script, run by /bin/sh as Slurm would run one array task (its variables set), with a stand-in
 * {@code labenv} on PATH that records its arguments and exits as told.
 */
class SbatchScriptTest {
  @TempDir Path tmp;

  private SbatchScript script(Path project, Path store) {
    return new SbatchScript(project, "my analysis", 3, new SbatchScript.Resources("debug", "0:10:00", 2, "1536M"),
        store, List.of(List.of("pull", "reg.example:5000/lab/my-analysis@sha256:ab"),
            List.of("dataset", "pull", "reg.example:5000/lab/obs@sha256:cd", "obs:v1")),
        List.of("run", "--task", SbatchScript.TASK, "--into", SbatchScript.FOLDER, project.toString()));
  }

  /** Runs task {@code task} of job 42; the stand-in labenv fails with {@code failWith} when its first argument is run. */
  private int runTask(String text, int task, int failWith) throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path labenv = bin.resolve("labenv");
    Files.writeString(labenv, "#!/bin/sh\n"
        + "for a in \"$@\"; do printf '[%s]' \"$a\"; done; echo\n"
        + "echo \"LABENV_HOME=${LABENV_HOME:-}\"\n"
        + "echo complaint >&2\n"
        + "[ \"$1\" = run ] && exit " + failWith + "\nexit 0\n");
    Files.setPosixFilePermissions(labenv, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path file = tmp.resolve("job.sh");
    Files.writeString(file, text);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", file.toString());
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    pb.environment().put("SLURM_ARRAY_JOB_ID", "42");
    pb.environment().put("SLURM_ARRAY_TASK_ID", Integer.toString(task));
    pb.environment().remove("LABENV_HOME");
    pb.redirectErrorStream(true).redirectOutput(tmp.resolve("slurm.out").toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return p.exitValue();
  }

  @Test
  void aTaskFetchesThenRunsItsSweepTaskAndWritesItsLogThenItsExitStatusInItsFolder() throws Exception {
    Path project = Files.createDirectories(tmp.resolve("a project's folder"));
    String text = script(project, null).text();
    assertTrue(text.startsWith("#!/bin/sh\n#SBATCH --job-name=my-analysis\n#SBATCH --array=0-2\n"
        + "#SBATCH --output=.labenv/slurm/slurm-%A_%a.out\n#SBATCH --partition=debug\n#SBATCH --time=0:10:00\n"
        + "#SBATCH --cpus-per-task=2\n#SBATCH --mem=1536M\n"), text);

    assertEquals(0, runTask(text, 1, 0));
    Path folder = project.resolve(".labenv/slurm/42/1");
    assertEquals(List.of(
        "[pull][reg.example:5000/lab/my-analysis@sha256:ab]", "LABENV_HOME=", "complaint",
        "[dataset][pull][reg.example:5000/lab/obs@sha256:cd][obs:v1]", "LABENV_HOME=", "complaint",
        "[run][--task][1][--into][" + folder + "][" + project + "]", "LABENV_HOME=", "complaint"),
        Files.readAllLines(folder.resolve("task.log")));
    assertEquals("0\n", Files.readString(folder.resolve("exit")));
    assertEquals("", Files.readString(tmp.resolve("slurm.out")), "everything goes to the task's own log");
  }

  @Test
  void aFailingRunLeavesItsExitStatusAndASharedStoreIsTheTasksStore() throws Exception {
    Path project = Files.createDirectories(tmp.resolve("p"));
    Path store = tmp.resolve("shared store");
    SbatchScript s = new SbatchScript(project, "p", 1, new SbatchScript.Resources(null, null, null, null), store,
        List.of(), List.of("run", "--task", SbatchScript.TASK, "it's quoted"));
    String text = s.text();
    assertFalse(text.contains("--partition") || text.contains("--mem") || text.contains("--time"), text);
    assertEquals(3, runTask(text, 0, 3));
    Path folder = project.resolve(".labenv/slurm/42/0");
    assertEquals(List.of("[run][--task][0][it's quoted]", "LABENV_HOME=" + store, "complaint"),
        Files.readAllLines(folder.resolve("task.log")));
    assertEquals("3\n", Files.readString(folder.resolve("exit")));
    assertFalse(Files.exists(folder.resolve("exit.tmp")));
  }

  @Test
  void aFailedFetchStopsTheTaskWithItsStatus() throws Exception {
    Path project = Files.createDirectories(tmp.resolve("p"));
    SbatchScript s = new SbatchScript(project, "p", 1, new SbatchScript.Resources(null, null, null, null), null,
        List.of(List.of("run", "stands-in-for-a-failing-pull")), List.of("never"));
    assertEquals(5, runTask(s.text(), 0, 5));
    Path folder = project.resolve(".labenv/slurm/42/0");
    assertEquals(List.of("[run][stands-in-for-a-failing-pull]", "LABENV_HOME=", "complaint"),
        Files.readAllLines(folder.resolve("task.log")));
    assertEquals("5\n", Files.readString(folder.resolve("exit")));
  }

  @Test
  void resourcesSlurmWouldMisreadAreBadInput() {
    LabenvException e = assertThrows(LabenvException.class,
        () -> new SbatchScript.Resources("debug\n#SBATCH --uid=0", null, null, null));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith("--partition \"debug"), e.getMessage());
    assertThrows(LabenvException.class, () -> new SbatchScript.Resources(null, "1 day", null, null));
    assertThrows(LabenvException.class, () -> new SbatchScript.Resources(null, null, 0, null));
  }
}
