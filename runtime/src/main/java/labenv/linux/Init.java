package labenv.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.StringArray;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.container.ContainerSpec;

/**
 * The container's first process: started by {@code unshare} inside the new namespaces (as pid 1 of
 * the new pid namespace), it builds the container's mounts, pivots into the root filesystem, drops
 * privileges and replaces itself with the command. Lean on purpose: it starts on every run.
 *
 * <p>Exit status when the command never starts: 125 for a setup failure, 126 when the command cannot
 * be executed, 127 when it is not found; one line on stderr says why.
 */
public final class Init {
  private Init() {}

  static final int SETUP_FAILED = 125;
  static final int CANNOT_EXECUTE = 126;
  static final int NOT_FOUND = 127;

  private static final List<String> DEVICES = List.of("null", "zero", "full", "random", "urandom", "tty");

  /**
   * {@code Init SPECFILE [EXECFIFO]}. With EXECFIFO ({@code labenv runtime create}), init writes a byte to
   * {@code EXECFIFO.ready} once it is set up, then waits until {@code labenv runtime start} opens EXECFIFO for
   * reading before it execs, as runc's exec.fifo does.
   */
  public static void main(String[] args) {
    if (args.length != 1 && args.length != 2) {
      System.err.println("labenv-init: usage: Init SPECFILE [EXECFIFO]");
      System.exit(SETUP_FAILED);
    }
    ContainerSpec spec;
    try {
      // Tells the launcher that unshare did its part (any status from here on is the container's or ours) and
      // this process's pid on the host: /proc is still the host's until setUp mounts the container's.
      String hostPid = Files.readSymbolicLink(Path.of("/proc/self")).toString();
      try (var marker = new java.io.FileOutputStream(args[0] + ".started")) {
        marker.write((hostPid + "\n").getBytes(StandardCharsets.US_ASCII));
      }
    } catch (IOException e) {
      System.err.println("labenv: cannot write " + args[0] + ".started: " + e.getMessage());
      System.exit(SETUP_FAILED);
    }
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[0])))) {
      spec = ContainerSpec.read(in);
    } catch (IOException e) {
      System.err.println("labenv: cannot read container spec " + args[0] + ": " + e.getMessage());
      System.exit(SETUP_FAILED);
      return;
    }
    try {
      // Opened now: after pivot_root the host's paths are gone, but descriptors stay.
      int[] fifos = args.length == 2 ? new int[] {open(args[1], Libc.O_PATH | Libc.O_CLOEXEC),
          open(args[1] + ".ready", Libc.O_WRONLY | Libc.O_CLOEXEC)} : null;
      setUp(spec);
      if (TERMINAL) {
        controllingTerminal();
      }
      if (fifos != null) {
        awaitStart(fifos[0], fifos[1]);
      }
    } catch (RuntimeException e) {
      System.err.println("labenv: " + e.getMessage());
      System.exit(SETUP_FAILED);
    }
    System.exit(exec(spec.process()));
  }

  /** Set by the launcher when stdin, stdout and stderr are the slave of a pseudo-terminal ({@code run -t}). */
  private static final boolean TERMINAL = "1".equals(System.getenv("LABENV_INIT_TTY"));

  /** A session of its own with the terminal on stdin as its controlling terminal: job control, ^C, SIGWINCH. */
  private static void controllingTerminal() {
    try {
      Libc.setsid();
      Libc.ioctl(0, Libc.TIOCSCTTY, 0L);
    } catch (LastErrorException e) {
      throw new ErrnoException("setsid/TIOCSCTTY", "stdin", e.getErrorCode());
    }
  }

  /**
   * Tells {@code create} that the container is set up, then blocks opening the exec FIFO for writing until
   * {@code start} opens it for reading. Reopened through /proc/self/fd: the FIFO is mode 0622, so any uid may.
   */
  private static void awaitStart(int execFifo, int ready) {
    byte[] zero = {'0'};
    try {
      Libc.write(ready, zero, 1);
      Libc.close(ready);
      int fd = Libc.open(Syscalls.cstr("/proc/self/fd/" + execFifo), Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
      Libc.write(fd, zero, 1);
      Libc.close(fd);
      Libc.close(execFifo);
    } catch (LastErrorException e) {
      throw new ErrnoException("exec fifo", null, e.getErrorCode());
    }
  }

  private static int open(String path, int flags) {
    try {
      return Libc.open(Syscalls.cstr(path), flags, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("open", path, e.getErrorCode());
    }
  }

  /**
   * The order matters: mounts need the host's paths (device nodes, volume sources), so they come
   * before pivot_root; privileges drop after the last mount and before exec.
   */
  static void setUp(ContainerSpec spec) {
    // runc's default umask (the spec sets none): what the container creates must not depend on the umask of the
    // shell that ran labenv, or a RUN step's layer (and the image digest) would.
    Libc.umask(0022);
    // Nothing we mount may propagate back to the host.
    mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE, null);
    String root = spec.root().path();
    // pivot_root needs the new root to be a mount point.
    mount(root, root, null, Libc.MS_BIND | Libc.MS_REC, null);
    int rootFd = open(root);
    mountIn(rootFd, "/proc", true, "proc", "proc", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
    devices(rootFd);
    sys(rootFd);
    for (ContainerSpec.Mount m : spec.mounts()) {
      volume(rootFd, m);
    }
    // Docker creates a missing working directory; resolved in the root like the mount points.
    Libc.close(resolve(rootFd, spec.process().cwd(), true));
    Libc.close(rootFd);
    byte[] hostname = spec.hostname().getBytes(StandardCharsets.UTF_8);
    try {
      Libc.sethostname(hostname, hostname.length);
    } catch (LastErrorException e) {
      throw new ErrnoException("sethostname", spec.hostname(), e.getErrorCode());
    }
    if (spec.network() == ContainerSpec.Network.NONE) {
      loopbackUp();
    }
    pivotRoot(root);
    if (spec.root().readonly()) {
      remountReadOnly("/");
    }
    maskPaths();
    chdir(spec.process().cwd());
    Privileges.drop(spec.process().user(), spec.security());
  }

  /**
   * After pivot_root, so the paths are the container's fresh proc and sys, which the image cannot redirect.
   * A file is hidden under /dev/null, a directory under an empty read-only tmpfs; what this kernel lacks is skipped.
   */
  private static void maskPaths() {
    for (String path : Confinement.MASKED_PATHS) {
      try {
        Libc.mount(NULL_DEVICE, Syscalls.cstr(path), null, Libc.MS_BIND, null);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == Libc.ENOTDIR) {
          mount("tmpfs", path, "tmpfs", Libc.MS_RDONLY | Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
        } else if (e.getErrorCode() != Libc.ENOENT) {
          throw new ErrnoException("mount", "/dev/null\" on \"" + path, e.getErrorCode());
        }
      }
    }
    for (String path : Confinement.READONLY_PATHS) {
      try {
        Libc.mount(Syscalls.cstr(path), Syscalls.cstr(path), null, Libc.MS_BIND | Libc.MS_REC, null);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == Libc.ENOENT) {
          continue;
        }
        throw new ErrnoException("mount", path + "\" on \"" + path, e.getErrorCode());
      }
      remountReadOnly(path);
    }
  }

  private static final byte[] NULL_DEVICE = {'/', 'd', 'e', 'v', '/', 'n', 'u', 'l', 'l', 0};

  /** A tmpfs /dev with the host's harmless device nodes bound in (mknod is not allowed in a user namespace). */
  private static void devices(int rootFd) {
    mountIn(rootFd, "/dev", true, "tmpfs", "tmpfs", Libc.MS_NOSUID | Libc.MS_STRICTATIME, "mode=755,size=65536k");
    // Our own tmpfs now: plain paths below it cannot be redirected by the image's symlinks.
    Path dev = Path.of(hostPath(rootFd, "/dev"));
    try {
      for (String d : DEVICES) {
        Files.createFile(dev.resolve(d));
        mount("/dev/" + d, dev.resolve(d).toString(), null, Libc.MS_BIND, null);
      }
      Files.createDirectory(dev.resolve("pts"));
      mount("devpts", dev.resolve("pts").toString(), "devpts", Libc.MS_NOSUID | Libc.MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=0620");
      Files.createSymbolicLink(dev.resolve("ptmx"), Path.of("pts/ptmx"));
      Files.createDirectory(dev.resolve("shm"));
      mount("shm", dev.resolve("shm").toString(), "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC,
          "mode=1777,size=65536k");
      Files.createSymbolicLink(dev.resolve("fd"), Path.of("/proc/self/fd"));
      Files.createSymbolicLink(dev.resolve("stdin"), Path.of("/proc/self/fd/0"));
      Files.createSymbolicLink(dev.resolve("stdout"), Path.of("/proc/self/fd/1"));
      Files.createSymbolicLink(dev.resolve("stderr"), Path.of("/proc/self/fd/2"));
      if (TERMINAL) {
        // The terminal is a host pty, not one of the container's devpts: as runc does, it is /dev/console, where
        // ttyname() finds it. /proc is the host's still: stdin's link names the slave.
        Files.createFile(dev.resolve("console"));
        String slave = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
        mount(slave, dev.resolve("console").toString(), null, Libc.MS_BIND, null);
      }
    } catch (IOException e) {
      throw new IllegalStateException("populate " + dev + ": " + e.getMessage());
    }
  }

  /** sysfs read-only; in a user namespace that does not own the network namespace, the host's /sys bound read-only. */
  private static void sys(int rootFd) {
    long flags = Libc.MS_RDONLY | Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC;
    try {
      mountIn(rootFd, "/sys", true, "sysfs", "sysfs", flags, null);
    } catch (ErrnoException e) {
      if (e.errno() != Libc.EPERM) {
        throw e;
      }
      mountIn(rootFd, "/sys", true, "/sys", null, Libc.MS_BIND | Libc.MS_REC, null);
      remountReadOnlyIn(rootFd, "/sys");
    }
  }

  private static void volume(int rootFd, ContainerSpec.Mount m) {
    if (m.type().equals("tmpfs")) {
      tmpfs(rootFd, m);
      return;
    }
    boolean dir = Files.isDirectory(Path.of(m.source()));
    mountIn(rootFd, m.destination(), dir, m.source(), null, Libc.MS_BIND | Libc.MS_REC, null);
    if (m.isReadOnly()) {
      remountReadOnlyIn(rootFd, m.destination());
    }
  }

  /**
   * A fresh tmpfs, always nosuid and nodev; flag options become mount flags, the rest (size=, mode=) the data,
   * world-writable and sticky like /tmp unless a mode is given.
   */
  private static void tmpfs(int rootFd, ContainerSpec.Mount m) {
    long flags = Libc.MS_NOSUID | Libc.MS_NODEV;
    StringBuilder data = new StringBuilder();
    boolean mode = false;
    for (String o : m.options()) {
      switch (o) {
        case "ro" -> flags |= Libc.MS_RDONLY;
        case "noexec" -> flags |= Libc.MS_NOEXEC;
        case "rw", "nosuid", "nodev", "exec" -> { }
        default -> {
          mode |= o.startsWith("mode=");
          data.append(data.length() == 0 ? "" : ",").append(o);
        }
      }
    }
    if (!mode) {
      data.append(data.length() == 0 ? "" : ",").append("mode=1777");
    }
    mountIn(rootFd, m.destination(), true, "tmpfs", "tmpfs", flags, data.toString());
  }

  /**
   * A bind mount is made read-only by a second, remounting call; it must repeat the flags the kernel
   * has locked (nosuid, nodev, noexec, atime) or a user namespace refuses the remount.
   */
  private static void remountReadOnly(String target) {
    long[] buf = new long[16];
    try {
      Libc.statvfs(Syscalls.cstr(target), buf);
    } catch (LastErrorException e) {
      throw new ErrnoException("statvfs", target, e.getErrorCode());
    }
    long f = buf[9];
    long flags = Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY;
    flags |= (f & Libc.ST_NOSUID) != 0 ? Libc.MS_NOSUID : 0;
    flags |= (f & Libc.ST_NODEV) != 0 ? Libc.MS_NODEV : 0;
    flags |= (f & Libc.ST_NOEXEC) != 0 ? Libc.MS_NOEXEC : 0;
    flags |= (f & Libc.ST_NOATIME) != 0 ? Libc.MS_NOATIME : 0;
    flags |= (f & Libc.ST_NODIRATIME) != 0 ? Libc.MS_NODIRATIME : 0;
    flags |= (f & Libc.ST_RELATIME) != 0 ? Libc.MS_RELATIME : 0;
    mount(null, target, null, flags, null);
  }

  /**
   * Mounts onto {@code dest} inside the root, resolved by the kernel as if the root were "/"
   * (openat2 RESOLVE_IN_ROOT), so the image's symlinks cannot point a mount at the host. Missing
   * directories (and a missing final file, for a file volume) are created. Returns the target as mounted.
   */
  private static void mountIn(int rootFd, String dest, boolean dir, String source, String type, long flags,
      String data) {
    int fd = resolve(rootFd, dest, dir);
    try {
      mount(source, "/proc/self/fd/" + fd, type, flags, data);
    } catch (ErrnoException e) {
      throw new ErrnoException("mount", (source == null ? "" : source + "\" on \"") + dest, e.errno());
    } finally {
      Libc.close(fd);
    }
  }

  /** The host's path of {@code dest} inside the root now (after a mount, the mount's top). */
  private static String hostPath(int rootFd, String dest) {
    int fd = resolve(rootFd, dest, true);
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    } catch (IOException e) {
      throw new IllegalStateException("readlink /proc/self/fd/" + fd + ": " + e.getMessage());
    } finally {
      Libc.close(fd);
    }
  }

  private static void remountReadOnlyIn(int rootFd, String dest) {
    int fd = resolve(rootFd, dest, true);
    try {
      remountReadOnly("/proc/self/fd/" + fd);
    } catch (ErrnoException e) {
      throw new ErrnoException("remount read-only", dest, e.errno());
    } finally {
      Libc.close(fd);
    }
  }

  private static int resolve(int rootFd, String dest, boolean dir) {
    String[] parts = dest.split("/");
    StringBuilder path = new StringBuilder();
    int last = -1;
    for (int i = 0; i < parts.length; i++) {
      if (!parts[i].isEmpty()) {
        last = i;
      }
    }
    int fd = -1;
    for (int i = 0; i < parts.length; i++) {
      if (parts[i].isEmpty()) {
        continue;
      }
      String parent = path.length() == 0 ? "." : path.toString();
      path.append(path.length() == 0 ? "" : "/").append(parts[i]);
      boolean wantDir = i != last || dir;
      if (fd >= 0) {
        Libc.close(fd);
      }
      fd = openOrCreate(rootFd, parent, path.toString(), parts[i], wantDir);
    }
    return fd >= 0 ? fd : Syscalls.openat2(rootFd, new byte[] {'.'}, Libc.O_PATH, 0, Libc.RESOLVE_IN_ROOT);
  }

  private static int openOrCreate(int rootFd, String parent, String path, String name, boolean dir) {
    byte[] p = path.getBytes(StandardCharsets.UTF_8);
    try {
      return Syscalls.openat2(rootFd, p, Libc.O_PATH, 0, Libc.RESOLVE_IN_ROOT);
    } catch (ErrnoException e) {
      if (e.errno() != Libc.ENOENT) {
        throw e;
      }
    }
    int parentFd = Syscalls.openat2(rootFd, parent.getBytes(StandardCharsets.UTF_8), Libc.O_PATH | Libc.O_DIRECTORY,
        0, Libc.RESOLVE_IN_ROOT);
    try {
      if (dir) {
        Libc.mkdirat(parentFd, Syscalls.cstr(name), 0755);
      } else {
        Libc.close(Libc.openat(parentFd, Syscalls.cstr(name), Libc.O_CREAT | Libc.O_EXCL | Libc.O_WRONLY
            | Libc.O_CLOEXEC, 0644));
      }
    } catch (LastErrorException e) {
      if (e.getErrorCode() != Libc.EEXIST) {
        throw new ErrnoException(dir ? "mkdirat" : "openat", path, e.getErrorCode());
      }
    } finally {
      Libc.close(parentFd);
    }
    return Syscalls.openat2(rootFd, p, Libc.O_PATH, 0, Libc.RESOLVE_IN_ROOT);
  }

  /** The new network namespace's loopback starts down: SIOCSIFFLAGS sets IFF_UP, as `ip link set lo up` does. */
  private static void loopbackUp() {
    int sock;
    try {
      sock = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("socket", "AF_INET", e.getErrorCode());
    }
    byte[] ifreq = new byte[40];
    ifreq[0] = 'l';
    ifreq[1] = 'o';
    try {
      Libc.ioctl(sock, Libc.SIOCGIFFLAGS, ifreq);
      ifreq[16] |= Libc.IFF_UP;
      Libc.ioctl(sock, Libc.SIOCSIFFLAGS, ifreq);
    } catch (LastErrorException e) {
      throw new ErrnoException("ioctl SIOCSIFFLAGS", "lo", e.getErrorCode());
    } finally {
      Libc.close(sock);
    }
  }

  /** pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the container's. */
  private static void pivotRoot(String root) {
    chdir(root);
    try {
      Libc.syscall(Libc.sysPivotRoot(), new byte[] {'.', 0}, new byte[] {'.', 0});
    } catch (LastErrorException e) {
      throw new ErrnoException("pivot_root", root, e.getErrorCode());
    }
    try {
      Libc.umount2(new byte[] {'.', 0}, Libc.MNT_DETACH);
    } catch (LastErrorException e) {
      throw new ErrnoException("umount2", "old root", e.getErrorCode());
    }
    chdir("/");
  }

  /** An environment entry Init takes as the command's umask (octal) and removes: how labenv check varies it. */
  public static final String UMASK_VARIABLE = "LABENV_INIT_UMASK";

  /**
   * execve with execvp's PATH search; returns an exit status only when no candidate could be run.
   * The JVM's descriptors must not leak into the command, and its signal mask must not be inherited.
   */
  static int exec(ContainerSpec.Process process) {
    try {
      Libc.syscall(Libc.SYS_CLOSE_RANGE, 3, -1, Libc.CLOSE_RANGE_CLOEXEC);
      // Default dispositions, as a container's command expects them: an ignored signal survives exec, and labenv
      // started in the background by a script (&) has SIGINT and SIGQUIT ignored: ^C would not reach a shell's job.
      // Only those a shell or its caller set to ignored: SIGSEGV and the others are this JVM's own until exec.
      for (int sig : new int[] {1, 2, 3, 13, 15, 17, 20, 21, 22}) { // HUP INT QUIT PIPE TERM CHLD TSTP TTIN TTOU
        Libc.signal(sig, null);
      }
      Libc.sigprocmask(Libc.SIG_SETMASK, new byte[128], null);
    } catch (LastErrorException e) {
      System.err.println("labenv: close_range/sigprocmask: " + Libc.errorText(e.getErrorCode()));
      return SETUP_FAILED;
    }
    String cmd = process.args().get(0);
    StringArray argv = new StringArray(process.args().toArray(new String[0]), "UTF-8");
    List<String> env = new java.util.ArrayList<>(process.env());
    // labenv check varies the umask: it asks for one here, and the command never sees the request.
    for (java.util.Iterator<String> it = env.iterator(); it.hasNext(); ) {
      String e = it.next();
      if (e.startsWith(UMASK_VARIABLE + "=")) {
        it.remove();
        try {
          Libc.umask(Integer.parseInt(e.substring(UMASK_VARIABLE.length() + 1), 8) & 0777);
        } catch (NumberFormatException ex) {
          System.err.println("labenv: " + e + ": not an octal umask");
          return SETUP_FAILED;
        }
      }
    }
    StringArray envp = new StringArray(env.toArray(new String[0]), "UTF-8");
    List<String> candidates;
    if (cmd.contains("/")) {
      candidates = List.of(cmd);
    } else {
      String path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
      for (String e : process.env()) {
        if (e.startsWith("PATH=")) {
          path = e.substring(5);
        }
      }
      candidates = new java.util.ArrayList<>();
      for (String dir : path.split(":", -1)) {
        candidates.add((dir.isEmpty() ? "." : dir) + "/" + cmd);
      }
    }
    int denied = 0;
    for (String c : candidates) {
      try {
        Libc.execve(Syscalls.cstr(c), argv, envp);
      } catch (LastErrorException e) {
        int errno = e.getErrorCode();
        if (errno == Libc.EACCES || errno == Libc.ENOEXEC || errno == Libc.EPERM) {
          denied = errno;
        } else if (errno != Libc.ENOENT && errno != Libc.ENOTDIR) {
          System.err.println("labenv: exec \"" + c + "\": " + Libc.errorText(errno));
          return CANNOT_EXECUTE;
        }
      }
    }
    if (denied != 0) {
      System.err.println("labenv: exec \"" + cmd + "\": " + Libc.errorText(denied));
      return CANNOT_EXECUTE;
    }
    System.err.println("labenv: exec \"" + cmd + "\": executable file not found"
        + (cmd.contains("/") ? "" : " in $PATH"));
    return NOT_FOUND;
  }

  private static void mount(String source, String target, String type, long flags, String data) {
    try {
      Libc.mount(c(source), c(target), c(type), flags, c(data));
    } catch (LastErrorException e) {
      throw new ErrnoException("mount", (source == null ? "" : source + "\" on \"") + target, e.getErrorCode());
    }
  }

  private static int open(String dir) {
    try {
      return Libc.open(Syscalls.cstr(dir), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("open", dir, e.getErrorCode());
    }
  }

  private static void chdir(String dir) {
    try {
      Libc.chdir(Syscalls.cstr(dir));
    } catch (LastErrorException e) {
      throw new ErrnoException("chdir", dir, e.getErrorCode());
    }
  }

  private static byte[] c(String s) {
    return s == null ? null : Syscalls.cstr(s);
  }
}
