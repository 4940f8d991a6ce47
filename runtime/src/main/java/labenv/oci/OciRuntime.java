package labenv.oci;

import com.sun.jna.LastErrorException;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.container.Cgroups;
import labenv.container.Limits;
import labenv.container.Processes;
import labenv.container.Launcher;
import labenv.image.Json;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.store.AtomicFile;

/**
 * An OCI runtime in the shape of runc's command line: {@code create} builds a bundle's container and leaves its
 * init waiting, {@code start} lets it exec the process, {@code state}, {@code kill} and {@code delete}. The
 * container is labenv's own: util-linux {@code unshare} makes the namespaces the config asks for and
 * {@link labenv.linux.Init} does the rest, in its own session so that it outlives {@code create}.
 *
 * <p>Each container has a directory under the state root: {@code state.json} (written atomically), {@code lock}
 * (held by whoever changes the container), Init's spec, and runc's two FIFOs: {@code exec.fifo}, which Init opens
 * for writing once set up and which {@code start} opens for reading (it exists exactly while the container is
 * created), and {@code exec.fifo.ready}, through which Init tells {@code create} it is set up.
 */
public final class OciRuntime {
  /** runc's rule for container ids. */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_+.-]{0,1023}");
  private static final String STATE = "state.json";
  private static final String EXEC_FIFO = "exec.fifo";
  private static final String READY_FIFO = EXEC_FIFO + ".ready";
  private static final String INIT_SPEC = "init.spec";

  private final Path root;

  /** @param root the state directory, one subdirectory per container */
  public OciRuntime(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** runc's default: /run/labenv for root, $XDG_RUNTIME_DIR/labenv for anyone else. */
  public static Path defaultRoot(Map<String, String> env) {
    if (Libc.geteuid() == 0) {
      return Path.of("/run/labenv");
    }
    String runtimeDir = env.get("XDG_RUNTIME_DIR");
    if (runtimeDir == null || runtimeDir.isEmpty()) {
      throw LabenvException.badInput("XDG_RUNTIME_DIR is not set: give the state directory with --root DIR");
    }
    return Path.of(runtimeDir, "labenv");
  }

  /** What {@code state.json} keeps: what {@link #state} reports, and what {@link #delete} must undo. */
  record Saved(String id, String bundle, Map<String, String> annotations, long pid, long startTime,
      List<String> cgroups, long pids, long memory, String created) {}

  /**
   * Creates the container {@code id} from the bundle in {@code bundle}: namespaces, mounts, pivot_root and
   * confinement done, its init waiting for {@link #start}. Writes the container's pid to {@code pidFile} (when
   * not null), as runc does. The container inherits this process's stdio.
   */
  public OciState create(String id, Path bundle, Path pidFile) {
    checkId(id);
    OciConfig.Bundle b = OciConfig.Bundle.read(bundle);
    UserNamespace caller = new UserNamespace(Libc.geteuid(), Libc.getegid());
    String config = b.dir().resolve("config.json").toString();
    if (b.userNamespace() == null && Libc.geteuid() != 0) {
      throw LabenvException.badInput(config + ": linux.namespaces: not running as root, labenv needs a user namespace"
          + " mapping uid " + caller.hostUid() + " and gid " + caller.hostGid() + " to 0");
    }
    if (b.userNamespace() != null && !b.userNamespace().equals(caller)) {
      throw LabenvException.badInput(config + ": linux.uidMappings: labenv maps only the caller's ids (uid "
          + caller.hostUid() + ", gid " + caller.hostGid() + ") to 0, not uid " + b.userNamespace().hostUid()
          + ", gid " + b.userNamespace().hostGid());
    }
    Path dir = root.resolve(id);
    try {
      Files.createDirectories(root);
      Files.createDirectory(dir);
    } catch (FileAlreadyExistsException e) {
      throw LabenvException.failed("container " + id + " already exists (in " + root + ")");
    } catch (IOException e) {
      throw LabenvException.failed("cannot create " + dir + ": " + e.getMessage(), e);
    }
    Cgroups cgroups = null;
    Process unshare = null;
    try (FileChannel lock = lock(dir)) {
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
          Files.newOutputStream(dir.resolve(INIT_SPEC))))) {
        b.spec().write(out);
      }
      // Any uid may open the exec FIFO for writing: Init does so after it has become the process's user.
      mkfifo(dir.resolve(EXEC_FIFO), "rw--w--w-");
      mkfifo(dir.resolve(READY_FIFO), "rw-------");
      if (b.limits().any()) {
        cgroups = Cgroups.create(id, b.limits());
      }
      // Held open for reading and writing: Init's open for writing never blocks, and its end of it closing
      // (when it dies) is not mistaken for a message.
      int ready = Syscalls.openat(Libc.AT_FDCWD, bytes(dir.resolve(READY_FIFO)),
          Libc.O_RDWR | Libc.O_CLOEXEC, 0);
      try {
        unshare = spawn(b, dir, cgroups);
        awaitReady(id, dir, ready, unshare);
      } finally {
        Libc.close(ready);
      }
      Files.delete(dir.resolve(READY_FIFO));
      ProcessHandle init = unshare.toHandle().children().findFirst()
          .orElseThrow(() -> LabenvException.failed("container " + id + ": its init is gone"));
      long startTime = startTime(init.pid()).orElseThrow(() -> LabenvException.failed("container " + id
          + ": its init is gone"));
      List<String> groups = cgroups == null ? List.of()
          : cgroups.procsFiles().stream().map(f -> f.getParent().toString()).toList();
      Saved saved = new Saved(id, b.dir().toString(), b.annotations().isEmpty() ? null : b.annotations(), init.pid(),
          startTime, groups, b.limits().pids(), b.limits().memoryBytes(), Instant.now().toString());
      AtomicFile.write(dir.resolve(STATE), Json.canonical(saved));
      if (pidFile != null) {
        AtomicFile.write(pidFile.toAbsolutePath(), Long.toString(init.pid()).getBytes(StandardCharsets.US_ASCII));
      }
      return state(saved, dir);
    } catch (IOException | RuntimeException e) {
      if (unshare != null) {
        // unshare --kill-child takes the container's init with it.
        unshare.destroyForcibly();
        unshare.onExit().join();
      }
      if (cgroups != null) {
        try {
          cgroups.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      removeDir(dir);
      throw e instanceof RuntimeException re ? re
          : LabenvException.failed("cannot create container " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * setsid, so that the container outlives this process and its terminal session; a shell that joins the cgroups;
   * unshare with the config's namespaces; Init with the exec FIFO.
   */
  private static Process spawn(OciConfig.Bundle b, Path dir, Cgroups cgroups) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(labenv.container.HostTools.utilLinux("unshare", null)));
    for (var ns : List.of(List.of("mount", "--mount"), List.of("uts", "--uts"), List.of("ipc", "--ipc"),
        List.of("pid", "--pid"), List.of("cgroup", "--cgroup"), List.of("network", "--net"),
        List.of("time", "--time"))) {
      if (b.namespaces().contains(ns.get(0))) {
        cmd.add(ns.get(1));
      }
    }
    if (b.namespaces().contains("user")) {
      cmd.addAll(List.of("--user", "--map-root-user"));
    }
    cmd.addAll(List.of("--fork", "--kill-child", "--propagation", "private"));
    cmd.addAll(Launcher.initJvm(List.of(dir.resolve(INIT_SPEC).toString(), dir.resolve(EXEC_FIFO).toString())));
    if (cgroups != null) {
      cmd = Launcher.joiningCgroups(cgroups, cmd);
    }
    cmd.add(0, setsid());
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    // The init JVM needs no environment; the container's comes from its spec.
    pb.environment().keySet().retainAll(List.of("LANG", "LC_ALL", "TMPDIR"));
    return pb.start();
  }

  /** Waits for Init's byte on the ready FIFO, or for unshare to end first (Init said why on stderr). */
  private static void awaitReady(String id, Path dir, int ready, Process unshare) {
    byte[] b = new byte[1];
    CompletableFuture<Long> message = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try {
        message.complete(Libc.read(ready, b, 1));
      } catch (RuntimeException e) {
        message.completeExceptionally(e);
      }
    }, "labenv-ready");
    reader.setDaemon(true);
    reader.start();
    CompletableFuture.anyOf(message, unshare.onExit()).join();
    if (message.isDone() && !message.isCompletedExceptionally() && message.join() == 1 && b[0] == '0') {
      return;
    }
    // Wakes the reader: this process holds the write end too.
    Libc.write(ready, new byte[] {'x'}, 1);
    if (!unshare.isAlive()) {
      int status = unshare.exitValue();
      boolean started = Files.exists(dir.resolve(INIT_SPEC + ".started"));
      throw LabenvException.failed("container " + id + ": " + (started ? "its init" : "unshare")
          + " exited with status " + status + " before the container was created");
    }
    throw LabenvException.failed("container " + id + ": cannot read " + dir.resolve(READY_FIFO));
  }

  /** Lets the created container's init exec the process, and returns once it has been let go. */
  public void start(String id) {
    Path dir = existing(id);
    try (FileChannel lock = lock(dir)) {
      Saved s = saved(dir, id);
      String status = status(dir, s);
      if (!status.equals(OciState.CREATED)) {
        throw LabenvException.failed("container " + id + " is " + status + ": only a created container can be started");
      }
      Path fifo = dir.resolve(EXEC_FIFO);
      int fd = Syscalls.openat(Libc.AT_FDCWD, bytes(fifo), Libc.O_RDONLY | Libc.O_NONBLOCK
          | Libc.O_CLOEXEC, 0);
      try {
        // Opening the read end releases Init's open of the write end; its byte follows. Read without blocking
        // so that an init that died meanwhile cannot hang start.
        byte[] b = new byte[1];
        while (true) {
          long n;
          try {
            n = Libc.read(fd, b, 1);
          } catch (LastErrorException e) {
            if (e.getErrorCode() != Libc.EAGAIN && e.getErrorCode() != Libc.EINTR) {
              throw new ErrnoException("read", fifo.toString(), e.getErrorCode());
            }
            n = -1;
          }
          if (n == 1) {
            break;
          }
          if (!alive(s.pid(), s.startTime())) {
            throw LabenvException.failed("container " + id + ": its init exited before it could start");
          }
          LockSupport.parkNanos(50_000);
        }
      } finally {
        Libc.close(fd);
      }
      Files.delete(fifo);
      if (s.pids() > 0 || s.memory() > 0) {
        tighten(s);
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot start container " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * Init is a JVM with more threads and memory than small limits allow, so the groups have headroom until the
   * command runs ({@link Cgroups#INIT_PIDS_HEADROOM}): once Init has exec'd, it is one thread, and they tighten.
   */
  private static void tighten(Saved s) throws IOException {
    Path task = Path.of("/proc/" + s.pid() + "/task");
    for (int i = 0; i < 100_000 && alive(s.pid(), s.startTime()); i++) {
      try (Stream<Path> threads = Files.list(task)) {
        if (threads.count() <= 1) {
          break;
        }
      } catch (IOException e) {
        break;
      }
      LockSupport.parkNanos(100_000);
    }
    Cgroups.tighten(s.cgroups().stream().map(Path::of).toList(), new Limits(s.memory(), 0, s.pids()));
  }

  /** The container's state as the runtime spec defines it. */
  public OciState state(String id) {
    Path dir = existing(id);
    if (!Files.exists(dir.resolve(STATE))) {
      // create is still at work (it writes state.json last), or died: delete removes what it left.
      return new OciState(OciConfig.VERSION, id, OciState.CREATING, 0, "", null);
    }
    return state(saved(dir, id), dir);
  }

  private static OciState state(Saved s, Path dir) {
    String status = status(dir, s);
    long pid = status.equals(OciState.STOPPED) ? 0 : s.pid();
    return new OciState(OciConfig.VERSION, s.id(), status, pid, s.bundle(), s.annotations());
  }

  /** Sends {@code signal} to the container's process (to its waiting init while created). */
  public void kill(String id, int signal) {
    Path dir = existing(id);
    try (FileChannel lock = lock(dir)) {
      Saved s = saved(dir, id);
      String status = status(dir, s);
      if (status.equals(OciState.STOPPED)) {
        throw LabenvException.failed("container " + id + " is stopped: there is no process to signal");
      }
      try {
        Libc.kill((int) s.pid(), signal);
      } catch (LastErrorException e) {
        throw new ErrnoException("kill", "container " + id + " pid " + s.pid(), e.getErrorCode());
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot signal container " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * Removes the container's state and cgroups. A created container's waiting init is killed first, as runc does;
   * a running one only with {@code force} (SIGKILL, then waits for it to go).
   */
  public void delete(String id, boolean force) {
    Path dir = existing(id);
    try (FileChannel lock = lock(dir)) {
      Saved s = Files.exists(dir.resolve(STATE)) ? saved(dir, id) : null;
      if (s != null) {
        String status = status(dir, s);
        if (status.equals(OciState.RUNNING) && !force) {
          throw LabenvException.failed("container " + id + " is running: kill it first, or delete --force");
        }
        if (!status.equals(OciState.STOPPED)) {
          try {
            Libc.kill((int) s.pid(), Libc.SIGKILL);
          } catch (LastErrorException e) {
            // gone meanwhile
          }
          awaitGone(id, s);
        }
        removeCgroups(id, s.cgroups());
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot delete container " + id + ": " + e.getMessage(), e);
    }
    removeDir(dir);
  }

  private static void awaitGone(String id, Saved s) {
    // unshare reaps its child at once; SIGKILL cannot be caught, so this is short unless the kernel is stuck.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (alive(s.pid(), s.startTime())) {
      if (System.nanoTime() > deadline) {
        throw LabenvException.failed("container " + id + ": pid " + s.pid() + " is still alive 10s after SIGKILL");
      }
      LockSupport.parkNanos(1_000_000);
    }
  }

  private static void removeCgroups(String id, List<String> groups) {
    List<Path> left = Cgroups.removeGroups(groups.stream().map(Path::of).toList());
    if (!left.isEmpty()) {
      throw LabenvException.failed("container " + id + ": cannot remove cgroups "
          + String.join(", ", left.stream().map(Path::toString).toList()) + ": still in use");
    }
  }

  /** Alive: /proc shows the pid with the start time it had when created, and not as a zombie. */
  static boolean alive(long pid, long startTime) {
    return Processes.alive(pid, startTime);
  }

  private static Optional<Long> startTime(long pid) {
    long t = Processes.startTime(pid);
    return t < 0 ? Optional.empty() : Optional.of(t);
  }

  /** created while the exec FIFO exists (start removes it), running once it is gone, stopped when the pid is. */
  private static String status(Path dir, Saved s) {
    if (!alive(s.pid(), s.startTime())) {
      return OciState.STOPPED;
    }
    return Files.exists(dir.resolve(EXEC_FIFO)) ? OciState.CREATED : OciState.RUNNING;
  }

  private static Saved saved(Path dir, String id) {
    Path file = dir.resolve(STATE);
    try {
      return Json.parse(Files.readAllBytes(file), Saved.class, file.toString());
    } catch (java.nio.file.NoSuchFileException e) {
      throw LabenvException.failed("container " + id + " is still being created (no " + file + ")");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private Path existing(String id) {
    checkId(id);
    Path dir = root.resolve(id);
    if (!Files.isDirectory(dir)) {
      throw LabenvException.failed("container " + id + " does not exist (in " + root + ")");
    }
    return dir;
  }

  private static void checkId(String id) {
    if (!ID.matcher(id).matches()) {
      throw LabenvException.badInput("container id \"" + id + "\": expected letters, digits and _+.- (not first)");
    }
  }

  /** Held while a command changes the container; the kernel drops it when the process ends, however it ends. */
  private static FileChannel lock(Path dir) throws IOException {
    FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      ch.lock();
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static void mkfifo(Path path, String permissions) throws IOException {
    try {
      Libc.mknodat(Libc.AT_FDCWD, Syscalls.cstr(path.toString()), Libc.S_IFIFO | 0600, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("mknod", path.toString(), e.getErrorCode());
    }
    // Past the umask.
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
  }

  private static void removeDir(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot remove " + dir + ": " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(Path path) {
    return path.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String setsid() {
    for (String d : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      if (Files.isExecutable(Path.of(d, "setsid"))) {
        return d + "/setsid";
      }
    }
    throw LabenvException.failed("setsid not found: install util-linux");
  }
}
