package labenv.linux;

import com.sun.jna.LastErrorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A pseudo-terminal pair from {@code /dev/ptmx}: this side keeps the master; the slave, by path, becomes a
 * container's stdin, stdout and stderr (and its controlling terminal, see {@link Init}).
 */
public final class Pty implements AutoCloseable {
  private final int master;
  private final String slave;
  private boolean closed;

  private Pty(int master, String slave) {
    this.master = master;
    this.slave = slave;
  }

  /** A new pair on the host's {@code /dev/ptmx}, unlocked, its master close-on-exec. */
  public static Pty open() {
    return open("/dev/ptmx");
  }

  /** A new pair on the multiplexer at {@code ptmx} (e.g. a container's {@code /dev/pts/ptmx}). */
  public static Pty open(String ptmx) {
    int fd;
    try {
      fd = Libc.open(Syscalls.cstr(ptmx), Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("open", ptmx, e.getErrorCode());
    }
    try {
      byte[] zero = new byte[4];
      Libc.ioctl(fd, Libc.TIOCSPTLCK, zero);
      byte[] n = new byte[4];
      Libc.ioctl(fd, Libc.TIOCGPTN, n);
      int index = ByteBuffer.wrap(n).order(ByteOrder.nativeOrder()).getInt();
      String dir = ptmx.substring(0, ptmx.lastIndexOf('/'));
      return new Pty(fd, (dir.endsWith("/pts") ? dir : dir + "/pts") + "/" + index);
    } catch (LastErrorException e) {
      Libc.close(fd);
      throw new ErrnoException("ioctl", ptmx, e.getErrorCode());
    }
  }

  /** The slave's path, for the process that gets the terminal. */
  public String slave() {
    return slave;
  }

  public int master() {
    return master;
  }

  /** Reads from the master: what the container wrote. -1 once every slave is closed (the container ended). */
  public int read(byte[] buf) {
    while (true) {
      try {
        return (int) Libc.read(master, buf, buf.length);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == Libc.EINTR) {
          continue;
        }
        // EIO: the last slave descriptor closed.
        return -1;
      }
    }
  }

  /** Writes to the master: what the container reads as typed input. */
  public void write(byte[] buf, int len) {
    byte[] b = len == buf.length ? buf : java.util.Arrays.copyOf(buf, len);
    int off = 0;
    while (off < len) {
      try {
        byte[] rest = off == 0 ? b : java.util.Arrays.copyOfRange(b, off, len);
        off += (int) Libc.write(master, rest, rest.length);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINTR) {
          throw new ErrnoException("write", slave + " master", e.getErrorCode());
        }
      }
    }
  }

  /** Sets the terminal's size, which the process on the slave reads (and is sent SIGWINCH for). */
  public void resize(WindowSize size) {
    try {
      Libc.ioctl(master, Libc.TIOCSWINSZ, size.bytes());
    } catch (LastErrorException e) {
      // the terminal is gone: nothing to resize
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      Libc.close(master);
    }
  }

  /** struct winsize: rows and columns (pixels unused). */
  public record WindowSize(int rows, int columns) {
    /** The size of the terminal on {@code fd}, or null when it is not a terminal. */
    public static WindowSize of(int fd) {
      byte[] ws = new byte[8];
      try {
        Libc.ioctl(fd, Libc.TIOCGWINSZ, ws);
      } catch (LastErrorException e) {
        return null;
      }
      ByteBuffer b = ByteBuffer.wrap(ws).order(ByteOrder.nativeOrder());
      return new WindowSize(Short.toUnsignedInt(b.getShort(0)), Short.toUnsignedInt(b.getShort(2)));
    }

    byte[] bytes() {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
      b.putShort(0, (short) rows).putShort(2, (short) columns);
      return b.array();
    }
  }

  /**
   * Puts the terminal on {@code fd} in raw mode (no echo, no line editing, no signals from keys: they go to the
   * container's terminal instead) until {@link RawMode#close}. Null when {@code fd} is not a terminal.
   */
  public static RawMode raw(int fd) {
    if (Libc.isatty(fd) != 1) {
      return null;
    }
    byte[] saved = new byte[128];
    try {
      Libc.tcgetattr(fd, saved);
      byte[] raw = saved.clone();
      Libc.cfmakeraw(raw);
      Libc.tcsetattr(fd, Libc.TCSANOW, raw);
    } catch (LastErrorException e) {
      return null;
    }
    return new RawMode(fd, saved);
  }

  /** Restores a terminal's saved settings; idempotent, safe from a shutdown hook. */
  public static final class RawMode implements AutoCloseable {
    private final int fd;
    private final byte[] saved;
    private boolean restored;

    private RawMode(int fd, byte[] saved) {
      this.fd = fd;
      this.saved = saved;
    }

    @Override
    public synchronized void close() {
      if (!restored) {
        restored = true;
        try {
          Libc.tcsetattr(fd, Libc.TCSANOW, saved);
        } catch (LastErrorException e) {
          // the terminal went away
        }
      }
    }
  }
}
