package labenv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.cluster.Slurm;
import labenv.cluster.SlurmJobs;
import labenv.cluster.TaskStatus;
import labenv.image.Json;
import labenv.project.ProjectFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "status", description = {"Show where the tasks of a project's Slurm job stand.",
    "Per task: pending, running, done or failed, from the exit status each task leaves in its folder "
        + "(.labenv/slurm/JOBID/TASK/) and what squeue still lists (no accounting database is needed). A failed task "
        + "shows its exit status and the end of its log."})
final class StatusCommand extends Verb {
  @Option(names = "--job", paramLabel = "JOBID", description = "a job submitted from the project (default: the latest)")
  String job;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "the project (default: this directory)")
  Path dir;

  @Override
  public Integer call() {
    Path project = SubmitCommand.project(dir);
    ProjectFile.read(project); // a folder that is no project is said so, not "no job"
    SlurmJobs.Job j = SlurmJobs.find(project, job);
    List<TaskStatus> tasks = TaskStatus.of(project, j, new Slurm(root.env).queue(j.id()));
    if (format == OutputFormat.json) {
      out().println(Json.pretty(json(j, tasks)));
      out().flush();
      return ExitCode.OK;
    }
    Map<TaskStatus.State, Integer> counts = counts(tasks);
    out().println("job " + j.id() + " (" + j.project() + ", submitted " + j.submitted() + "): " + summary(counts));
    TextTable table = new TextTable("TASK", "NAME", "STATE", "EXIT");
    for (TaskStatus t : tasks) {
      table.row(Integer.toString(t.index()), t.name(), t.state().name(),
          t.exitCode() == null ? "" : t.exitCode().toString());
    }
    table.print(out());
    for (TaskStatus t : tasks) {
      if (t.state() != TaskStatus.State.failed) {
        continue;
      }
      out().println();
      out().println("task " + t.index() + " (" + t.name() + ") failed" + (t.exitCode() != null ? " with exit status "
          + t.exitCode() : ": " + t.reason()) + "; " + (t.logTail().isEmpty() ? "it wrote no log"
          : "its log (" + project.relativize(t.folder().resolve(TaskStatus.LOG_FILE)) + ") ends:"));
      t.logTail().forEach(line -> out().println("  " + line));
    }
    out().flush();
    return ExitCode.OK;
  }

  static Map<TaskStatus.State, Integer> counts(List<TaskStatus> tasks) {
    Map<TaskStatus.State, Integer> counts = new LinkedHashMap<>();
    for (TaskStatus.State s : TaskStatus.State.values()) {
      counts.put(s, 0);
    }
    tasks.forEach(t -> counts.merge(t.state(), 1, Integer::sum));
    return counts;
  }

  static String summary(Map<TaskStatus.State, Integer> counts) {
    List<String> parts = new ArrayList<>();
    counts.forEach((s, n) -> {
      if (n > 0) {
        parts.add(n + " " + s.name());
      }
    });
    return String.join(", ", parts);
  }

  private static Map<String, Object> json(SlurmJobs.Job j, List<TaskStatus> tasks) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job", j.id());
    m.put("project", j.project());
    m.put("submitted", j.submitted());
    m.put("image", j.image());
    Map<String, Object> counts = new LinkedHashMap<>();
    counts(tasks).forEach((s, n) -> counts.put(s.name(), n));
    m.put("counts", counts);
    List<Map<String, Object>> list = new ArrayList<>();
    for (TaskStatus t : tasks) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("index", t.index());
      e.put("name", t.name());
      e.put("state", t.state().name());
      e.put("exitCode", t.exitCode());
      e.put("reason", t.reason());
      e.put("folder", t.folder().toString());
      e.put("logTail", t.logTail());
      list.add(e);
    }
    m.put("tasks", list);
    return m;
  }
}
