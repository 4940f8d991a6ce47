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

  private final ContentStore store;

  public Launcher(ContentStore store) {
    this.store = store;
  }

  /** Makes a new container directory with its root filesystem (overlay or copy) and its spec. */
  public Container create(Image image, RunOptions options, String name) {
    String id = HexFormat.of().formatHex(random());
    Path dir = store.root().resolve(ContentStore.CONTAINERS_DIR).resolve(id);
    try {
      Files.createDirectories(dir.getParent());
      Files.createDirectory(dir);
      // First, before any layer is unpacked: while this file exists, prune keeps the image's blobs
      // and unpacked layers, even if the image itself is removed (see gcRoots).
      labenv.store.AtomicFile.write(dir.resolve(IMAGE_FILE), Json.canonical(image.descriptor()));
    } catch (IOException e) {
      throw LabenvException.failed("cannot create container directory " + dir + ": " + e.getMessage(), e);
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
      if (name != null) {
        Files.writeString(dir.resolve("name"), name + "\n");
      }
      return container;
    } catch (IOException e) {
      release(rootfs);
      remove(dir);
      throw LabenvException.failed("cannot write container " + id + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      release(rootfs);
      remove(dir);
      throw e;
    }
  }

  private static void release(Rootfs rootfs) {
    if (rootfs != null) {
      rootfs.release();
    }
  }

  private static byte[] random() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }

  /**
   * Runs the container with this process's stdio and returns its exit status (128+N when a signal
   * N killed it). SIGINT and SIGTERM sent to this process are passed on to the container's pid 1;
   * a second one kills it.
   */
  public int start(Container container) {
    return start(container, Limits.NONE).status();
  }

  /** How a container ended: its exit status, and whether the OOM killer killed a process of it. */
  public record Exit(int status, boolean oomKilled) {}

  /**
   * Runs the container under these limits (see {@link #start(Container)}). Its processes are in
   * its cgroups from the first: a shell joins them and execs unshare, so nothing forks outside.
   * An OOM kill makes the status 137 whatever the container did after it.
   */
  public Exit start(Container container, Limits limits) {
    if (!limits.any()) {
      return new Exit(run(container, null), false);
    }
    try (Cgroups cgroups = Cgroups.create(container.id(), limits)) {
      int status = run(container, cgroups);
      return cgroups.oomKilled() ? new Exit(137, true) : new Exit(status, false);
    }
  }

  private int run(Container container, Cgroups cgroups) {
    List<String> cmd = command(container, Libc.geteuid() == 0);
    if (cgroups != null) {
      List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c",
          "while [ \"$1\" != -- ]; do { echo $$ > \"$1\"; } 2>/dev/null || exit " + JOIN_FAILED
          + "; shift; done; shift; exec \"$@\"", "labenv-join"));
      cgroups.procsFiles().forEach(f -> wrapped.add(f.toString()));
      wrapped.add("--");
      wrapped.addAll(cmd);
      cmd = wrapped;
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    // The init JVM needs no environment; the container's comes from its spec.
    pb.environment().keySet().retainAll(List.of("LANG", "LC_ALL", "TMPDIR"));
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw LabenvException.failed("cannot start unshare: " + e.getMessage(), e);
    }
    int status;
    try (SignalForwarding forwarding = SignalForwarding.install(process)) {
      if (cgroups != null && cgroups.limitsPids()) {
        try {
          // Init is a JVM with more threads than a small limit allows, and makes some lazily: it has
          // room while it sets up (Cgroups.create), and the limit tightens the moment it execs the command.
          awaitExec(process);
          cgroups.limitPids(0);
        } catch (RuntimeException e) {
          process.destroyForcibly();
          waitFor(process);
          throw e;
        }
      }
      status = waitFor(process);
    } finally {
      // The container's mount namespace is gone with it; the host's overlay mount goes now.
      container.rootfs().release();
    }
    // unshare's own failures (no user namespaces, no java) exit 1 like a container could: the marker
    // Init writes first tells them apart.
    if (!Files.exists(Path.of(container.initSpec() + ".started")) && status == JOIN_FAILED && cgroups != null) {
      throw LabenvException.failed("container " + container.id().substring(0, 12) + ": cannot join its cgroups "
          + cgroups.procsFiles());
    }
    if (!Files.exists(Path.of(container.initSpec() + ".started")) && status < 128) {
      throw LabenvException.failed("container " + container.id().substring(0, 12)
          + ": unshare could not start it (exit status " + status + ")");
    }
    return status;
  }

  /** The shell that joins the cgroups exits with this when it can't. */
  static final int JOIN_FAILED = 125;

  /**
   * Waits until unshare's child, the init JVM, has exec'd the command: it is then down to one thread
   * (execve ends the others). Polled, so the command runs briefly before the caller acts on it.
   */
  private static void awaitExec(Process process) {
    Path children = Path.of("/proc/" + process.pid() + "/task/" + process.pid() + "/children");
    long init = -1;
    boolean wasThreaded = false;
    while (process.isAlive()) {
      try {
        if (init < 0) {
          String c = Files.readString(children).trim();
          if (!c.isEmpty()) {
            init = Long.parseLong(c.split("\\s+")[0]);
          }
        } else {
          String stat = Files.readString(Path.of("/proc/" + init + "/stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          int threads = Integer.parseInt(f[17]);
          if (threads > 1) {
            wasThreaded = true;
          } else if (wasThreaded) {
            return;
          }
        }
      } catch (IOException | RuntimeException e) {
        return; // init is gone: nothing left to limit
      }
      java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }
  }

  private static int waitFor(Process process) {
    while (true) {
      try {
        return process.waitFor();
      } catch (InterruptedException e) {
        // keep waiting: the container decides when it ends
      }
    }
  }

  static List<String> command(Container container, boolean root) {
    List<String> cmd = new ArrayList<>(List.of(unshare(), "--mount", "--uts", "--ipc", "--pid", "--fork",
        "--cgroup", "--kill-child", "--propagation", "private"));
    if (container.spec().network() == ContainerSpec.Network.NONE) {
      cmd.add("--net");
    }
    if (!root) {
      cmd.addAll(List.of("--user", "--map-root-user"));
    }
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
    cmd.add(java());
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

  private static String unshare() {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      if (Files.isExecutable(Path.of(dir, "unshare"))) {
        return dir + "/unshare";
      }
    }
    throw LabenvException.failed("unshare not found: install util-linux");
  }

  private static String java() {
    Optional<String> self = ProcessHandle.current().info().command();
    return self.orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
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
    remove(container.dir());
  }

  private static void remove(Path dir) {
    // The applier's removal: fd-based, never follows a symlink, opens up read-only directories.
    new labenv.layer.LayerApplier().remove(dir);
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
