package labenv.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A task's state from its folder and the queue: the exit status it wrote wins over what squeue says. */
class TaskStatusTest {
  @TempDir Path project;

  private SlurmJobs.Job job(int tasks) {
    return new SlurmJobs.Job("7", "p", "2026-11-22T00:00:00Z", "sha256:00", "store /s", List.of(), "plans.json",
        IntStream.range(0, tasks).mapToObj(i -> new SlurmJobs.Task(i, "t" + i)).toList());
  }

  private void task(int index, String exit, String log) throws Exception {
    Path dir = Files.createDirectories(SlurmJobs.taskDir(project, "7", index));
    if (log != null) {
      Files.writeString(dir.resolve("task.log"), log);
    }
    if (exit != null) {
      Files.writeString(dir.resolve("exit"), exit);
    }
  }

  @Test
  void eachTaskIsPendingRunningDoneOrFailedWithItsExitStatusAndLogTail() throws Exception {
    StringBuilder longLog = new StringBuilder();
    for (int i = 1; i <= 15; i++) {
      longLog.append("line ").append(i).append('\n');
    }
    task(0, "0\n", "fine\n");
    task(1, "3\n", longLog.toString());
    task(2, null, "started\n");
    // 3: nothing yet; 4: the queue forgot it and it left no status; 5: cancelled by Slurm
    task(5, null, "half way\n");
    List<TaskStatus> s = TaskStatus.of(project, job(7), Map.of(0, "COMPLETED", 1, "FAILED", 2, "RUNNING",
        3, "PENDING", 5, "CANCELLED", 6, "PENDING"));

    assertEquals(List.of(TaskStatus.State.done, TaskStatus.State.failed, TaskStatus.State.running,
        TaskStatus.State.pending, TaskStatus.State.failed, TaskStatus.State.failed, TaskStatus.State.pending),
        s.stream().map(TaskStatus::state).toList());
    assertEquals(0, s.get(0).exitCode());
    assertEquals(List.of(), s.get(0).logTail());
    assertEquals(3, s.get(1).exitCode());
    assertNull(s.get(1).reason());
    assertEquals(10, s.get(1).logTail().size());
    assertEquals("line 6", s.get(1).logTail().get(0));
    assertEquals("line 15", s.get(1).logTail().get(9));
    assertNull(s.get(4).exitCode());
    assertTrue(s.get(4).reason().startsWith("gone from the queue without an exit status"), s.get(4).reason());
    assertTrue(s.get(4).reason().contains("slurm-7_4.out"), s.get(4).reason());
    assertTrue(s.get(5).reason().startsWith("Slurm says CANCELLED"), s.get(5).reason());
    assertEquals(List.of("half way"), s.get(5).logTail());
    assertEquals("t1", s.get(1).name());
    assertEquals(SlurmJobs.taskDir(project, "7", 1), s.get(1).folder());
  }

  @Test
  void anExitStatusWinsOverTheQueue() throws Exception {
    task(0, "0\n", "");
    task(1, "1\n", "boom\n");
    List<TaskStatus> s = TaskStatus.of(project, job(2), Map.of(0, "RUNNING", 1, "COMPLETING"));
    assertEquals(TaskStatus.State.done, s.get(0).state());
    assertEquals(TaskStatus.State.failed, s.get(1).state());
    assertEquals(List.of("boom"), s.get(1).logTail());
  }

  @Test
  void jobsAreRecordedNewestLastAndFoundByIdOrAsTheLatest() {
    SlurmJobs.add(project, job(1));
    SlurmJobs.Job second = new SlurmJobs.Job("8", "p", "2026-11-22T00:01:00Z", "sha256:00", "store /s", List.of(),
        "plans.json", List.of(new SlurmJobs.Task(0, "")));
    SlurmJobs.add(project, second);
    assertEquals(List.of("7", "8"), SlurmJobs.read(project).stream().map(SlurmJobs.Job::id).toList());
    assertEquals(second, SlurmJobs.find(project, null));
    assertEquals(job(1), SlurmJobs.find(project, "7"));
    labenv.LabenvException e = org.junit.jupiter.api.Assertions.assertThrows(labenv.LabenvException.class,
        () -> SlurmJobs.find(project, "9"));
    assertTrue(e.getMessage().contains("no Slurm job 9 was submitted from") && e.getMessage().endsWith("(its jobs: 7, 8)"),
        e.getMessage());
  }
}
