package labenv.cluster;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.project.ProjectRunner;
import labenv.project.SweepTask;
import labenv.store.AtomicFile;

/**
 * What a cluster job's tasks run, resolved where it was submitted: one {@link ProjectRunner.TaskPlan} per task (the
 * image and datasets by digest, the exact argv, environment, workdir, outputs and limits). A node runs its task from
 * this alone ({@code labenv task}), without the project's labenv.yaml, which may change while the job waits.
 *
 * <p>Stored in {@code .labenv/slurm/plans/sha256-HEX.json}, named by the digest of its canonical form: written once,
 * never changed, so a job's tasks read what was submitted however many submissions follow.
 */
public final class TaskPlans {
  /** A sweep task (its index, name and parameters) and what it runs. */
  @JsonPropertyOrder({"task", "plan"})
  public record Entry(SweepTask task, ProjectRunner.TaskPlan plan) {}

  @JsonPropertyOrder({"project", "tasks"})
  public record File(String project, List<Entry> tasks) {
    public File {
      tasks = List.copyOf(tasks);
    }

    /** Task {@code index}; bad input when the file has none. */
    public Entry task(int index) {
      for (Entry e : tasks) {
        if (e.task().index() == index) {
          return e;
        }
      }
      throw LabenvException.badInput("no task " + index + " in the plans of " + project + " (it has " + tasks.size()
          + ")");
    }
  }

  private TaskPlans() {}

  /** Writes the plans of {@code tasks} into {@code dir}/plans/ and returns the file (absolute). */
  public static Path write(Path dir, String project, List<SweepTask> tasks, List<ProjectRunner.TaskPlan> plans) {
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < tasks.size(); i++) {
      entries.add(new Entry(tasks.get(i), plans.get(i)));
    }
    byte[] data = Json.canonical(new File(project, entries));
    Path file = dir.resolve("plans").resolve(Digest.of(data).toString().replace(':', '-') + ".json")
        .toAbsolutePath();
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw LabenvException.failed("cannot create " + file.getParent() + ": " + e.getMessage(), e);
    }
    if (!Files.exists(file)) {
      AtomicFile.write(file, data);
    }
    return file;
  }

  public static File read(Path file) {
    byte[] data;
    try {
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such task plans (labenv submit writes them; is the project's folder "
          + "shared with this node?)");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
    return Json.parse(data, File.class, file.toString());
  }

  /** The sweep tasks of a plans file, in order. */
  public static List<SweepTask> tasks(File f) {
    return f.tasks().stream().map(Entry::task).toList();
  }
}
