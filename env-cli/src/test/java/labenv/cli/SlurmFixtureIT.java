package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import labenv.cli.RegistryFixture.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Slurm fixture itself: a job array runs on this host, and close leaves nothing running. */
class SlurmFixtureIT {
  @TempDir Path tmp;

  @Test
  void aJobArrayRunsOnThisHostAndCloseLeavesNothingRunning() throws Exception {
    Path dir;
    List<Long> pids;
    try (SlurmFixture slurm = SlurmFixture.start()) {
      dir = slurm.directory();
      pids = slurm.pids();
      Result submitted = slurm.client("sbatch", "--parsable", "--output=" + tmp + "/out-%j.txt", "--wrap", "hostname");
      assertEquals(0, submitted.code(), () -> submitted + slurm.logs());
      String job = submitted.out().strip();
      slurm.awaitDone(job, Duration.ofSeconds(60));
      assertEquals(slurm.node() + "\n", Files.readString(tmp.resolve("out-" + job + ".txt")));

      Result array = slurm.client("sbatch", "--parsable", "--array=0-2", "--output=" + tmp + "/arr-%A_%a.txt",
          "--wrap", "echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT; exit $SLURM_ARRAY_TASK_ID");
      assertEquals(0, array.code(), array::toString);
      String arrayJob = array.out().strip();
      slurm.awaitDone(arrayJob, Duration.ofSeconds(60));
      for (int i = 0; i < 3; i++) {
        assertEquals("task " + i + " of 3\n", Files.readString(tmp.resolve("arr-" + arrayJob + "_" + i + ".txt")));
      }
      // Finished jobs stay visible (without accounting, for MinJobAge) with their exit codes.
      Result states = slurm.client("squeue", "-h", "-r", "-t", "all", "-j", arrayJob, "-o", "%i %T %Q");
      assertTrue(states.out().contains(arrayJob + "_0 COMPLETED"), states::toString);
      assertTrue(states.out().contains(arrayJob + "_2 FAILED"), states::toString);

      // A job still running when the fixture closes is cancelled, not left behind.
      Result sleeper = slurm.client("sbatch", "--parsable", "--output=/dev/null", "--wrap", "sleep 600");
      assertEquals(0, sleeper.code(), sleeper::toString);
      String sleeping = sleeper.out().strip();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!slurm.client("squeue", "-h", "-j", sleeping, "-o", "%T").out().strip().equals("RUNNING")) {
        assertTrue(System.nanoTime() < deadline, slurm::logs);
        Thread.sleep(200);
      }
    }
    for (long pid : pids) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "daemon " + pid + " alive");
    }
    assertFalse(ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains("sleep 600")),
        "the job's sleep outlived the fixture");
    assertFalse(ProcessHandle.allProcesses().anyMatch(p -> p.info().command().orElse("").endsWith("slurmstepd")),
        "a slurmstepd outlived the fixture");
    assertFalse(Files.exists(dir), dir + " left after close");
  }
}
