package labenv.linux;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;

/**
 * A pseudo-terminal in a container's own devpts instance, opened from outside through the container's root
 * ({@code /proc/PID/root}, resolved by the kernel as "/", so the image cannot point us at a host file): the process
 * inside gets the slave, so {@code tty} names {@code /dev/pts/N} as the container sees it; labenv keeps the master
 * and copies between it and its own terminal.
 */
public final class Pty implements AutoCloseable {
  private final int master;
  private int slave;
  private final int number;

  private Pty(int master, int slave, int number) {
    this.master = master;
    this.slave = slave;
    this.number = number;
  }

  /**
   * Opens a new pty on the host's {@code /dev/ptmx}: for {@code run -t}, whose container has its own devpts only
   * once it is set up (Init binds the slave at the container's /dev/console).
   */
  public static Pty open() {
    int master;
    try {
      master = Libc.open(Syscalls.cstr("/dev/ptmx"), Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("open", "/dev/ptmx", e.getErrorCode());
    }
    return withSlave(master);
  }

  /** Opens a new pty in the devpts mounted at /dev/pts of the root directory {@code root} (an O_PATH descriptor). */
  public static Pty openIn(int root) {
    // /dev/ptmx is a symlink to pts/ptmx, followed inside the root.
    int master = Syscalls.openat2(root, "dev/ptmx".getBytes(StandardCharsets.UTF_8),
        Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0, Libc.RESOLVE_IN_ROOT);
    return withSlave(master);
  }

  private static Pty withSlave(int master) {
    try {
      int[] n = {0};
      try {
        Libc.ioctl(master, Libc.TIOCSPTLCK, n);
        Libc.ioctl(master, Libc.TIOCGPTN, n);
      } catch (LastErrorException e) {
        throw new ErrnoException("ioctl TIOCGPTN", "/dev/ptmx", e.getErrorCode());
      }
      int slave;
      try {
        // The slave without a path lookup: the container's /dev/pts cannot substitute another file.
        slave = Libc.ioctl(master, Libc.TIOCGPTPEER, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
      } catch (LastErrorException e) {
        throw new ErrnoException("ioctl TIOCGPTPEER", "/dev/pts/" + n[0], e.getErrorCode());
      }
      return new Pty(master, slave, n[0]);
    } catch (RuntimeException e) {
      Libc.close(master);
      throw e;
    }
  }

  public int master() {
    return master;
  }

  /**
   * Reads what the process on the slave wrote; -1 once no slave descriptor is left open (the process ended). For a
   * reader that has nothing else to wait for (a detached container's log); a terminal uses {@link TerminalSession}.
   */
  public int read(byte[] buf) {
    while (true) {
      try {
        return (int) Libc.read(master, buf, buf.length);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINTR) {
          return -1; // EIO: the last slave descriptor closed
        }
      }
    }
  }

  /** The slave's descriptor, until {@link #closeSlave}. */
  public int slave() {
    return slave;
  }

  /** N of /dev/pts/N. */
  public int number() {
    return number;
  }

  /** Once the process inside has its own descriptors: the master then reads EIO when the last of them closes. */
  public void closeSlave() {
    if (slave >= 0) {
      Libc.close(slave);
      slave = -1;
    }
  }

  /** Gives the slave to the container's user, as a login does (root inside otherwise owns it, mode 0620). */
  public void chown(int uid, int gid) {
    try {
      Libc.fchownat(slave, new byte[] {0}, uid, gid, Libc.AT_EMPTY_PATH);
    } catch (LastErrorException e) {
      throw new ErrnoException("fchown", "/dev/pts/" + number, e.getErrorCode());
    }
  }

  /** Copies the window size of the terminal {@code fd} to this pty (whose process group then gets SIGWINCH). */
  public void copyWindowSize(int fd) {
    byte[] winsize = new byte[8];
    try {
      Libc.ioctl(fd, Libc.TIOCGWINSZ, winsize);
      Libc.ioctl(master, Libc.TIOCSWINSZ, winsize);
    } catch (LastErrorException e) {
      // not a terminal, or the pty is gone: nothing to copy
    }
  }

  @Override
  public void close() {
    closeSlave();
    Libc.close(master);
  }

  /** Whether {@code fd} is a terminal. */
  public static boolean isTerminal(int fd) {
    return Libc.isatty(fd) == 1;
  }

  /**
   * Puts the terminal {@code fd} in raw mode (no echo, no line editing, no signals from keys: every byte goes to
   * the process inside, whose own pty does all that); returns the previous settings, for {@link #restore}.
   */
  public static byte[] makeRaw(int fd) {
    byte[] saved = new byte[64];
    try {
      Libc.tcgetattr(fd, saved);
      byte[] raw = saved.clone();
      Libc.cfmakeraw(raw);
      Libc.tcsetattr(fd, Libc.TCSANOW, raw);
    } catch (LastErrorException e) {
      throw new ErrnoException("tcsetattr", "standard input", e.getErrorCode());
    }
    return saved;
  }

  public static void restore(int fd, byte[] saved) {
    try {
      Libc.tcsetattr(fd, Libc.TCSANOW, saved);
    } catch (LastErrorException e) {
      // the terminal is gone
    }
  }
}
