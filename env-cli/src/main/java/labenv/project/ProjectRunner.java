package labenv.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import labenv.LabenvException;
import labenv.build.BuildListener;
import labenv.build.BuildRequest;
import labenv.build.BuildResult;
import labenv.build.Builder;
import labenv.container.Container;
import labenv.container.ContainerSpec;
import labenv.container.ContainerState;
import labenv.container.Containers;
import labenv.container.Launcher;
import labenv.container.Limits;
import labenv.container.Monitor;
import labenv.container.RunOptions;
import labenv.dataset.DatasetStore;
import labenv.dataset.DatasetVersion;
import labenv.layer.LayerApplier;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;

/**
 * Runs an analysis hermetically and records it: {@link #run} for a project ({@code labenv run} in
 * its folder), {@link #rerun} for a receipt ({@code labenv verify}). Either way the container has no
 * network, a fixed hostname, a fixed locale, time zone, SOURCE_DATE_EPOCH, hash seed and math-library
 * thread counts, the datasets mounted read-only and only the output directories writable.
 */
public final class ProjectRunner {
  /** The container's hostname in every project run. */
  public static final String HOSTNAME = "labenv";
  /** Thread-count variables of OpenMP and the BLAS/LAPACK libraries: set to the CPU limit. */
  static final List<String> THREAD_VARIABLES = List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
      "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS");

  private final ContentStore store;
  private final ImageStore images;
  private final Containers containers;
  private final String version;

  public ProjectRunner(ContentStore store, ImageStore images, Containers containers, String labenvVersion) {
    this.store = store;
    this.images = images;
    this.containers = containers;
    this.version = labenvVersion;
  }

  /** What a run gave: its receipt, where it was written, and where the outputs are. */
  public record Result(Receipt receipt, Path receiptFile, Path outputs) {}

  /** The environment every project run gets, before the project's own {@code env}. */
  public static List<String> hermeticEnvironment(long sourceDateEpoch, double cpus) {
    List<String> env = new ArrayList<>(List.of("TZ=UTC", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
        "SOURCE_DATE_EPOCH=" + sourceDateEpoch, "PYTHONHASHSEED=0"));
    int threads = Math.max(1, (int) Math.ceil(cpus));
    THREAD_VARIABLES.forEach(v -> env.add(v + "=" + threads));
    return env;
  }

  /** The image a project names: built (cached) from its context and named NAME:latest, or the one given. */
  public Image image(ProjectFile p, BuildListener listener) {
    if (p.imageRef() != null) {
      return images.image(p.imageRef());
    }
    // What runs write (outputs, receipt, .labenv/) never goes into the image: the image would change with every run.
    Path context = p.dir().resolve(p.build());
    List<String> ignored = new ArrayList<>();
    for (String out : concat(p.outputs(), List.of(Receipt.FILE, ".labenv", ProjectFile.SWEEP_DIR))) {
      Path abs = p.dir().resolve(out);
      if (abs.startsWith(context) && !abs.equals(context)) {
        ignored.add("/" + context.relativize(abs));
      }
    }
    BuildRequest request = new BuildRequest(context, p.envfile() == null ? null : p.dir().resolve(p.envfile()),
        List.of(tag(p)), Map.of(), null, false, null, p.sourceDateEpoch(), null, null, ignored);
    BuildResult built = new Builder(images, listener).build(request);
    return images.image(built.manifest().digest().toString());
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** NAME:latest, NAME the project's name made a valid repository name. */
  static String tag(ProjectFile p) {
    String name = p.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-").replaceAll("^[^a-z0-9]+", "");
    return (name.isEmpty() ? "project" : name) + ":latest";
  }

  /**
   * Runs the project: its outputs are written to a staging directory in {@code .labenv/}; when the
   * command exits 0 they replace the project's output directories and {@code receipt.json} is
   * written beside {@code labenv.yaml}. Otherwise the project's outputs are left as they were, the
   * failed run's are kept in {@code .labenv/failed/} and no receipt is written.
   */
  public Result run(ProjectFile p, Image image, Launcher.Stdio stdio) {
    return run(p, image, plan(p, image), null, stdio);
  }

  /**
   * Runs {@code command} (an argv: the image's entrypoint is not used) instead of the project's, exactly as {@link
   * #run} runs the project's: same image, environment, datasets, limits, outputs, lock and failure handling. The
   * receipt describes {@code notebook} too ({@code labenv notebook run}).
   */
  public Result run(ProjectFile p, Image image, List<String> command, Receipt.NotebookRun notebook,
      Launcher.Stdio stdio) {
    return run(p, image, plan(p, image).withCommand(command), notebook, stdio);
  }

  /** The working directory of the project's command in the container: the project's, else the image's. */
  public String workdir(ProjectFile p, Image image) {
    return p.workdir() != null ? p.workdir() : workdir(image);
  }

  private Result run(ProjectFile p, Image image, Plan plan, Receipt.NotebookRun notebook, Launcher.Stdio stdio) {
    Path work = p.dir().resolve(".labenv");
    Path staging = work.resolve("run-" + AtomicFile.randomSuffix());
    try {
      Files.createDirectories(work);
    } catch (IOException ex) {
      throw LabenvException.failed("project " + p.dir() + ": cannot create " + work + ": " + ex.getMessage(), ex);
    }
    // Two runs of one project at once would swap each other's outputs: the second waits for the first.
    try (labenv.store.StoreLock lock = labenv.store.StoreLock.exclusive(work.resolve("lock"))) {
      return runLocked(p, image, stdio, plan, notebook, work, staging);
    }
  }

  /**
   * Holds the project's lock (the one {@link #run} takes): for what replaces its outputs, receipts or sweep folder
   * ({@code run --sweep}, {@code collect}).
   */
  public static labenv.store.StoreLock lock(ProjectFile p) {
    Path work = p.dir().resolve(".labenv");
    try {
      Files.createDirectories(work);
    } catch (IOException ex) {
      throw LabenvException.failed("project " + p.dir() + ": cannot create " + work + ": " + ex.getMessage(), ex);
    }
    return labenv.store.StoreLock.exclusive(work.resolve("lock"));
  }

  /**
   * What one task of a project runs, fully resolved: the image by digest, the datasets by digest, the exact argv (the
   * image's entrypoint and command applied), the variables labenv adds to the image's (the hermetic ones, the
   * project's env, the task's), the workdir, the output directories and the limits. What a cluster is given, and what
   * a receipt of a run elsewhere records.
   */
  public record TaskPlan(Receipt.ImageRef image, List<Receipt.DatasetRef> datasets, List<String> argv,
      List<String> env, String workdir, List<String> outputs, Receipt.Limits limits) {
    public TaskPlan {
      datasets = List.copyOf(datasets);
      argv = List.copyOf(argv);
      env = List.copyOf(env);
      outputs = List.copyOf(outputs);
    }
  }

  /** The plan of {@code task} of project {@code p} run in {@code image}. */
  public TaskPlan plan(ProjectFile p, Image image, SweepTask task) {
    Plan plan = plan(p, image);
    Receipt.Limits limits = new Receipt.Limits(plan.cpus(), plan.limits().memoryBytes() == 0 ? null
        : plan.limits().memoryBytes(), plan.limits().pids() == 0 ? null : plan.limits().pids());
    return new TaskPlan(imageRef(p, image), plan.datasets(), argv(p, image, plan, task), env(plan, task),
        plan.workdir(), p.outputs(), limits);
  }

  private static Receipt.ImageRef imageRef(ProjectFile p, Image image) {
    return new Receipt.ImageRef(image.descriptor().digest().toString(), p.imageRef() != null ? p.imageRef()
        : "build " + p.build());
  }

  private static List<String> env(Plan plan, SweepTask task) {
    List<String> env = new ArrayList<>(plan.env());
    task.env().forEach((k, v) -> env.add(k + "=" + v));
    return env;
  }

  /**
   * The argv a task runs, as the container's process gets it: the image's entrypoint, then the project's command (or
   * the image's), then the task's arguments. A shell command gets them as "$@" ($0 is sh).
   */
  private static List<String> argv(ProjectFile p, Image image, Plan plan, SweepTask task) {
    List<String> argv = new ArrayList<>();
    if (p.shellCommand()) {
      argv.addAll(plan.command());
      if (!task.args().isEmpty()) {
        argv.add("sh");
      }
    } else {
      labenv.image.ImageConfig.Config config = image.config().config() != null ? image.config().config()
          : labenv.image.ImageConfig.Config.empty();
      if (config.entrypoint() != null) {
        argv.addAll(config.entrypoint());
      }
      argv.addAll(p.command() != null ? p.command() : config.cmd() != null ? config.cmd() : List.of());
    }
    argv.addAll(task.args());
    if (argv.isEmpty()) {
      throw LabenvException.badInput("project " + p.dir() + ": no command: the image has no Entrypoint or Cmd and "
          + ProjectFile.FILE + " gives none");
    }
    return argv;
  }

  /**
   * Runs one task of the project (the caller holds {@link #lock}): its outputs are written below {@code root}
   * (root/DIR for each output directory, created empty), its receipt to root/receipt.json whatever the command's
   * exit status (a failed task is recorded, not hidden), and its output (stdout and stderr) to {@code log}.
   */
  public Result runTask(ProjectFile p, Image image, SweepTask task, Path root, Path log) {
    Plan plan = plan(p, image);
    TaskPlan t = plan(p, image, task);
    try {
      Files.createDirectories(root);
      Execution e;
      try (java.io.OutputStream out = Files.newOutputStream(log)) {
        e = execute(image, "", t.argv(), t.env(), t.workdir(), t.datasets(), p.outputs(), root, plan.limits(),
            p.name() + "/" + task.name(), Variation.NONE, Launcher.Stdio.output(out));
      }
      Receipt receipt = plan.receipt(e, p, image);
      Path receiptFile = root.resolve(Receipt.FILE);
      AtomicFile.write(receiptFile, receipt.toJson());
      return new Result(receipt, receiptFile, root);
    } catch (IOException ex) {
      throw LabenvException.failed("project " + p.dir() + ", task " + task.name() + ": " + ex.getMessage(), ex);
    }
  }

  private Result runLocked(ProjectFile p, Image image, Launcher.Stdio stdio, Plan plan, Receipt.NotebookRun notebook,
      Path work, Path staging) {
    try {
      Files.createDirectories(staging);
      Execution e = execute(image, plan.entrypoint(), plan.command(), plan.env(), plan.workdir(), plan.datasets(),
          p.outputs(), staging, plan.limits(), p.name(), Variation.NONE, stdio);
      Receipt receipt = plan.receipt(e, p, image);
      if (notebook != null) {
        receipt = receipt.withNotebook(notebook);
      }
      if (e.exitCode() != 0) {
        Path failed = work.resolve("failed");
        removeTree(failed);
        Files.move(staging, failed, StandardCopyOption.ATOMIC_MOVE);
        return new Result(receipt, null, failed);
      }
      swapIn(p, staging, work);
      Path receiptFile = p.dir().resolve(Receipt.FILE);
      AtomicFile.write(receiptFile, receipt.toJson());
      return new Result(receipt, receiptFile, p.dir());
    } catch (IOException ex) {
      throw LabenvException.failed("project " + p.dir() + ": " + ex.getMessage(), ex);
    } finally {
      removeTree(staging);
    }
  }

  /**
   * Replaces each output directory of {@code p} with the one under {@code from} (an empty one when {@code from} has
   * none), each by a rename; the old one is moved aside into {@code work} first, then removed.
   */
  public static void swapIn(ProjectFile p, Path from, Path work) throws IOException {
    for (String out : p.outputs()) {
      Path target = p.dir().resolve(out);
      Path old = work.resolve("old-" + AtomicFile.randomSuffix());
      Files.createDirectories(target.getParent());
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      }
      if (Files.exists(from.resolve(out), LinkOption.NOFOLLOW_LINKS)) {
        Files.move(from.resolve(out), target, StandardCopyOption.ATOMIC_MOVE);
      } else {
        Files.createDirectories(target);
      }
      removeTree(old);
    }
  }

  /** What a project's run is made of, before any variation. */
  private record Plan(String version, List<Receipt.DatasetRef> datasets, String workdir, List<String> env,
      String entrypoint, List<String> command, double cpus, Limits limits) {
    Plan withCommand(List<String> argv) {
      return new Plan(version, datasets, workdir, env, "", List.copyOf(argv), cpus, limits);
    }

    Receipt receipt(Execution e, ProjectFile p, Image image) {
      return e.receipt(version, p.name(), new Receipt.ImageRef(image.descriptor().digest().toString(),
          p.imageRef() != null ? p.imageRef() : "build " + p.build()), datasets, workdir, p.outputs(),
          new Receipt.Limits(cpus, limits.memoryBytes() == 0 ? null : limits.memoryBytes(),
              limits.pids() == 0 ? null : limits.pids()));
    }
  }

  private Plan plan(ProjectFile p, Image image) {
    List<Receipt.DatasetRef> datasets = new ArrayList<>();
    DatasetStore ds = new DatasetStore(store);
    for (Map.Entry<String, String> d : p.datasets().entrySet()) {
      DatasetVersion v = ds.resolve(d.getKey());
      datasets.add(new Receipt.DatasetRef(d.getKey(), v.digest().toString(), d.getValue()));
    }
    String workdir = workdir(p, image);
    double cpus = cpus(p.cpus());
    List<String> env = new ArrayList<>(hermeticEnvironment(p.sourceDateEpoch(), cpus));
    p.env().forEach((k, v) -> env.add(k + "=" + v));
    List<String> command = p.command() == null ? List.of() : p.shellCommand()
        ? List.of("/bin/sh", "-c", p.command().get(0)) : p.command();
    Limits limits = limits(cpus, p.memory() == null ? null : Limits.memory(p.memory()), p.pids());
    return new Plan(version, datasets, workdir, env, p.shellCommand() ? "" : null, command, cpus, limits);
  }

  /**
   * One of the deliberate changes of conditions {@code labenv check} makes (reprotest's idea): what the analysis
   * should not depend on. NONE is the project's own run.
   */
  public enum Variation {
    NONE("nothing varied (a second run, later: randomness and wall-clock time)"),
    HOSTNAME("the hostname (labenv-check instead of labenv)"),
    ENVIRONMENT_ORDER("the order of the environment variables (reversed)"),
    CPU_COUNT("the CPU count (one more CPU, and one more thread for OpenMP/BLAS)"),
    LISTING_ORDER("the order directories of the datasets list their entries in (reversed)"),
    UMASK("the umask (0077 instead of 0022)"),
    LOCALE("the locale (fr_FR.UTF-8 instead of C.UTF-8)");

    private final String description;

    Variation(String description) {
      this.description = description;
    }

    public String description() {
      return description;
    }
  }

  /**
   * Runs the project once under {@code variation}, its outputs written below {@code outputs} (not the project's),
   * for {@code labenv check}. Returns the run's receipt (never written anywhere).
   */
  public Receipt trial(ProjectFile p, Image image, Variation variation, Path outputs, Launcher.Stdio stdio) {
    Plan plan = plan(p, image);
    List<String> env = new ArrayList<>(plan.env());
    List<String> command = plan.command();
    String entrypoint = plan.entrypoint();
    double cpus = plan.cpus();
    switch (variation) {
      case CPU_COUNT -> {
        cpus = cpus + 1;
        int threads = Math.max(1, (int) Math.ceil(cpus));
        env.replaceAll(e -> THREAD_VARIABLES.contains(e.substring(0, e.indexOf('='))) ? e.substring(0, e.indexOf('='))
            + "=" + threads : e);
      }
      case LOCALE -> env.addAll(List.of("LANG=fr_FR.UTF-8", "LC_ALL=fr_FR.UTF-8", "LANGUAGE=fr_FR"));
      case UMASK -> env.add(labenv.linux.Init.UMASK_VARIABLE + "=0077"); // Init sets it, and drops the variable
      default -> {
        // the others are applied by execute
      }
    }
    Limits limits = variation == Variation.CPU_COUNT ? limits(cpus, plan.limits().memoryBytes() == 0 ? null
        : plan.limits().memoryBytes(), plan.limits().pids() == 0 ? null : plan.limits().pids()) : plan.limits();
    try {
      Files.createDirectories(outputs);
      Execution e = execute(image, entrypoint, command, env, plan.workdir(), plan.datasets(), p.outputs(), outputs,
          limits, p.name(), variation, stdio);
      return plan.receipt(e, p, image);
    } catch (IOException ex) {
      throw LabenvException.failed("project " + p.dir() + ": " + ex.getMessage(), ex);
    }
  }

  /**
   * Runs what {@code receipt} records again, by digest, with its outputs written below {@code outputs}
   * (a new or empty directory). Returns the new run's receipt (its outputs hashed).
   */
  public Receipt rerun(Receipt r, Path outputs, Launcher.Stdio stdio) {
    Image image;
    try {
      image = images.image(r.image().digest());
    } catch (LabenvException e) {
      throw LabenvException.failed("image " + r.image().digest() + " (" + r.image().source() + ") is not in the store:"
          + " get it with labenv load ARCHIVE (from labenv save), or rebuild it from its project", e);
    }
    DatasetStore ds = new DatasetStore(store);
    for (Receipt.DatasetRef d : r.datasets()) {
      try {
        ds.resolve(d.digest());
      } catch (LabenvException e) {
        throw LabenvException.failed("dataset " + d.name() + " (" + d.digest() + ") is not in the store: get it with "
            + "labenv load ARCHIVE (from labenv save --dataset " + d.name() + "), or labenv dataset add", e);
      }
    }
    Limits limits = limits(r.limits().cpus(), r.limits().memory(), r.limits().pids());
    try {
      Files.createDirectories(outputs);
      Execution e = execute(image, "", r.command(), r.environment(), r.workdir(), r.datasets(), r.outputs().dirs(),
          outputs, limits, r.project(), Variation.NONE, stdio);
      Receipt again = e.receipt(version, r.project(), r.image(), r.datasets(), r.workdir(), r.outputs().dirs(),
          r.limits());
      return r.notebook() == null ? again : again.withNotebook(r.notebook());
    } catch (IOException ex) {
      throw LabenvException.failed("cannot re-run " + r.project() + ": " + ex.getMessage(), ex);
    }
  }

  /** One container run and what is known once it ended. */
  private record Execution(List<String> args, List<String> env, String started, String ended, int exitCode,
      List<Receipt.OutputFile> files) {
    Receipt receipt(String version, String project, Receipt.ImageRef image, List<Receipt.DatasetRef> datasets,
        String workdir, List<String> dirs, Receipt.Limits limits) {
      return new Receipt(Receipt.SCHEMA, new Receipt.Tool(version), project, image, datasets, args, workdir, env,
          limits, "none", HOSTNAME, host(), started, ended, exitCode,
          new Receipt.Outputs(dirs, OutputHashes.root(files), files));
    }
  }

  private Execution execute(Image image, String entrypoint, List<String> command, List<String> env, String workdir,
      List<Receipt.DatasetRef> datasets, List<String> outputDirs, Path outputs, Limits limits, String name,
      Variation variation, Launcher.Stdio stdio) throws IOException {
    List<ContainerSpec.Mount> mounts = new ArrayList<>();
    DatasetStore ds = new DatasetStore(store);
    try (ReorderedTrees reordered = variation == Variation.LISTING_ORDER ? ReorderedTrees.mount(outputs.resolveSibling(
        outputs.getFileName() + "-datasets")) : null) {
      for (Receipt.DatasetRef d : datasets) {
        DatasetVersion v = ds.resolve(d.digest());
        Path tree = ds.tree(v.manifest());
        mounts.add(ContainerSpec.Mount.bind((reordered != null ? reordered.copy(tree) : tree).toString(), d.path(), true));
      }
      return execute(image, entrypoint, command, env, workdir, outputDirs, outputs, limits, name, variation, stdio,
          mounts);
    }
  }

  private Execution execute(Image image, String entrypoint, List<String> command, List<String> env, String workdir,
      List<String> outputDirs, Path outputs, Limits limits, String name, Variation variation, Launcher.Stdio stdio,
      List<ContainerSpec.Mount> mounts) throws IOException {
    for (String dir : outputDirs) {
      Path host = outputs.resolve(dir);
      Files.createDirectories(host);
      mounts.add(ContainerSpec.Mount.bind(host.toString(), Path.of(workdir).resolve(dir).normalize().toString(),
          false));
    }
    RunOptions options = new RunOptions(entrypoint, command, env, workdir, null,
        variation == Variation.HOSTNAME ? "labenv-check" : HOSTNAME, mounts, ContainerSpec.Network.NONE, false);
    if (variation == Variation.ENVIRONMENT_ORDER) {
      options = options.withEnvironmentReversed();
    }
    Launcher launcher = new Launcher(store);
    Container container = launcher.create(image, options, null);
    ContainerState state = ContainerState.created(container, name, image.descriptor().digest().toString(), true,
        false, false, List.of(), limits);
    String started = Instant.now().toString();
    Launcher.Exit exit = Monitor.supervise(containers, launcher, container, state, stdio);
    String ended = Instant.now().toString();
    List<Receipt.OutputFile> files = OutputHashes.hash(outputs, outputDirs);
    return new Execution(container.spec().process().args(), container.spec().process().env(), started, ended,
        exit.status(), files);
  }

  static double cpus(Double cpus) {
    return cpus == null ? 1 : cpus;
  }

  private static Limits limits(double cpus, Long memory, Long pids) {
    Limits l = Limits.NONE.withCpuQuota(Limits.cpuQuota(Double.toString(cpus)));
    if (memory != null) {
      l = l.withMemory(memory);
    }
    if (pids != null) {
      l = l.withPids(pids);
    }
    return l;
  }

  private static String workdir(Image image) {
    String w = image.config().config() == null ? null : image.config().config().workingDir();
    return w == null || w.isEmpty() ? "/" : w;
  }

  static Receipt.Host host() {
    String kernel = read("/proc/sys/kernel/osrelease");
    String model = "unknown";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        if (line.startsWith("model name")) {
          model = line.substring(line.indexOf(':') + 1).strip();
          break;
        }
      }
    } catch (IOException e) {
      // unknown
    }
    return new Receipt.Host(kernel, labenv.image.Platform.host().architecture(), model,
        Runtime.getRuntime().availableProcessors());
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** Removes a directory tree (read-only entries too), if it is there; a failure leaves it (under the store or .labenv). */
  public static void removeTree(Path p) {
    try {
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        new LayerApplier().remove(p);
      }
    } catch (RuntimeException e) {
      // left behind, under <store>/check, <store>/verify or the project's .labenv: harmless, removable by hand
    }
  }
}
