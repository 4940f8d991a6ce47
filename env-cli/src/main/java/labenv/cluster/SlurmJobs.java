package labenv.cluster;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.store.AtomicFile;
import labenv.store.StoreLock;

/**
 * The Slurm jobs submitted from a project: {@code .labenv/slurm/jobs.json}, newest last. Each job's tasks write into
 * {@code .labenv/slurm/JOBID/INDEX/} (the project is on a filesystem the nodes share), which is where {@code status} and
 * {@code collect} look.
 */
public final class SlurmJobs {
  public static final String DIR = ".labenv/slurm";
  public static final String FILE = "jobs.json";

  /** One task of a job: its array index and its sweep task's name. */
  @JsonPropertyOrder({"index", "name"})
  public record Task(int index, String name) {}

  /**
   * A submitted job. {@code image}: the digest the tasks run; {@code source}: where the nodes get it (a registry
   * reference by digest, or {@code store PATH} for a shared store); {@code datasets}: the same, per dataset;
   * {@code plans}: the file of the tasks' plans ({@link TaskPlans}), relative to the project.
   */
  @JsonPropertyOrder({"id", "project", "submitted", "image", "source", "datasets", "plans", "tasks"})
  public record Job(String id, String project, String submitted, String image, String source, List<String> datasets,
      String plans, List<Task> tasks) {
    public Job {
      datasets = List.copyOf(datasets);
      tasks = List.copyOf(tasks);
    }
  }

  record File(List<Job> jobs) {
    File {
      jobs = jobs == null ? List.of() : List.copyOf(jobs);
    }
  }

  private SlurmJobs() {}

  /** The folder of the project's Slurm jobs. */
  public static Path dir(Path project) {
    return project.resolve(DIR);
  }

  /** Where task {@code index} of {@code job} writes its log, exit status, receipt and outputs. */
  public static Path taskDir(Path project, String job, int index) {
    return dir(project).resolve(job).resolve(Integer.toString(index));
  }

  /** The project's jobs, oldest first (none when it never submitted one). */
  public static List<Job> read(Path project) {
    Path file = dir(project).resolve(FILE);
    byte[] data;
    try {
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
    return Json.parse(data, File.class, file.toString()).jobs();
  }

  /** Records {@code job}, atomically: a reader sees the list before or after, never half of it. */
  public static void add(Path project, Job job) {
    Path dir = dir(project);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw LabenvException.failed("cannot create " + dir + ": " + e.getMessage(), e);
    }
    // Two submits at once must not drop each other's job.
    try (StoreLock lock = StoreLock.exclusive(dir.resolve("lock"))) {
      List<Job> jobs = new ArrayList<>(read(project));
      jobs.add(job);
      AtomicFile.write(dir.resolve(FILE), Json.pretty(new File(jobs)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  /** The job {@code id}, or the latest when null; bad input when there is none. */
  public static Job find(Path project, String id) {
    List<Job> jobs = read(project);
    if (jobs.isEmpty()) {
      throw LabenvException.badInput("no Slurm job was submitted from " + project + " (labenv submit --slurm submits "
          + "one)");
    }
    if (id == null) {
      return jobs.get(jobs.size() - 1);
    }
    for (Job j : jobs) {
      if (j.id().equals(id)) {
        return j;
      }
    }
    throw LabenvException.badInput("no Slurm job " + id + " was submitted from " + project + " (its jobs: "
        + String.join(", ", jobs.stream().map(Job::id).toList()) + ")");
  }
}
