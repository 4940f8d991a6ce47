package labenv.container;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.linux.Libc;
import labenv.store.ContentStore;
import labenv.store.Image;

/**
 * Creates containers from images and runs them: util-linux {@code unshare} makes the namespaces and
 * starts {@link labenv.linux.Init} in a fresh, fast-starting JVM inside them, which does the rest.
 */
public final class Launcher {
  /**
   * JVM flags for a process that lives for a fraction of a second before it execs. G1, because Java 17
   * maps a class-data archive's heap objects (the module graph among them) for G1 only: 10 ms sooner up.
   * Its stdout is the container's: the JVM's own warnings go to stderr, and a class-data archive it
   * cannot use is ignored silently. JNA loads only libc, already in the process, so it need not ask
   * {@code ldconfig -p} (a process, 15 ms) where libraries are.
   */
  static final List<String> INIT_JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseG1GC", "-Xshare:auto",
      "-XX:-UsePerfData", "-Xss512k", "-Xlog:disable", "-Xlog:all=warning:stderr", "-Xlog:cds=off:stderr",
      "-Xlog:cds+dynamic=off:stderr", "-Djna.platform.library.path=");

  /** In each container's directory: the descriptor of the image it runs, a garbage-collection root. */
  static final String IMAGE_FILE = "image.json";
  /** In each container's directory: the spec in the compact form {@link labenv.linux.Init} reads. */
  static final String INIT_SPEC = "init.spec";

  private final ContentStore store;
  private final Containers containers;

  public Launcher(ContentStore store) {
    this.store = store;
    this.containers = new Containers(store);
  }

  /** Makes a new container directory with its root filesystem (overlay or copy) and its spec. */
  public Container create(Image image, RunOptions options, String name) {
    if (Libc.geteuid() != 0) {
      userNamespacesAllowed(Path.of("/proc/sys")); // before anything is made
    }
    String id = HexFormat.of().formatHex(random());
    Path dir = containers.dir(id);
    try {
      Files.createDirectories(dir.getParent());
      Files.createDirectory(dir);
      // First, before any layer is unpacked: while this file exists, prune keeps the image's blobs
      // and unpacked layers, even if the image itself is removed (see gcRoots).
      labenv.store.AtomicFile.write(dir.resolve(IMAGE_FILE), Json.canonical(image.descriptor()));
    } catch (IOException e) {
      throw LabenvException.failed("cannot create container directory " + dir + ": " + e.getMessage(), e);
    }
    if (name != null) {
      try {
        containers.claimName(name, id);
      } catch (RuntimeException e) {
        containers.discard(id, null);
        throw e;
      }
    }
    Container container = null;
    Rootfs rootfs = null;
    try {
      // An overlay over the layers unpacked once into the store's cache (a copy where overlayfs
      // can't be mounted): starting a container costs no unpacking once its image has run before.
      rootfs = Rootfs.forImage(new LayerCache(store), image, dir);
      ContainerSpec spec = options.toSpec(id, image.config(), rootfs.path());
      container = new Container(id, name, dir, spec, rootfs);
      Files.write(dir.resolve("config.json"), Json.canonical(spec));
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
          Files.newOutputStream(container.initSpec())))) {
        spec.write(out);
      }
      return container;
    } catch (IOException e) {
      abandon(rootfs, dir, id, name);
      throw LabenvException.failed("cannot write container " + id + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      abandon(rootfs, dir, id, name);
      throw e;
    }
  }

  /**
   * A container outside {@code containers/} (a build step's): {@code dir} exists and holds its root filesystem;
   * the spec is written where {@link labenv.linux.Init} reads it. Not listed by {@code ps}; the caller removes it.
   */
  public static Container prepare(String id, Path dir, ContainerSpec spec, Rootfs rootfs) {
    Container container = new Container(id, null, dir, spec, rootfs);
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
        Files.newOutputStream(container.initSpec())))) {
      spec.write(out);
    } catch (IOException e) {
      throw LabenvException.failed("cannot write container " + id + ": " + e.getMessage(), e);
    }
    return container;
  }

  private void abandon(Rootfs rootfs, Path dir, String id, String name) {
    if (rootfs != null) {
      rootfs.release();
    }
    containers.discard(id, name);
  }

  private static byte[] random() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }

  /** How a container ended: its exit status, and whether the OOM killer killed a process of it. */
  public record Exit(int status, boolean oomKilled) {}

  /** Told once the container's command runs: its pid on the host, and the cgroups it is in. */
  public interface Started {
    Started IGNORE = (pid, startTime, cgroups) -> { };

    void started(long pid, long startTime, List<Path> cgroups);
  }

  /**
   * Where the container's stdin, stdout and stderr go: this process's own (stdin only when {@code interactive}:
   * /dev/null otherwise, as docker has it without -i), a pseudo-terminal's slave, or a log (a detached container;
   * with a terminal, what the terminal shows is logged as stdout).
   */
  public record Stdio(boolean interactive, labenv.linux.Pty pty, ContainerLog log, java.io.OutputStream output) {
    public static Stdio inherit(boolean interactive) {
      return new Stdio(interactive, null, null, null);
    }

    public static Stdio terminal(labenv.linux.Pty pty) {
      return new Stdio(true, pty, null, null);
    }

    public static Stdio log(ContainerLog log, labenv.linux.Pty pty) {
      return new Stdio(false, pty, log, null);
    }

    /** Stdin /dev/null, stdout and stderr merged into {@code output} (a build step's, shown and kept). */
    public static Stdio output(java.io.OutputStream output) {
      return new Stdio(false, null, null, output);
    }
  }

  /**
   * Runs the container under these limits with this stdio. Its processes are in its cgroups from the first: a
   * shell joins them and execs unshare, so nothing forks outside. An OOM kill makes the status 137 whatever the
   * container did after it. {@code started} is called (from another thread) once the command has been exec'd; it
   * is not called when the command never ran (the status is then 125, 126 or 127 and init said why on stderr).
   */
  public Exit start(Container container, Limits limits, Stdio stdio, Started started) {
    if (!limits.any()) {
      return new Exit(run(container, null, stdio, started), false);
    }
    try (Cgroups cgroups = Cgroups.create(container.id(), limits)) {
      int status = run(container, cgroups, stdio, started);
      return cgroups.oomKilled() ? new Exit(137, true) : new Exit(status, false);
    }
  }

  private int run(Container container, Cgroups cgroups, Stdio stdio, Started started) {
    List<String> cmd = command(container, Libc.geteuid() == 0);
    if (cgroups != null) {
      cmd = joiningCgroups(cgroups, cmd);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // The init JVM needs no environment; the container's comes from its spec.
    pb.environment().keySet().retainAll(List.of("LANG", "LC_ALL", "TMPDIR"));
    java.io.File devNull = new java.io.File("/dev/null");
    if (stdio.pty() != null) {
      java.io.File slave = new java.io.File("/proc/self/fd/" + stdio.pty().slave());
      pb.redirectInput(ProcessBuilder.Redirect.from(slave)).redirectOutput(ProcessBuilder.Redirect.appendTo(slave))
          .redirectError(ProcessBuilder.Redirect.appendTo(slave));
      pb.environment().put("LABENV_INIT_TTY", "1");
    } else if (stdio.log() != null) {
      pb.redirectInput(devNull);
    } else if (stdio.output() != null) {
      pb.redirectInput(devNull).redirectErrorStream(true);
    } else {
      pb.redirectInput(stdio.interactive() ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.from(devNull));
      pb.redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
    }
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw LabenvException.failed("cannot start unshare: " + e.getMessage(), e);
    }
    if (stdio.pty() != null) {
      // The container has its own descriptors now: the master reads EIO once the last of them closes.
      stdio.pty().closeSlave();
    }
    List<Thread> copiers = new ArrayList<>();
    if (stdio.log() != null) {
      if (stdio.pty() != null) {
        copiers.add(daemon("labenv-log-tty", () -> stdio.log().copy(ptyInput(stdio.pty()), "stdout")));
      } else {
        copiers.add(daemon("labenv-log-out", () -> stdio.log().copy(process.getInputStream(), "stdout")));
        copiers.add(daemon("labenv-log-err", () -> stdio.log().copy(process.getErrorStream(), "stderr")));
      }
    }
    if (stdio.output() != null) {
      copiers.add(daemon("labenv-output", () -> {
        try (java.io.InputStream in = process.getInputStream()) {
          in.transferTo(stdio.output());
          stdio.output().flush();
        } catch (IOException e) {
          // the container's output is lost from here on; its exit status still counts
        }
      }));
    }
    List<Path> groups = cgroups == null ? List.of() : cgroups.procsFiles().stream().map(Path::getParent).toList();
    Thread watcher = daemon("labenv-started", () -> {
      long pid = awaitExec(process, container.initSpec(), cgroups != null && cgroups.tightens());
      if (pid > 0) {
        if (cgroups != null) {
          // Init is a JVM with more threads and memory than small limits allow: it had room while it set up
          // (Cgroups.create), and the limits tighten the moment it has exec'd the command.
          cgroups.tighten();
        }
        started.started(pid, Processes.startTime(pid), groups);
      }
    });
    int status;
    try (SignalForwarding forwarding = SignalForwarding.install(process)) {
      status = HostTools.waitFor(process);
      HostTools.join(watcher);
      copiers.forEach(HostTools::join);
    } finally {
      // The container's mount namespace is gone with it; the host's overlay mount goes now.
      container.rootfs().release();
    }
    // unshare's own failures (no user namespaces, no java) exit 1 like a container could: the marker
    // Init writes first tells them apart.
    if (!Files.exists(marker(container)) && status == JOIN_FAILED && cgroups != null) {
      throw LabenvException.failed("container " + container.id().substring(0, 12) + ": cannot join its cgroups "
          + cgroups.procsFiles());
    }
    if (!Files.exists(marker(container)) && status < 128) {
      throw LabenvException.failed("container " + container.id().substring(0, 12)
          + ": unshare could not start it (exit status " + status + ")");
    }
    return status;
  }

  private static Path marker(Container container) {
    return Path.of(container.initSpec() + ".started");
  }

  private static java.io.InputStream ptyInput(labenv.linux.Pty pty) {
    return new java.io.InputStream() {
      @Override
      public int read() {
        byte[] b = new byte[1];
        return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        byte[] buf = new byte[Math.min(len, 16384)];
        int n = pty.read(buf);
        if (n > 0) {
          System.arraycopy(buf, 0, b, off, n);
        }
        return n;
      }
    };
  }

  private static Thread daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** The shell that joins the cgroups exits with this when it can't. */
  static final int JOIN_FAILED = 125;

  /** {@code cmd} run by a shell that first joins the cgroups and then execs it, so nothing forks outside them. */
  public static List<String> joiningCgroups(Cgroups cgroups, List<String> cmd) {
    List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c",
        "while [ \"$1\" != -- ]; do { echo $$ > \"$1\"; } 2>/dev/null || exit " + JOIN_FAILED
        + "; shift; done; shift; exec \"$@\"", "labenv-join"));
    cgroups.procsFiles().forEach(f -> wrapped.add(f.toString()));
    wrapped.add("--");
    wrapped.addAll(cmd);
    return wrapped;
  }

  /**
   * Waits until init has exec'd the command and returns its host pid (-1 when it ended first). Init writes its
   * pid to the marker file as it starts; it has exec'd when it is down to one thread (execve ends the JVM's
   * others). Polled, so the command runs briefly before the caller acts on it: every 0.1 ms when a pids limit
   * waits for it, every millisecond otherwise.
   */
  private static long awaitExec(Process process, Path initSpec, boolean eager) {
    Path marker = Path.of(initSpec + ".started");
    long pause = eager ? 100_000 : 1_000_000;
    long init = -1;
    // Init is this JVM's binary until it execs. Known up front: a busy machine may not schedule this thread
    // between init's start and its exec, so watching for the change itself would miss it.
    String jvm = realPath(HostTools.java());
    while (process.isAlive()) {
      try {
        if (init < 0) {
          if (Files.exists(marker)) {
            String c = Files.readString(marker);
            if (c.endsWith("\n")) {
              init = Long.parseLong(c.trim());
            }
          }
        } else {
          // No check for a zombie here: Java runs main on a thread other than the process's first, and while that
          // thread execs, the kernel shows the first one as a zombie (de_thread). A real zombie is reaped at once
          // by the shell that waits for it, and the read fails.
          String stat = Files.readString(Path.of("/proc/" + init + "/stat"));
          // A JVM that exits (the command was not found) is still the JVM; execve changes the executable (or,
          // where its link cannot be read, the name: "java" until then).
          String image = executable(init, stat);
          if (!image.equals(jvm) && !image.equals("java")) {
            return init;
          }
        }
      } catch (IOException | RuntimeException e) {
        return -1; // init is gone
      }
      java.util.concurrent.locks.LockSupport.parkNanos(pause);
    }
    return -1;
  }

  private static String realPath(String file) {
    try {
      return Path.of(file).toRealPath().toString();
    } catch (IOException e) {
      return file;
    }
  }

  private static String executable(long pid, String stat) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString();
    } catch (IOException e) {
      return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    }
  }

  static List<String> command(Container container, boolean root) {
    // Not --fork: util-linux's unshare turns a child's death by SIGKILL into its own exit status 1 (re-raising it
    // fails) and says so on the container's stderr. A shell waits instead: its first child is the new pid
    // namespace's pid 1, and it exits 128+N for a signal N as a shell does. (Not the last command, so that the
    // shell forks it rather than exec it in place.)
    List<String> cmd = new ArrayList<>(List.of(HostTools.utilLinux("unshare", null), "--mount", "--uts", "--ipc", "--pid",
        "--cgroup", "--propagation", "private"));
    if (container.spec().network() == ContainerSpec.Network.NONE) {
      cmd.add("--net");
    }
    if (!root) {
      cmd.addAll(rootlessMapping());
    }
    // The shell's own stderr is /dev/null: it says "Killed" when its child dies of SIGKILL, which is not the
    // container's output. The child (a subshell that execs, so still the first child) gets the real stderr.
    cmd.addAll(List.of("/bin/sh", "-c", "exec 3>&2 2>/dev/null; (exec \"$@\" 2>&3 3>&-); exit $?", "labenv-wait"));
    cmd.addAll(initJvm(List.of(container.initSpec().toString())));
    return cmd;
  }

  /**
   * The command that runs {@link labenv.linux.Init} with {@code initArgs} in a fresh, fast-starting JVM: from
   * the class-data archive the build made for it when there is one ({@link #fastStart}), with the JVM options
   * in the system property {@code labenv.init.javaOptions} (space-separated; for diagnosis and the build's
   * training run) last.
   */
  public static List<String> initJvm(List<String> initArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(HostTools.java());
    cmd.addAll(INIT_JVM_FLAGS);
    String classPath = System.getProperty("java.class.path");
    if (classPath.endsWith(".jar") && !classPath.contains(java.io.File.pathSeparator)) {
      classPath = Path.of(classPath).toAbsolutePath().toString(); // as the class-data archive names it
    }
    cmd.addAll(fastStart(classPath));
    String more = System.getProperty("labenv.init.javaOptions", "").strip();
    if (!more.isEmpty()) {
      cmd.addAll(List.of(more.split("\\s+")));
    }
    cmd.addAll(List.of("-cp", classPath, "labenv.linux.Init"));
    cmd.addAll(initArgs);
    return cmd;
  }

  /**
   * Root inside is the caller; with subordinate ids configured, ids 1..N inside are the caller's range, else there
   * is no other id inside (files of other owners show as nobody, and -u with another uid fails).
   */
  static List<String> rootlessMapping() {
    userNamespacesAllowed(Path.of("/proc/sys"));
    String user = System.getProperty("user.name");
    int uid = Libc.getuid();
    return SubordinateIds.of(user, uid, Libc.getgid()).map(SubordinateIds::unshareOptions)
        .orElse(List.of("--user", "--map-root-user"));
  }

  /**
   * An ordinary user needs user namespaces: off when {@code user.max_user_namespaces} is 0, or on Debian's older
   * kernels when {@code kernel.unprivileged_userns_clone} is 0. Says which knob and what to do, rather than
   * letting unshare fail with "Operation not permitted".
   */
  static void userNamespacesAllowed(Path procSys) {
    if ("0".equals(sysctl(procSys.resolve("user/max_user_namespaces")))) {
      throw LabenvException.failed("this host allows no user namespaces (user.max_user_namespaces = 0), which "
          + "labenv needs without root: ask an administrator to raise it (sysctl -w user.max_user_namespaces=15000)"
          + " or run as root");
    }
    if ("0".equals(sysctl(procSys.resolve("kernel/unprivileged_userns_clone")))) {
      throw LabenvException.failed("this host forbids user namespaces to ordinary users "
          + "(kernel.unprivileged_userns_clone = 0), which labenv needs without root: ask an administrator to run "
          + "sysctl -w kernel.unprivileged_userns_clone=1, or run as root");
    }
  }

  private static String sysctl(Path file) {
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      return null; // the knob does not exist on this kernel
    }
  }

  /**
   * What the build put beside labenv's jar for the init JVM (env-cli's cds.sh): its class-data
   * archive and JNA's unpacked native library, each used only when newer than the jar. The JVM
   * checks the archive itself too, and starts without it when it does not fit; JNA unpacks its library
   * itself when that copy does not load.
   */
  static List<String> fastStart(String classPath) {
    if (classPath == null || !classPath.endsWith(".jar") || classPath.contains(java.io.File.pathSeparator)) {
      return List.of();
    }
    Path jar = Path.of(classPath).toAbsolutePath();
    String base = jar.toString().substring(0, jar.toString().length() - ".jar".length());
    List<String> flags = new ArrayList<>();
    try {
      var built = Files.getLastModifiedTime(jar);
      Path archive = Path.of(base + "-init.jsa");
      if (Files.isRegularFile(archive) && Files.getLastModifiedTime(archive).compareTo(built) > 0) {
        flags.add("-XX:SharedArchiveFile=" + archive);
      }
      // Named by JNA's version: JNA refuses a native library of another version instead of unpacking its own.
      Path jna = Path.of(base + "-jna-" + com.sun.jna.Native.VERSION);
      Path lib = jna.resolve("libjnidispatch.so");
      if (Files.isRegularFile(lib) && Files.getLastModifiedTime(lib).compareTo(built) > 0) {
        flags.add("-Djna.boot.library.path=" + jna);
      }
    } catch (IOException e) {
      // the jar or its companions moved: start the slow way
    }
    return flags;
  }

  /** Removes the container's directory (its root filesystem and spec). */
  public void remove(Container container) {
    container.rootfs().release();
    containers.discard(container.id(), container.name());
  }

  /**
   * The images of every container in the store, as roots for {@code prune} and {@code rmi}: a
   * container's layers stay while the container does, whatever happens to its image's names.
   */
  public static labenv.store.GcRoots gcRoots(ContentStore store) {
    return () -> {
      Path containers = store.root().resolve(ContentStore.CONTAINERS_DIR);
      List<labenv.image.Descriptor> roots = new ArrayList<>();
      if (!Files.isDirectory(containers)) {
        return roots;
      }
      try (var dirs = Files.newDirectoryStream(containers)) {
        for (Path d : dirs) {
          Path f = d.resolve(IMAGE_FILE);
          if (Files.isRegularFile(f)) {
            roots.add(Json.parse(Files.readAllBytes(f), labenv.image.Descriptor.class, f.toString()));
          }
        }
      } catch (IOException e) {
        // Collecting without knowing what containers hold could delete their layers: refuse.
        throw LabenvException.failed("cannot read " + containers + ": " + e.getMessage(), e);
      }
      return roots;
    };
  }
}
