package labenv.project;

import java.util.List;
import java.util.Map;

/**
 * One task of a parameter sweep: its 0-based index (the Slurm array index, the Kubernetes completion index), a name
 * made of its parameters (for folders and logs), and what it adds to the project's command: environment variables
 * and trailing arguments. A project without a sweep is a single task with index 0 and nothing added.
 */
public record SweepTask(int index, String name, Map<String, String> env, List<String> args) {
  public SweepTask {
    // In the declared order: the order variables are set in, and arguments are given in, is part of the run.
    env = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(env));
    args = List.copyOf(args);
  }
}
