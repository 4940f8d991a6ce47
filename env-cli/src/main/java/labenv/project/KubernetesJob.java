package labenv.project;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import labenv.LabenvException;

/**
 * {@code labenv export k8s}: a project as a Kubernetes {@code batch/v1} Job that runs what {@code labenv run} runs.
 *
 * <ul>
 *   <li>The image by digest ({@code REGISTRY/NAME@sha256:...}), the task's exact argv as the container's
 *       {@code command}, the project's workdir, the hermetic variables and the project's {@code env}, requests equal to
 *       limits from {@code resources:} (cpus, memory), pod hostname {@code labenv}, no service links, no service account
 *       token.
 *   <li>A sweep is an Indexed Job ({@code completions} = tasks, {@code backoffLimitPerIndex: 0}: a failed task does not
 *       stop the others, nor is it retried). A POSIX shell line in front of the argv picks the task's variables or
 *       arguments by {@code JOB_COMPLETION_INDEX}, runs the argv unchanged as {@code "$@"}, and writes
 *       {@code labenv-status.json} (the exit code, and the digest of the task's plan) beside its outputs: the image needs
 *       {@code /bin/sh}, as every Debian or busybox image has.
 *   <li>Outputs go to the volume {@code outputs} (an emptyDir, or {@code --output-pvc}): task i's output directory DIR
 *       is {@code i/DIR} there, mounted at WORKDIR/DIR, which is what {@code labenv collect --from} reads.
 *   <li>Datasets, read-only: an init container running labenv pulls each dataset artifact by digest and exports it into
 *       the emptyDir {@code datasets}, mounted read-only at the dataset's path; or, for clusters with image volumes
 *       (Kubernetes 1.31+, feature gate ImageVolume), a volume {@code image: {reference: ...}} per dataset, the
 *       dataset's files as a one-layer image.
 * </ul>
 */
public final class KubernetesJob {
  private KubernetesJob() {}

  /** Where a task's folder of the output volume is mounted in the container, for its status file. */
  public static final String TASK_MOUNT = "/labenv-task";
  /** The variable holding the completion index, from the pod's annotation (so volume sub-paths can use it). */
  public static final String INDEX_VARIABLE = "LABENV_TASK_INDEX";
  static final String DATASETS_MOUNT = "/labenv-datasets";
  static final String STORE_MOUNT = "/labenv-store";
  static final String AUTH_MOUNT = "/labenv-auth";

  /** How datasets reach the pod. */
  public enum DatasetDelivery { INIT, IMAGE }

  /**
   * @param name the Job's name (a DNS label)
   * @param labenvImage the init container's image (with labenv on its PATH); only for {@link DatasetDelivery#INIT}
   * @param outputClaim a PersistentVolumeClaim for the outputs, or null for an emptyDir
   * @param pullSecret a Secret of type kubernetes.io/dockerconfigjson for the registry, or null
   * @param parallelism tasks at once, or null for all
   */
  public record Options(String name, String labenvImage, String outputClaim, DatasetDelivery datasets,
      String pullSecret, Integer parallelism) {}

  /** A dataset as the pod gets it: the project's key, where it is mounted, and the reference to pull (by digest). */
  public record Dataset(String key, String path, String reference) {}

  /** The Job's name for a project: its name as a DNS label, at most 52 characters (pods add -INDEX-XXXXX). */
  public static String name(ProjectFile p) {
    String n = p.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
    n = n.length() > 52 ? n.substring(0, 52).replaceAll("-+$", "") : n;
    return n.isEmpty() ? "labenv-job" : n;
  }

  /**
   * The Job for {@code tasks} (one without a sweep: a plain Job), each run as {@code plans} (same order) says, in
   * {@code image} (a reference by digest).
   */
  public static Map<String, Object> job(ProjectFile p, List<SweepTask> tasks, List<ProjectRunner.TaskPlan> plans,
      String image, List<Dataset> datasets, Options o) {
    if (tasks.isEmpty() || tasks.size() != plans.size()) {
      throw new IllegalArgumentException("one plan per task");
    }
    if (o.datasets() == DatasetDelivery.INIT && !datasets.isEmpty() && o.labenvImage() == null) {
      throw LabenvException.badInput("the datasets need an image with labenv to pull them (--labenv-image REF), or "
          + "--dataset-volumes image");
    }
    boolean indexed = p.sweep() != null;
    ProjectRunner.TaskPlan first = plans.get(0);
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/managed-by", "labenv");
    labels.put("labenv.io/job", o.name());

    Map<String, Object> container = new LinkedHashMap<>();
    container.put("name", "task");
    container.put("image", image);
    List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", wrapper(p, tasks, plans), "labenv-task"));
    // The argv is the same for every task but for the arguments, which the wrapper appends.
    command.addAll(argvWithoutTaskArgs(first, tasks.get(0)));
    container.put("command", command);
    container.put("workingDir", first.workdir());
    List<Map<String, Object>> env = new ArrayList<>();
    if (indexed) {
      env.add(map("name", INDEX_VARIABLE, "valueFrom", map("fieldRef", map("fieldPath",
          "metadata.annotations['batch.kubernetes.io/job-completion-index']"))));
    }
    for (String e : commonEnv(first, tasks.get(0))) {
      int eq = e.indexOf('=');
      env.add(variable(e.substring(0, eq), e.substring(eq + 1)));
    }
    container.put("env", env);
    Map<String, Object> quantities = new LinkedHashMap<>();
    quantities.put("cpu", cpu(first.limits().cpus()));
    if (first.limits().memory() != null) {
      quantities.put("memory", String.valueOf(first.limits().memory()));
    }
    // Requests equal to limits: the pod is Guaranteed, and gets the CPUs its thread variables promise.
    container.put("resources", map("requests", quantities, "limits", quantities));

    List<Map<String, Object>> mounts = new ArrayList<>();
    String sub = indexed ? "$(" + INDEX_VARIABLE + ")" : "0";
    for (String dir : first.outputs()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", "outputs");
      m.put("mountPath", Path.of(first.workdir()).resolve(dir).normalize().toString());
      m.put(indexed ? "subPathExpr" : "subPath", sub + "/" + dir);
      mounts.add(m);
    }
    Map<String, Object> taskMount = new LinkedHashMap<>();
    taskMount.put("name", "outputs");
    taskMount.put("mountPath", TASK_MOUNT);
    taskMount.put(indexed ? "subPathExpr" : "subPath", sub);
    mounts.add(taskMount);

    List<Map<String, Object>> volumes = new ArrayList<>();
    volumes.add(o.outputClaim() != null
        ? map("name", "outputs", "persistentVolumeClaim", map("claimName", o.outputClaim()))
        : map("name", "outputs", "emptyDir", map()));
    List<Map<String, Object>> initContainers = new ArrayList<>();
    if (!datasets.isEmpty()) {
      if (o.datasets() == DatasetDelivery.IMAGE) {
        for (int i = 0; i < datasets.size(); i++) {
          Dataset d = datasets.get(i);
          volumes.add(map("name", "dataset-" + i, "image", map("reference", d.reference(),
              "pullPolicy", "IfNotPresent")));
          mounts.add(mount("dataset-" + i, d.path(), null, true));
        }
      } else {
        volumes.add(map("name", "datasets", "emptyDir", map()));
        volumes.add(map("name", "labenv-store", "emptyDir", map()));
        for (int i = 0; i < datasets.size(); i++) {
          mounts.add(mount("datasets", datasets.get(i).path(), String.valueOf(i), true));
        }
        initContainers.add(fetcher(datasets, o));
        if (o.pullSecret() != null) {
          volumes.add(map("name", "registry-auth", "secret", map("secretName", o.pullSecret(), "items",
              List.of(map("key", ".dockerconfigjson", "path", "config.json")))));
        }
      }
    }
    container.put("volumeMounts", mounts);

    Map<String, Object> podSpec = new LinkedHashMap<>();
    podSpec.put("restartPolicy", "Never");
    podSpec.put("hostname", ProjectRunner.HOSTNAME);
    podSpec.put("enableServiceLinks", false);
    podSpec.put("automountServiceAccountToken", false);
    if (o.pullSecret() != null) {
      podSpec.put("imagePullSecrets", List.of(map("name", o.pullSecret())));
    }
    if (!initContainers.isEmpty()) {
      podSpec.put("initContainers", initContainers);
    }
    podSpec.put("containers", List.of(container));
    podSpec.put("volumes", volumes);

    Map<String, Object> spec = new LinkedHashMap<>();
    if (indexed) {
      spec.put("completionMode", "Indexed");
      spec.put("completions", tasks.size());
      spec.put("parallelism", o.parallelism() != null ? Math.min(o.parallelism(), tasks.size()) : tasks.size());
      spec.put("backoffLimitPerIndex", 0);
    } else {
      spec.put("completions", 1);
      spec.put("parallelism", 1);
      spec.put("backoffLimit", 0);
    }
    spec.put("template", map("metadata", map("labels", labels), "spec", podSpec));

    Map<String, Object> annotations = new LinkedHashMap<>();
    annotations.put("labenv.io/project", p.name());
    annotations.put("labenv.io/image", first.image().digest());
    annotations.put("labenv.io/tasks", String.valueOf(tasks.size()));
    if (first.limits().pids() != null) {
      // No pod field limits processes; the kubelet's podPidsLimit does, cluster-wide.
      annotations.put("labenv.io/pids-limit", String.valueOf(first.limits().pids()));
    }
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", o.name());
    metadata.put("labels", labels);
    metadata.put("annotations", annotations);

    Map<String, Object> job = new LinkedHashMap<>();
    job.put("apiVersion", "batch/v1");
    job.put("kind", "Job");
    job.put("metadata", metadata);
    job.put("spec", spec);
    return job;
  }

  /** The init container: pulls every dataset by digest into a store of its own, exports each into datasets/i. */
  private static Map<String, Object> fetcher(List<Dataset> datasets, Options o) {
    StringBuilder script = new StringBuilder("set -e\n");
    for (int i = 0; i < datasets.size(); i++) {
      String local = "dataset-" + i;
      script.append("labenv dataset pull ").append(quote(datasets.get(i).reference())).append(' ').append(local)
          .append('\n').append("labenv dataset export ").append(local).append(' ').append(DATASETS_MOUNT).append('/')
          .append(i).append('\n');
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("name", "datasets");
    c.put("image", o.labenvImage());
    c.put("command", List.of("/bin/sh", "-c", script.toString()));
    List<Map<String, Object>> env = new ArrayList<>();
    env.add(variable("LABENV_HOME", STORE_MOUNT));
    List<Map<String, Object>> mounts = new ArrayList<>();
    mounts.add(mount("datasets", DATASETS_MOUNT, null, false));
    mounts.add(mount("labenv-store", STORE_MOUNT, null, false));
    if (o.pullSecret() != null) {
      env.add(variable("DOCKER_CONFIG", AUTH_MOUNT));
      mounts.add(mount("registry-auth", AUTH_MOUNT, null, true));
    }
    c.put("env", env);
    c.put("volumeMounts", mounts);
    return c;
  }

  /** A mapping in the order given: the YAML comes out the same every time. */
  private static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  private static Map<String, Object> variable(String name, String value) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", name);
    v.put("value", value);
    return v;
  }

  private static Map<String, Object> mount(String volume, String path, String subPath, boolean readOnly) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", volume);
    m.put("mountPath", path);
    if (subPath != null) {
      m.put("subPath", subPath);
    }
    if (readOnly) {
      m.put("readOnly", true);
    }
    return m;
  }

  /**
   * The shell line in front of the argv: picks the task by index (its variables exported, its arguments appended to
   * "$@"), runs "$@", and records the exit code and the plan's digest for {@code collect}. Builtins only.
   */
  static String wrapper(ProjectFile p, List<SweepTask> tasks, List<ProjectRunner.TaskPlan> plans) {
    StringBuilder sb = new StringBuilder();
    sb.append("case \"${JOB_COMPLETION_INDEX:-0}\" in\n");
    for (int i = 0; i < tasks.size(); i++) {
      SweepTask t = tasks.get(i);
      sb.append("  ").append(t.index()).append(") labenv_plan=").append(Collector.planDigest(plans.get(i)));
      if (!t.env().isEmpty()) {
        sb.append("; export");
        t.env().forEach((k, v) -> sb.append(' ').append(k).append('=').append(quote(v)));
      }
      if (!t.args().isEmpty()) {
        sb.append("; set -- \"$@\"");
        t.args().forEach(a -> sb.append(' ').append(quote(a)));
      }
      sb.append(" ;;\n");
    }
    sb.append("  *) echo \"labenv: no task ${JOB_COMPLETION_INDEX:-0} in this job\" >&2; exit 2 ;;\n");
    sb.append("esac\n");
    sb.append("\"$@\"\n");
    sb.append("labenv_status=$?\n");
    sb.append("printf '{\"exitCode\":%d,\"plan\":\"%s\"}\\n' \"$labenv_status\" \"$labenv_plan\" > ")
        .append(TASK_MOUNT).append('/').append(Collector.STATUS).append('\n');
    sb.append("exit \"$labenv_status\"\n");
    return sb.toString();
  }

  /** The argv without the task's arguments (the wrapper adds them). */
  private static List<String> argvWithoutTaskArgs(ProjectRunner.TaskPlan plan, SweepTask task) {
    List<String> argv = plan.argv();
    return argv.subList(0, argv.size() - task.args().size());
  }

  /** The variables every task has: the plan's, less the task's own (the wrapper exports those). */
  private static List<String> commonEnv(ProjectRunner.TaskPlan plan, SweepTask task) {
    List<String> env = plan.env();
    return env.subList(0, env.size() - task.env().size());
  }

  /** Kubernetes' quantity for a CPU count: whole CPUs, else millicores. */
  static String cpu(double cpus) {
    if (cpus == Math.rint(cpus)) {
      return String.valueOf((long) cpus);
    }
    return Math.round(cpus * 1000) + "m";
  }

  /** A word for sh: single-quoted, its single quotes as '\''. */
  static String quote(String s) {
    if (s.matches("[A-Za-z0-9_./:@%+=,-]+")) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

  /** The Job as YAML. */
  public static String yaml(Map<String, Object> job) {
    try {
      String yaml = YAML.writeValueAsString(job);
      return yaml.endsWith("\n") ? yaml : yaml + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the Job as YAML", e);
    }
  }
}
