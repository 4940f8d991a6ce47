package labenv.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import labenv.LabenvException;
import labenv.container.Container;
import labenv.container.ContainerSpec;
import labenv.container.ContainerState;
import labenv.container.Containers;
import labenv.container.Launcher;
import labenv.container.Limits;
import labenv.container.Monitor;
import labenv.container.PortForwarder;
import labenv.container.PortMapping;
import labenv.container.RunOptions;
import labenv.notebook.JupyterServer;
import labenv.project.ProjectFile;
import labenv.project.ProjectRunner;
import labenv.store.Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

/**
 * {@code labenv notebook [DIR|IMAGE]}: a Jupyter server in the analysis's container, its folder mounted at /work,
 * published on 127.0.0.1 with a token of labenv's; the URL is printed once the server answers. Headless execution
 * ({@code labenv notebook run}, {@link HeadlessRun}) is its subcommand.
 */
@Command(name = "notebook",
    description = {"Start Jupyter (JupyterLab, Notebook or Server, whichever the image has) in a container and print "
        + "its URL once it answers; ^C stops it.",
        "DIR (default: the current directory) is a project: its image is built as labenv run builds it, the folder is "
        + "mounted read-write at /work (the working directory), its datasets read-only at their paths, with run's "
        + "environment and limits. IMAGE runs that image with --dir (default: the current directory) at /work.",
        "The server listens on the container's loopback, published on 127.0.0.1 at a free port (or -p), with a random "
        + "token; the container has no other network unless --network host."},
    subcommands = {NotebookCommand.Run.class})
final class NotebookCommand extends Verb {
  /** How long a detached server may take to answer before labenv gives up and stops it. */
  static final Duration DETACHED_START = Duration.ofSeconds(180);
  /** Where the folder is mounted, and the server's working directory. */
  static final String WORK = "/work";

  @Parameters(index = "0", arity = "0..1", paramLabel = "DIR|IMAGE",
      description = "a project folder (with labenv.yaml; default: the current directory), or an image")
  String target;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "With an IMAGE: the folder mounted read-write at /work (default: the current directory).")
  Path dir;

  @Option(names = {"-p", "--port"}, paramLabel = "HOSTPORT",
      description = "The port on 127.0.0.1 (default: a free one).")
  String port;

  @Option(names = {"-d", "--detach"},
      description = "Run in the background: print the container id and the URL (labenv ps lists it, labenv stop "
          + "stops it).")
  boolean detach;

  @Option(names = "--name", paramLabel = "NAME", description = "A name for the container.")
  String name;

  @Option(names = "--network", paramLabel = "none|host",
      description = "none (default: the container's own loopback only) or host: the host's network, the server on "
          + "the host's 127.0.0.1 itself, and the notebook's code can reach whatever this machine can.")
  String network = "none";

  /** What the server runs: an image, the folder at /work, and what a project adds. */
  private record Plan(Image image, String label, Path folder, List<String> env, List<ContainerSpec.Mount> datasets,
      String hostname, Limits limits) {}

  @Override
  public Integer call() {
    ContainerSpec.Network net = switch (network) {
      case "none" -> ContainerSpec.Network.NONE;
      case "host" -> ContainerSpec.Network.HOST;
      default -> throw LabenvException.badInput("--network \"" + network + "\": expected none or host");
    };
    // A port given is checked before anything is built or made; one of the kernel's picking, after the build.
    int hostPort = port == null ? 0 : available(port(port));
    Plan plan = plan();
    hostPort = hostPort == 0 ? freePort() : hostPort;
    String host = PortMapping.DEFAULT_HOST_ADDRESS.getHostAddress();
    List<PortMapping> ports;
    if (net == ContainerSpec.Network.HOST) {
      // The server binds the host's port itself.
      ports = List.of();
      err().println("labenv: --network host: the container shares this machine's network: Jupyter listens on the "
          + "host's " + host + ":" + hostPort + " itself, and the notebook's code can reach whatever this machine can");
      err().flush();
    } else {
      // Inside the container nothing else listens: the same port there, so Jupyter's own log shows a URL that works.
      ports = List.of(published(hostPort));
    }
    String token = JupyterServer.newToken();
    List<String> env = new ArrayList<>(plan.env());
    env.addAll(JupyterServer.environment(token));
    List<ContainerSpec.Mount> mounts = new ArrayList<>();
    mounts.add(ContainerSpec.Mount.bind(plan.folder().toString(), WORK, false));
    mounts.add(RunOptions.tmpfs(JupyterServer.SCRATCH));
    mounts.addAll(plan.datasets());
    // uid 0 in the container: the invoking user on the host when rootless (their files in /work stay theirs), root
    // when labenv runs as root.
    RunOptions options = new RunOptions("", JupyterServer.command(hostPort), env, WORK, "0", plan.hostname(), mounts,
        net, false);
    Launcher launcher = new Launcher(store());
    Containers containers = containers();
    Container container = launcher.create(plan.image(), options, name);
    JupyterServer.App app;
    try {
      app = JupyterServer.find(container.rootfs().path(), path(container.spec().process().env()))
          .orElseThrow(() -> noJupyter(plan.label()));
    } catch (RuntimeException e) {
      launcher.remove(container);
      throw e;
    }
    // Removed when it ends: the work is in the mounted folder, and a stopped server has nothing else worth keeping.
    ContainerState state = ContainerState.created(container, plan.label(), plan.image().descriptor().digest()
        .toString(), true, detach, false, ports.stream().map(PortMapping::toString).toList(), plan.limits());
    String url = JupyterServer.url(host, hostPort, token).toString();
    return detach ? detached(containers, state, app, host, hostPort, token, url)
        : foreground(containers, launcher, container, state, app, host, hostPort, token, url);
  }

  private int foreground(Containers containers, Launcher launcher, Container container, ContainerState state,
      JupyterServer.App app, String host, int hostPort, String token, String url) {
    AtomicBoolean ended = new AtomicBoolean();
    AtomicBoolean answered = new AtomicBoolean();
    Thread probe = new Thread(() -> {
      if (JupyterServer.awaitAnswer(host, hostPort, token, () -> !ended.get(), Duration.ofDays(365))) {
        answered.set(true);
        err().println("labenv: " + app.title() + " in container " + state.shortId() + " answers; ^C stops it");
        err().flush();
        out().println(url);
        out().flush();
      }
    }, "labenv-notebook-probe");
    probe.setDaemon(true);
    probe.start();
    Launcher.Exit exit;
    try {
      exit = Monitor.supervise(containers, launcher, container, state, Launcher.Stdio.inherit(false));
    } finally {
      ended.set(true);
      probe.interrupt();
    }
    try {
      probe.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (exit.status() == 0) {
      return ExitCode.OK;
    }
    if (!answered.get() && exit.status() == JupyterServer.NOT_FOUND) {
      throw noJupyter(state.image());
    }
    throw LabenvException.failed(app.title() + " in container " + state.shortId() + " exited with status "
        + exit.status() + (answered.get() ? "" : " before it answered") + " (its output is above)");
  }

  private int detached(Containers containers, ContainerState created, JupyterServer.App app, String host,
      int hostPort, String token, String url) {
    containers.write(created);
    ContainerState s = Monitor.startDetached(containers, store().root(), created);
    String[] lastError = {null};
    // ^C while it starts: nothing is left running that nobody has the URL of.
    AtomicBoolean handedOver = new AtomicBoolean();
    Thread cleanup = new Thread(() -> {
      if (!handedOver.get()) {
        ContainerState now = containers.read(created.id());
        if (now != null && now.isRunning()) {
          containers.stop(now, labenv.linux.Signals.parse("TERM"), 5);
        }
      }
    }, "labenv-notebook-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      boolean answered = s.isRunning() && JupyterServer.awaitAnswer(host, hostPort, token, () -> {
        ContainerState now = containers.read(created.id());
        String line = lastErrorLine(containers.log(created.id()));
        if (line != null) {
          lastError[0] = line;
        }
        return now != null && now.isRunning();
      }, DETACHED_START);
      if (!answered) {
        ContainerState now = containers.read(created.id());
        if (now != null && now.isRunning()) {
          containers.stop(now, labenv.linux.Signals.parse("TERM"), 5);
          throw LabenvException.failed(app.title() + " in container " + created.shortId() + " did not answer on "
              + host + ":" + hostPort + " within " + DETACHED_START.toSeconds() + " s; stopped it"
              + (lastError[0] == null ? "" : " (last said: " + lastError[0] + ")"));
        }
        throw LabenvException.failed(app.title() + " in container " + created.shortId() + " exited before it answered"
            + (lastError[0] == null ? "" : ": " + lastError[0]));
      }
      handedOver.set(true);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // shutting down: the hook runs
      }
    }
    out().println(created.id());
    out().println(url);
    out().flush();
    err().println("labenv: " + app.title() + " in container " + created.shortId() + " answers; labenv stop "
        + created.shortId() + " stops it");
    err().flush();
    return ExitCode.OK;
  }

  /** The last line the container wrote on stderr so far (its log's records: TIMESTAMP STREAM TAG CONTENT). */
  private static String lastErrorLine(Path log) {
    List<String> lines;
    try {
      lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
    for (int i = lines.size() - 1; i >= 0; i--) {
      String[] f = lines.get(i).split(" ", 4);
      if (f.length == 4 && f[1].equals("stderr") && !f[3].isBlank()) {
        return f[3].strip();
      }
    }
    return null;
  }

  /** The image, folder, environment and mounts of the server for what the command line names. */
  private Plan plan() {
    Path project = project();
    if (project == null) {
      Path folder = (dir == null ? Path.of("") : dir).toAbsolutePath().normalize();
      if (!Files.isDirectory(folder)) {
        throw LabenvException.badInput("--dir " + folder + ": not a folder");
      }
      return new Plan(images().image(target), target, folder, List.of(), List.of(), null, Limits.NONE);
    }
    if (dir != null) {
      throw LabenvException.badInput("--dir is for an IMAGE: a project's folder is the one mounted at " + WORK);
    }
    ProjectFile p = ProjectFile.read(project);
    ProjectRunner runner = new ProjectRunner(store(), images(), containers(), VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(this, runner, p, false);
    // As labenv run: the same environment (the notebook computes what the run computes) and limits.
    double cpus = p.cpus() == null ? 1 : p.cpus();
    List<String> env = new ArrayList<>(ProjectRunner.hermeticEnvironment(p.sourceDateEpoch(), cpus));
    p.env().forEach((k, v) -> env.add(k + "=" + v));
    Limits limits = Limits.NONE.withCpuQuota(Limits.cpuQuota(Double.toString(cpus)));
    if (p.memory() != null) {
      limits = limits.withMemory(Limits.memory(p.memory()));
    }
    if (p.pids() != null) {
      limits = limits.withPids(p.pids());
    }
    List<ContainerSpec.Mount> datasets = new ArrayList<>();
    labenv.dataset.DatasetStore ds = new labenv.dataset.DatasetStore(store());
    for (Map.Entry<String, String> d : p.datasets().entrySet()) {
      labenv.dataset.DatasetVersion v = ds.resolve(d.getKey());
      datasets.add(ContainerSpec.Mount.bind(ds.tree(v.manifest()).toString(), d.getValue(), true));
    }
    return new Plan(image, p.name(), project, env, datasets, ProjectRunner.HOSTNAME, limits);
  }

  /** The project folder named (or here, when nothing is named); null for an image. */
  private Path project() {
    if (target == null) {
      Path here = Path.of("").toAbsolutePath();
      if (!ProjectFile.isProject(here)) {
        throw LabenvException.badInput("notebook needs a project or an IMAGE: no " + ProjectFile.FILE + " in " + here
            + " (labenv init --template jupyter-python makes one; labenv notebook IMAGE serves this folder with an "
            + "image)");
      }
      return here;
    }
    Path d = Path.of(target);
    if (!Files.isDirectory(d)) {
      return null;
    }
    if (!ProjectFile.isProject(d)) {
      throw LabenvException.badInput(d.toAbsolutePath().normalize() + ": no " + ProjectFile.FILE + " (labenv init "
          + "--template jupyter-python makes a project; labenv notebook IMAGE --dir " + target + " serves a plain "
          + "folder with an image)");
    }
    return d.toAbsolutePath().normalize();
  }

  private static LabenvException noJupyter(String image) {
    return LabenvException.badInput(image + " has no Jupyter: none of jupyter-lab, jupyter-notebook or jupyter-server "
        + "is on its PATH; start from labenv init --template jupyter-python, or install Debian's jupyter-notebook "
        + "package in its Envfile (RUN apt-get install -y jupyter-notebook)");
  }

  private static String path(List<String> env) {
    for (String e : env) {
      if (e.startsWith("PATH=")) {
        return e.substring(5);
      }
    }
    return "";
  }

  private static int port(String text) {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')
        || Integer.parseInt(text) < 1 || Integer.parseInt(text) > 65535) {
      throw LabenvException.badInput("-p \"" + text + "\": expected a port number, 1-65535");
    }
    return Integer.parseInt(text);
  }

  private static PortMapping published(int hostPort) {
    return new PortMapping(PortMapping.DEFAULT_HOST_ADDRESS, hostPort, hostPort, PortMapping.Protocol.TCP);
  }

  /**
   * {@code hostPort}, once it could be bound on 127.0.0.1: a port in use is one line (BAD_INPUT) with nothing made.
   * The supervisor (or the server itself, with --network host) binds it again for good.
   */
  private static int available(int hostPort) {
    PortForwarder.bind(List.of(published(hostPort))).close();
    return hostPort;
  }

  /** A port on 127.0.0.1 that nothing listens on now (the kernel's pick). */
  private static int freePort() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
      return s.getLocalPort();
    } catch (IOException e) {
      throw LabenvException.failed("cannot find a free port on 127.0.0.1: " + e.getMessage(), e);
    }
  }

  @Command(name = "run",
      description = {"Execute a notebook headless in the project's container, as labenv run runs the project: same "
          + "image, hermetic conditions, read-only datasets and outputs; writes the executed notebook among the "
          + "outputs and receipt.json (labenv verify re-runs it).",
          "Parameters go in a new code cell tagged injected-parameters after the cell tagged parameters, as "
          + "papermill does (Python and Java notebooks). Exits 0, 1 when a cell fails (its number, error and "
          + "traceback are shown; the notebook as far as it ran is kept in .labenv/failed/), 2 for bad input."})
  static final class Run implements Callable<Integer> {
    @ParentCommand NotebookCommand parent;

    @Parameters(index = "0", paramLabel = "NB.ipynb", description = "the notebook (nbformat 4)")
    Path notebook;

    @Parameters(index = "1", paramLabel = "DIR", arity = "0..1",
        description = "the project (default: the folder of the notebook, or above it, that has labenv.yaml)")
    Path dir;

    @Option(names = {"-p", "--parameter"}, paramLabel = "NAME=VALUE",
        description = "Set a parameter; its type is inferred as papermill does (True, False, None, int, float, else "
            + "a string). Repeatable.")
    List<String> parameters = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.ipynb",
        description = "Where the executed notebook goes, inside one of the project's outputs (default: the first "
            + "output folder, the notebook's name).")
    Path output;

    @Override
    public Integer call() {
      return new HeadlessRun(this).call();
    }
  }
}
