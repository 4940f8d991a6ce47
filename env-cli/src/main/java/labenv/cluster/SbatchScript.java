package labenv.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * The batch script of a Slurm job array that runs a project's sweep tasks on the nodes, one array task per sweep task.
 * Each task gets the image and datasets ({@link #fetch}: {@code labenv pull}, {@code labenv dataset pull}, by digest;
 * nothing when the nodes share the submitter's store), runs its sweep task ({@link #run}) and leaves in
 * {@code .labenv/slurm/JOBID/INDEX/} of the project (on a filesystem the nodes share) its {@code log}, what the run
 * wrote, and last its {@code exit} status, which {@link TaskStatus} reads.
 *
 * <p>sbatch runs in the project folder, so the {@code #SBATCH} lines name paths relative to it (no quoting needed);
 * the script's own lines quote every word.
 *
 * @param project the project folder, absolute, as the nodes see it
 * @param store a store the nodes share with the submitter ({@code LABENV_HOME} in the tasks), or null: each node's own
 * @param fetch labenv commands (arguments after {@code labenv}) each task runs first
 * @param run the labenv command (arguments after {@code labenv}) that runs one task; {@link #TASK} and {@link #FOLDER}
 *     stand for the task's index and folder
 */
public record SbatchScript(Path project, String jobName, int tasks, Resources resources, Path store,
    List<List<String>> fetch, List<String> run) {

  /** In {@link #run}: the task's index ({@code $SLURM_ARRAY_TASK_ID}). */
  public static final String TASK = "\"$task\"";
  /** In {@link #run}: the task's folder, {@code .labenv/slurm/JOBID/INDEX} of the project. */
  public static final String FOLDER = "\"$dir\"";

  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

  /**
   * What each task asks Slurm for; null fields are left to the cluster's defaults.
   *
   * @param time Slurm's forms: MINUTES, HH:MM:SS, D-HH...
   * @param memory Slurm's {@code --mem}: a number with K, M, G or T
   */
  public record Resources(String partition, String time, Integer cpus, String memory) {
    public Resources {
      directive("--partition", partition);
      directive("--time", time);
      directive("--mem", memory);
      if (cpus != null && cpus < 1) {
        throw LabenvException.badInput("--cpus " + cpus + ": expected 1 or more");
      }
    }

    private static void directive(String option, String value) {
      if (value != null && !value.matches("[A-Za-z0-9_.:,+-]+")) {
        throw LabenvException.badInput(option + " \"" + value + "\": not a value Slurm takes (letters, digits, . : , "
            + "+ - _ only)");
      }
    }
  }

  public SbatchScript {
    if (tasks < 1) {
      throw new IllegalArgumentException("a job of no tasks");
    }
    fetch = fetch.stream().map(List::copyOf).toList();
    run = List.copyOf(run);
  }

  /** The script's text. */
  public String text() {
    StringBuilder s = new StringBuilder("#!/bin/sh\n");
    s.append("#SBATCH --job-name=").append(jobName.replaceAll("[^A-Za-z0-9_.-]", "-")).append('\n');
    s.append("#SBATCH --array=0-").append(tasks - 1).append('\n');
    s.append("#SBATCH --output=").append(SlurmJobs.DIR).append("/slurm-%A_%a.out\n");
    if (resources.partition() != null) {
      s.append("#SBATCH --partition=").append(resources.partition()).append('\n');
    }
    if (resources.time() != null) {
      s.append("#SBATCH --time=").append(resources.time()).append('\n');
    }
    if (resources.cpus() != null) {
      s.append("#SBATCH --cpus-per-task=").append(resources.cpus()).append('\n');
    }
    if (resources.memory() != null) {
      s.append("#SBATCH --mem=").append(resources.memory()).append('\n');
    }
    s.append("""
        # Written by labenv submit --slurm: one array task per sweep task of the project. Each task gets the image and
        # the datasets by digest, runs its sweep task hermetically, and leaves in .labenv/slurm/JOBID/TASK/ its log,
        # its receipt and outputs, and last its exit status (labenv status and labenv collect read them).
        """);
    if (store != null) {
      s.append("LABENV_HOME=").append(quote(store.toString())).append("\nexport LABENV_HOME\n");
    }
    s.append("task=\"$SLURM_ARRAY_TASK_ID\"\n");
    s.append("dir=").append(quote(project.resolve(SlurmJobs.DIR).toString()))
        .append("/\"$SLURM_ARRAY_JOB_ID\"/\"$task\"\n");
    s.append("mkdir -p \"$dir\" || exit 1\n");
    s.append("(\n  set -e\n");
    for (List<String> f : fetch) {
      s.append("  labenv").append(words(f)).append('\n');
    }
    s.append("  exec labenv").append(words(run)).append('\n');
    s.append(") >\"$dir/").append(TaskStatus.LOG_FILE).append("\" 2>&1 </dev/null\n");
    s.append("code=$?\n");
    s.append("printf '%s\\n' \"$code\" >\"$dir/").append(TaskStatus.EXIT_FILE).append(".tmp\" && mv \"$dir/")
        .append(TaskStatus.EXIT_FILE).append(".tmp\" \"$dir/").append(TaskStatus.EXIT_FILE).append("\"\n");
    s.append("exit \"$code\"\n");
    return s.toString();
  }

  private static String words(List<String> args) {
    List<String> out = new ArrayList<>();
    for (String a : args) {
      out.add(a.equals(TASK) || a.equals(FOLDER) ? a : quote(a));
    }
    return out.isEmpty() ? "" : " " + String.join(" ", out);
  }

  /** A word for sh: as is when it has nothing special, else in single quotes. */
  static String quote(String word) {
    return SAFE.matcher(word).matches() ? word : "'" + word.replace("'", "'\\''") + "'";
  }
}
