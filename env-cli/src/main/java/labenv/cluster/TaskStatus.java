package labenv.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where one task of a Slurm job stands, from what it left in its folder and what {@code squeue} still says. The
 * folder wins: a task's script writes its exit status ({@value #EXIT_FILE}) last, so a task with one is over whatever
 * the queue says; a task without one is as the queue says, and one the queue no longer lists ended without reaching
 * its last line (cancelled, out of time, its node lost).
 *
 * @param exitCode the task's exit status, null when it has none (yet)
 * @param reason for a failed task without an exit status: Slurm's state (CANCELLED, TIMEOUT...), or why none is known
 * @param logTail the last lines of its log, for a failed task
 */
public record TaskStatus(int index, String name, State state, Integer exitCode, String reason, Path folder,
    List<String> logTail) {

  public static final String EXIT_FILE = "exit";
  public static final String LOG_FILE = labenv.project.Collector.LOG;
  static final int TAIL_LINES = 10;

  public TaskStatus {
    logTail = List.copyOf(logTail);
  }

  public enum State { pending, running, done, failed }

  /** Every task of {@code job}, given the queue's states by task index ({@link Slurm#queue}). */
  public static List<TaskStatus> of(Path project, SlurmJobs.Job job, Map<Integer, String> queue) {
    List<TaskStatus> out = new ArrayList<>();
    for (SlurmJobs.Task t : job.tasks()) {
      out.add(of(SlurmJobs.taskDir(project, job.id(), t.index()), t, queue.get(t.index())));
    }
    return out;
  }

  static TaskStatus of(Path folder, SlurmJobs.Task task, String queued) {
    Integer exit = exitCode(folder);
    if (exit != null) {
      return exit == 0 ? new TaskStatus(task.index(), task.name(), State.done, 0, null, folder, List.of())
          : new TaskStatus(task.index(), task.name(), State.failed, exit, null, folder, tail(folder));
    }
    if (queued == null) {
      return new TaskStatus(task.index(), task.name(), State.failed, null, "gone from the queue without an exit status"
          + " (cancelled, out of time or its node lost; Slurm's own log: " + slurmLog(folder) + ")", folder,
          tail(folder));
    }
    return switch (queued) {
      case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED" ->
          new TaskStatus(task.index(), task.name(), State.pending, null, null, folder, List.of());
      case "RUNNING", "CONFIGURING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING" ->
          new TaskStatus(task.index(), task.name(), State.running, null, null, folder, List.of());
      // Over, with no exit status written: the script never reached its end.
      default -> new TaskStatus(task.index(), task.name(), State.failed, null, "Slurm says " + queued + " (its own log: "
          + slurmLog(folder) + ")", folder, tail(folder));
    };
  }

  /** What Slurm itself wrote for the task ({@code #SBATCH --output}), beside the job's folder. */
  public static Path slurmLog(Path folder) {
    return folder.getParent().resolveSibling("slurm-" + folder.getParent().getFileName() + "_" + folder.getFileName()
        + ".out");
  }

  private static Integer exitCode(Path folder) {
    try {
      String s = Files.readString(folder.resolve(EXIT_FILE), StandardCharsets.UTF_8).strip();
      return s.matches("[0-9]{1,3}") ? Integer.valueOf(s) : null;
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The last {@link #TAIL_LINES} lines of the task's log (none when it wrote no log). */
  static List<String> tail(Path folder) {
    try {
      List<String> lines = Files.readAllLines(folder.resolve(LOG_FILE), StandardCharsets.ISO_8859_1);
      return lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size());
    } catch (IOException e) {
      return List.of();
    }
  }
}
