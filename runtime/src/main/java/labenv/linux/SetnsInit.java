package labenv.linux;

import com.sun.jna.LastErrorException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.container.ContainerSpec;

/**
 * A new process in a running container ({@code labenv exec}), like runc's setns init: started by util-linux
 * {@code nsenter} already in the container's pid namespace (and user namespace, when rootless: neither can be
 * joined by a multi-threaded process), one fresh thread joins the container's cgroups and its other namespaces,
 * takes on the container's security and identity and execs the command. execve ends the JVM's other threads, which
 * never left the host's mount namespace (so the JVM could load itself); the command keeps the thread's namespaces,
 * credentials, seccomp filter and no_new_privs.
 *
 * <p>Usage: {@code SetnsInit PID SPECFILE [--tty] [CGROUP_PROCS_FILE...]}: PID is the container's first process as
 * the host sees it; SPECFILE holds the process to run and the container's security ({@link ContainerSpec}'s binary
 * form), and is deleted first, which tells labenv that nsenter did its part; {@code --tty}: standard input is a pty
 * slave that becomes the command's controlling terminal. Exit status as {@link Init}'s when the command never starts:
 * 125 setup, 126 cannot execute (or cannot enter its working directory, as docker), 127 not found.
 */
public final class SetnsInit {
  private SetnsInit() {}

  /** The namespaces joined here, in this order: the mount namespace last, as it changes what paths mean. */
  private static final String[] NAMESPACES = {"cgroup", "ipc", "uts", "net", "mnt"};
  private static final int[] TYPES = {Libc.CLONE_NEWCGROUP, Libc.CLONE_NEWIPC, Libc.CLONE_NEWUTS, Libc.CLONE_NEWNET,
      Libc.CLONE_NEWNS};

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("labenv-exec: usage: SetnsInit PID SPECFILE [--tty] [CGROUP_PROCS_FILE...]");
      System.exit(Init.SETUP_FAILED);
    }
    try {
      // Until it execs, this JVM is a root process in the container's pid namespace with every capability and the
      // host's files open: nobody inside may inspect it (/proc/PID/root, fds, environ) or trace it. execve resets it.
      Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0);
    } catch (LastErrorException e) {
      System.err.println("labenv: prctl PR_SET_DUMPABLE: " + Libc.errorText(e.getErrorCode()));
      System.exit(Init.SETUP_FAILED);
    }
    long pid = Long.parseLong(args[0]);
    ContainerSpec spec;
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[1])))) {
      spec = ContainerSpec.read(in);
      Files.delete(Path.of(args[1]));
    } catch (IOException e) {
      System.err.println("labenv: cannot read exec spec " + args[1] + ": " + e.getMessage());
      System.exit(Init.SETUP_FAILED);
      return;
    }
    boolean tty = args.length > 2 && args[2].equals("--tty");
    List<Path> cgroups = new ArrayList<>();
    for (int i = tty ? 3 : 2; i < args.length; i++) {
      cgroups.add(Path.of(args[i]));
    }
    int[] status = {Init.SETUP_FAILED};
    Thread thread = new Thread(() -> status[0] = enterAndExec(pid, spec, tty, cgroups), "labenv-setns");
    thread.start();
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        // wait for the thread: it execs or returns a status
      }
    }
    System.exit(status[0]);
  }

  /** On the fresh thread: returns only when the command could not be started. */
  private static int enterAndExec(long pid, ContainerSpec spec, boolean tty, List<Path> cgroups) {
    try {
      if (tty) {
        // The command is to be a session leader with the pty as its controlling terminal, so that keys like ^C
        // signal it and job control works: setsid is the process's, and execve keeps it.
        Libc.setsid();
        Libc.ioctl(0, Libc.TIOCSCTTY, 0);
      }
    } catch (LastErrorException e) {
      System.err.println("labenv: setsid/TIOCSCTTY: " + Libc.errorText(e.getErrorCode()));
      return Init.SETUP_FAILED;
    }
    try {
      enter(pid, cgroups);
      Privileges.drop(spec.process().user(), spec.security());
    } catch (RuntimeException e) {
      System.err.println("labenv: " + e.getMessage());
      return Init.SETUP_FAILED;
    }
    // After the identity, so the user's permissions decide, as runc does.
    try {
      Libc.chdir(Syscalls.cstr(spec.process().cwd()));
    } catch (LastErrorException e) {
      System.err.println("labenv: chdir \"" + spec.process().cwd() + "\": " + Libc.errorText(e.getErrorCode()));
      return Init.CANNOT_EXECUTE;
    }
    return Init.exec(spec.process());
  }

  /**
   * Joins the cgroups (host paths: before the mount namespace) and the namespaces of process {@code pid}, this
   * thread only. setns(CLONE_NEWNS) refuses a thread that shares its root and working directory with others:
   * unshare(CLONE_FS) gives it its own first.
   */
  static void enter(long pid, List<Path> cgroups) {
    int[] fds = new int[NAMESPACES.length];
    int opened = 0;
    try {
      // All first, while /proc is still the host's.
      for (; opened < NAMESPACES.length; opened++) {
        fds[opened] = Syscalls.openat(Libc.AT_FDCWD, ("/proc/" + pid + "/ns/" + NAMESPACES[opened])
            .getBytes(StandardCharsets.UTF_8), Libc.O_RDONLY, 0);
      }
      for (Path procs : cgroups) {
        join(procs);
      }
      try {
        Libc.unshare(Libc.CLONE_FS);
      } catch (LastErrorException e) {
        throw new ErrnoException("unshare", "CLONE_FS", e.getErrorCode());
      }
      for (int i = 0; i < fds.length; i++) {
        if (same(fds[i], NAMESPACES[i])) {
          // --network host: the host's, which a rootless container's user namespace may not enter (nor need to)
          continue;
        }
        try {
          Libc.setns(fds[i], TYPES[i]);
        } catch (LastErrorException e) {
          throw new ErrnoException("setns", "/proc/" + pid + "/ns/" + NAMESPACES[i], e.getErrorCode());
        }
      }
    } finally {
      for (int i = 0; i < opened; i++) {
        Libc.close(fds[i]);
      }
    }
  }

  /** Whether the namespace {@code fd} is this thread's own already (their links name the same inode). */
  private static boolean same(int fd, String type) {
    byte[] theirs = Syscalls.readlinkat(Libc.AT_FDCWD, ("/proc/thread-self/fd/" + fd).getBytes(StandardCharsets.UTF_8));
    byte[] ours = Syscalls.readlinkat(Libc.AT_FDCWD, ("/proc/thread-self/ns/" + type).getBytes(StandardCharsets.UTF_8));
    return java.util.Arrays.equals(theirs, ours);
  }

  /**
   * On cgroup v1, this thread alone moves (its {@code tasks} file) and the process that execs from it stays there;
   * on v2, where only whole processes move, this JVM does, just before it becomes the command.
   */
  private static void join(Path procs) {
    Path tasks = procs.resolveSibling("tasks");
    Path file = Files.exists(tasks) ? tasks : procs;
    try {
      // 0: the writer itself.
      Files.writeString(file, "0");
    } catch (IOException e) {
      throw new labenv.LabenvException(labenv.LabenvException.Kind.FAILED, "cannot join cgroup " + file.getParent()
          + ": " + e.getMessage());
    }
  }
}
