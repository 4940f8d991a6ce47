package labenv.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.container.Container;
import labenv.container.ContainerState;
import labenv.container.Containers;
import labenv.container.Monitor;
import labenv.container.TerminalSession;
import labenv.container.PortForwarder;
import labenv.container.PortMapping;
import labenv.linux.Pty;
import labenv.container.ContainerSpec;
import labenv.container.ExternalRuntime;
import labenv.container.Launcher;
import labenv.container.Limits;
import labenv.container.RunOptions;
import labenv.container.Volumes;
import labenv.store.Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run",
    description = {"Run a command in a new container from an image.",
        "New mount, pid, uts, ipc, net and cgroup namespaces (and a user namespace when not root); "
        + "exits with the command's status, 125 when labenv failed, 126/127 when the command cannot "
        + "be executed / is not found, 128+N when signal N killed it."})
final class RunCommand extends Verb {
  @Option(names = "--rm", description = "Remove the container when it exits.")
  boolean remove;

  @Option(names = {"-d", "--detach"},
      description = "Run in the background: print the container id; output goes to its log (labenv logs).")
  boolean detach;

  @Mixin ProcessOptions process;

  @Option(names = "--env-file", paramLabel = "FILE", description = "Read KEY=VALUE lines (# comments).")
  List<Path> envFiles = new ArrayList<>();

  @Option(names = "--entrypoint", paramLabel = "CMD", description = "Replace the image's entrypoint (and its Cmd).")
  String entrypoint;

  @Option(names = "--hostname", paramLabel = "NAME", description = "The container's hostname.")
  String hostname;

  @Option(names = {"-v", "--volume"}, paramLabel = "HOST|NAME:CONTAINER[:ro|rw]",
      description = "Bind-mount a host path (absolute) or a named volume (created when missing).")
  List<String> volumes = new ArrayList<>();

  @Option(names = "--dataset", paramLabel = "NAME[:TAG]:/PATH",
      description = "Mount a dataset version read-only at /PATH (assembled once, then mounted in constant time).")
  List<String> datasets = new ArrayList<>();

  @Option(names = "--mount", paramLabel = "type=bind|volume|tmpfs,...",
      description = "type=bind|volume|tmpfs,source=SRC,target=/PATH[,readonly][,tmpfs-size=BYTES][,tmpfs-mode=OCTAL]")
  List<String> mounts = new ArrayList<>();

  @Option(names = "--tmpfs", paramLabel = "PATH[:OPTS]",
      description = "A fresh tmpfs at PATH (nosuid,nodev; mode 1777 unless OPTS give one, e.g. size=64m,mode=755).")
  List<String> tmpfs = new ArrayList<>();

  @Option(names = {"-p", "--publish"}, paramLabel = "[IP:]HOSTPORT:CONTAINERPORT[/tcp]",
      description = "Forward a host port (on 127.0.0.1 unless IP is given) to a port on the container's loopback.")
  List<String> publish = new ArrayList<>();

  @Option(names = "--network", paramLabel = "none|host", description = "none (default: loopback only) or host.")
  String network = "none";

  @Option(names = "--read-only", description = "Mount the container's root filesystem read-only.")
  boolean readOnly;

  @Option(names = "--security-opt", paramLabel = "OPT",
      description = "seccomp=unconfined (no syscall filter) or no-new-privileges[:true|false] (default true).")
  List<String> securityOpts = new ArrayList<>();

  @Option(names = "--cap-add", paramLabel = "CAP",
      description = "Keep a capability beyond docker's default set (NET_ADMIN or CAP_NET_ADMIN; ALL: every one).")
  List<String> capAdd = new ArrayList<>();

  @Option(names = "--cap-drop", paramLabel = "CAP", description = "Drop a capability of the default set (ALL: every one).")
  List<String> capDrop = new ArrayList<>();

  @Option(names = "--name", paramLabel = "NAME", description = "A name for the container.")
  String name;

  @Option(names = {"-m", "--memory"}, paramLabel = "BYTES",
      description = "Memory limit: bytes with an optional unit b, k, m or g (no swap beyond it).")
  String memory;

  @Option(names = "--cpus", paramLabel = "N", description = "CPU limit: a decimal number of CPUs, e.g. 0.5.")
  String cpus;

  @Option(names = "--pids-limit", paramLabel = "N", description = "Most processes and threads at once (-1: no limit).")
  String pidsLimit;

  @Option(names = "--runtime", paramLabel = "labenv|crun|runc",
      description = "Who runs the container: labenv's own init (default), or crun or runc given the same OCI config.")
  String runtime = "labenv";

  @Option(names = "--sweep", description = "For a project with a sweep: run its tasks here, each a hermetic run with its "
      + "own outputs and receipt under sweep/TASK/, and write sweep/sweep-receipt.json; exits 1 when a task failed.")
  boolean sweep;

  @Option(names = "--jobs", paramLabel = "N",
      description = "With --sweep: tasks run at once (default: the CPUs / the project's cpus).")
  Integer jobs;

  @Option(names = "--task", paramLabel = "NAME|INDEX",
      description = "With --sweep: run this task only (its folder is replaced; the summary is made again).")
  String task;

  @Parameters(index = "0", paramLabel = "IMAGE|DIR", arity = "0..1",
      description = "name[:tag], digest, or unique digest prefix; or a project folder (with labenv.yaml), which is "
          + "also what run alone runs: the current directory")
  String ref;

  @Parameters(index = "1..*", paramLabel = "CMD", arity = "0..*", description = "the command and its arguments")
  List<String> command = new ArrayList<>();

  /**
   * {@code --dataset NAME[:TAG]:/PATH}: the version's assembled tree (built on first use), bind-mounted read-only.
   * The tree is the mount's source, which is how {@code prune} knows a container uses it.
   */
  private List<ContainerSpec.Mount> datasetMounts() {
    List<ContainerSpec.Mount> out = new ArrayList<>();
    if (datasets.isEmpty()) {
      return out;
    }
    labenv.dataset.DatasetStore store = new labenv.dataset.DatasetStore(store());
    for (String spec : datasets) {
      int sep = spec.indexOf(":/");
      if (sep <= 0) {
        throw LabenvException.badInput("--dataset \"" + spec + "\": expected NAME[:TAG]:/PATH");
      }
      String dest = java.nio.file.Path.of(spec.substring(sep + 1)).normalize().toString();
      labenv.dataset.DatasetVersion version = store.resolve(spec.substring(0, sep));
      out.add(ContainerSpec.Mount.bind(store.tree(version.manifest()).toString(), dest, true));
    }
    return out;
  }

  /** True once the command line names a project rather than an image: its failures exit 1 and 2, not 125. */
  boolean projectMode;

  @Override
  public Integer call() {
    Path project = project();
    projectMode = project != null;
    if (project != null) {
      return sweep ? runSweep(project) : runProject(project);
    }
    if (sweep || jobs != null || task != null) {
      throw LabenvException.badInput("--sweep, --jobs and --task are for a project folder (with a sweep in "
          + labenv.project.ProjectFile.FILE + "), not an image");
    }
    List<ContainerSpec.Mount> all = new ArrayList<>();
    volumes.stream().map(RunOptions::volume).forEach(all::add);
    mounts.stream().map(RunOptions::mount).forEach(all::add);
    tmpfs.stream().map(RunOptions::tmpfs).forEach(all::add);
    ContainerSpec.Security security = RunOptions.security(securityOpts)
        .withCapabilities(RunOptions.capabilities(capAdd, capDrop));
    ContainerSpec.Network net = network();
    Limits limits = limits();
    List<PortMapping> ports = publish.stream().map(PortMapping::parse).toList();
    if (!ports.isEmpty() && net == ContainerSpec.Network.HOST) {
      throw LabenvException.badInput("-p needs the container's own network: with --network host its ports are the "
          + "host's already");
    }
    ExternalRuntime external = ExternalRuntime.named(runtime, limits);
    if (external != null && (detach || process.tty || !ports.isEmpty())) {
      throw LabenvException.badInput("--runtime " + runtime + " runs containers in the foreground only: -d, -t and -p "
          + "need labenv's own runtime");
    }
    Image image = images().image(ref);
    all.addAll(datasetMounts());
    // Fails now, with nothing made, when a port is taken; the supervisor binds them again for good.
    if (!ports.isEmpty()) {
      PortForwarder.bind(ports).close();
    }
    // Named volumes are created only once everything given parses and the image is found.
    Volumes store = new Volumes(store());
    List<ContainerSpec.Mount> resolved = all.stream().map(store::resolve).toList();
    RunOptions options = new RunOptions(entrypoint, command, environment(), process.workdir, process.user, hostname,
        resolved, net, readOnly, security);
    Launcher launcher = new Launcher(store());
    Containers containers = containers();
    Container container = launcher.create(image, options, name);
    ContainerState state = ContainerState.created(container, ref, image.descriptor().digest().toString(), remove,
        detach, process.tty, ports.stream().map(PortMapping::toString).toList(), limits);
    if (detach) {
      containers.write(state);
      return detached(containers, state);
    }
    // In the foreground the supervisor's first write (Monitor.supervise) is the first state: one write fewer.
    if (external != null) {
      Launcher.Exit exit;
      try {
        containers.write(state);
        exit = external.run(container);
        containers.write(state.exited(exit.status(), exit.oomKilled(), null));
      } finally {
        if (remove) {
          launcher.remove(container);
        }
      }
      return exit.status();
    }
    Launcher.Exit exit;
    if (process.tty) {
      try (Pty pty = Pty.open(); TerminalSession terminal = TerminalSession.open(pty, process.interactive)) {
        terminal.copy(process.interactive);
        exit = Monitor.supervise(containers, launcher, container, state, Launcher.Stdio.terminal(pty));
      }
    } else {
      exit = Monitor.supervise(containers, launcher, container, state, Launcher.Stdio.inherit(process.interactive));
    }
    if (exit.oomKilled()) {
      System.err.println("labenv: container " + container.id().substring(0, 12) + ": killed: out of memory (limit "
          + Limits.bytes(limits.memoryBytes()) + ")");
    }
    return exit.status();
  }

  /** The project folder to run: none given and one here, or the folder given; null for an image. */
  private Path project() {
    if (ref == null) {
      projectMode = true; // its errors are a project's (exit 2), not a container's (125)
      Path here = Path.of("").toAbsolutePath();
      if (!labenv.project.ProjectFile.isProject(here)) {
        throw LabenvException.badInput("run needs an IMAGE, or a project: no " + labenv.project.ProjectFile.FILE
            + " in " + here + " (labenv init makes one)");
      }
      return here;
    }
    Path dir = Path.of(ref);
    return (ref.contains("/") || ref.equals(".") || ref.equals("..")) && Files.isDirectory(dir)
        || Files.isDirectory(dir) && labenv.project.ProjectFile.isProject(dir) ? dir.toAbsolutePath().normalize() : null;
  }

  /**
   * {@code labenv run [DIR]}: builds the project's image (cached), runs its command hermetically with its datasets
   * read-only and its outputs writable, and writes receipt.json. The command's exit status is run's.
   */
  private int runProject(Path dir) {
    if (jobs != null || task != null) {
      throw LabenvException.badInput("--jobs and --task go with --sweep");
    }
    if (containerOptionsGiven()) {
      throw LabenvException.badInput("a project run takes its command, datasets, outputs and limits from "
          + labenv.project.ProjectFile.FILE + ": options for a container (CMD, -d, -t, -v, --mount, --tmpfs, "
          + "--dataset, -p, --name, --entrypoint, --runtime) are for runs of an image");
    }
    labenv.project.ProjectFile p = labenv.project.ProjectFile.read(dir);
    labenv.project.ProjectRunner runner = new labenv.project.ProjectRunner(store(), images(), containers(),
        VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(this, runner, p, false);
    labenv.project.ProjectRunner.Result r = runner.run(p, image, Launcher.Stdio.inherit(process.interactive));
    labenv.project.Receipt receipt = r.receipt();
    if (receipt.exitCode() != 0) {
      err().println("labenv: " + p.name() + ": the command exited " + receipt.exitCode() + "; the project's outputs "
          + "are unchanged, no receipt was written; this run's outputs are in " + r.outputs());
      err().flush();
      return receipt.exitCode();
    }
    out().println("receipt: " + r.receiptFile());
    out().println("outputs: " + receipt.outputs().root() + " (" + receipt.outputs().files().size() + " file"
        + (receipt.outputs().files().size() == 1 ? "" : "s") + ")");
    for (labenv.project.Receipt.OutputFile f : receipt.outputs().files()) {
      out().println("  " + f.sha256().substring(0, 12) + "  " + String.format("%8s", Units.bytes(f.size())) + "  "
          + f.path());
    }
    out().flush();
    return ExitCode.OK;
  }

  /** Whether options for a container (CMD, -d, -t, -v, ...) were given: a project run takes its own from the file. */
  private boolean containerOptionsGiven() {
    return !command.isEmpty() || detach || process.tty || !volumes.isEmpty() || !mounts.isEmpty() || !tmpfs.isEmpty()
        || !datasets.isEmpty() || !publish.isEmpty() || name != null || entrypoint != null || !runtime.equals("labenv");
  }

  /**
   * {@code labenv run --sweep [--jobs N] [--task NAME] [DIR]}: the project's sweep tasks, in parallel, each reported as
   * it ends (a failed one with its exit code and log tail); exits 1 when any task did not succeed.
   */
  private int runSweep(Path dir) {
    if (containerOptionsGiven()) {
      throw LabenvException.badInput("run --sweep takes everything from " + labenv.project.ProjectFile.FILE
          + ": options for a container are for runs of an image");
    }
    labenv.project.ProjectFile p = labenv.project.ProjectFile.read(dir);
    if (p.sweep() == null) {
      throw LabenvException.badInput(dir.resolve(labenv.project.ProjectFile.FILE) + ": no sweep declared (sweep: "
          + "{grid: {NAME: [VALUES]}} or {list: [{NAME: VALUE}]}); run without --sweep runs the project once");
    }
    labenv.project.SweepTask only = task == null ? null : labenv.project.Sweep.task(p.sweep().tasks(), task);
    int n = jobs != null ? jobs : labenv.project.SweepRunner.defaultJobs(p);
    if (n < 1) {
      throw LabenvException.badInput("--jobs " + n + ": expected 1 or more");
    }
    labenv.project.ProjectRunner runner = new labenv.project.ProjectRunner(store(), images(), containers(),
        VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(this, runner, p, false);
    int count = only != null ? 1 : p.sweep().sets().size();
    err().println("sweep: " + count + " task" + (count == 1 ? "" : "s") + ", " + Math.min(n, count) + " at a time");
    err().flush();
    labenv.project.SweepReceipt s = new labenv.project.SweepRunner(runner, VersionProvider.version()).run(p, image,
        only, n, t -> {
          out().println("task " + t.name() + ": " + t.status() + (t.exitCode() != null && t.exitCode() != 0
              ? " (exit " + t.exitCode() + ")" : ""));
          if (t.status() != labenv.project.SweepReceipt.Status.ok) {
            if (t.error() != null) {
              err().println("  " + t.error());
            }
            if (t.logTail() != null) {
              t.logTail().forEach(l -> err().println("  | " + l));
            }
            err().flush();
          }
          out().flush();
        });
    Path summary = labenv.project.SweepRunner.folder(p).resolve(labenv.project.SweepReceipt.FILE);
    List<labenv.project.SweepReceipt.Task> bad = s.unsuccessful();
    out().println("sweep receipt: " + summary);
    out().println("root: " + s.root());
    out().println("outputs root: " + s.outputsRoot());
    out().println(s.tasks().size() - bad.size() + " of " + s.tasks().size() + " tasks ok" + (bad.isEmpty() ? ""
        : "; not ok: " + String.join(" ", bad.stream().map(t -> t.name() + " (" + t.status() + ")").toList())));
    out().flush();
    return bad.isEmpty() ? ExitCode.OK : ExitCode.FAILED;
  }

  /**
   * Hands the container to a monitor process and returns once its command runs, printing its id, as docker does.
   * A command that could not start (not found: 127, not executable: 126, setup failed: 125) is reported with
   * init's reason from the log, and the container is removed: nothing is left behind.
   */
  private int detached(Containers containers, ContainerState created) {
    ContainerState s = Monitor.startDetached(containers, store().root(), created);
    // Never seen running, and an error: it did not start. (A command that ran and ended before its exec was seen
    // has no error: its exit status is its own.)
    if (s.status() == ContainerState.Status.exited && s.startedAt() == null && s.error() != null) {
      String reason = s.error();
      try {
        List<String> lines = Files.readAllLines(containers.log(s.id()), StandardCharsets.ISO_8859_1);
        for (String l : lines) {
          if (l.contains(" stderr ") && l.contains("labenv: ")) {
            reason = l.substring(l.indexOf("labenv: ") + "labenv: ".length());
          }
        }
      } catch (IOException e) {
        // the state's error is all we have
      }
      if (!s.autoRemove()) {
        containers.remove(s);
      }
      err().println("labenv: " + reason);
      err().flush();
      return s.exitCode() == null || s.exitCode() == 0 ? ExitCode.RUNTIME_FAILED : s.exitCode();
    }
    out().println(s.id());
    out().flush();
    return ExitCode.OK;
  }

  private Limits limits() {
    Limits limits = Limits.NONE;
    if (memory != null) {
      limits = limits.withMemory(Limits.memory(memory));
    }
    if (cpus != null) {
      limits = limits.withCpuQuota(Limits.cpuQuota(cpus));
    }
    if (pidsLimit != null) {
      limits = limits.withPids(Limits.pids(pidsLimit));
    }
    return limits;
  }

  private ContainerSpec.Network network() {
    return switch (network) {
      case "none" -> ContainerSpec.Network.NONE;
      case "host" -> ContainerSpec.Network.HOST;
      default -> throw LabenvException.badInput("network \"" + network + "\": expected none or host");
    };
  }

  private List<String> environment() {
    List<String> all = new ArrayList<>();
    for (Path file : envFiles) {
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw LabenvException.badInput("env file " + file + ": " + e.getMessage());
      }
      for (String line : lines) {
        String l = line.strip();
        if (!l.isEmpty() && !l.startsWith("#")) {
          all.add(l);
        }
      }
    }
    all.addAll(process.env);
    return environment(all, root.env);
  }

  /** KEY=VALUE entries as given; KEY alone takes its value here (and is left out when unset here), as docker does. */
  static List<String> environment(List<String> all, java.util.Map<String, String> here) {
    List<String> resolved = new ArrayList<>();
    for (String e : all) {
      if (e.indexOf('=') > 0) {
        resolved.add(e);
      } else if (!e.isEmpty() && here.containsKey(e)) {
        resolved.add(e + "=" + here.get(e));
      } else if (e.isEmpty() || e.startsWith("=")) {
        throw LabenvException.badInput("environment entry \"" + e + "\": not KEY=VALUE");
      }
    }
    return resolved;
  }
}
