package labenv.container;

import com.sun.jna.LastErrorException;
import java.util.Arrays;
import labenv.linux.Libc;
import labenv.linux.Pty;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * This process's terminal connected to a container's pty while a command runs there ({@code run -t},
 * {@code exec -t}): output copied out, input copied in when interactive, the local terminal in raw mode meanwhile
 * (so keys like ^C reach the container's terminal, which acts on them) and given back on every exit path, and the
 * pty's window size following the local one (SIGWINCH).
 */
public final class TerminalSession implements AutoCloseable {
  private final Pty pty;
  private final int[] wake = new int[2];
  private final Signal winch = new Signal("WINCH");
  private final SignalHandler previousWinch;
  private byte[] saved;
  private Thread restore;
  private Thread output;
  private Thread input;

  private TerminalSession(Pty pty, boolean interactive) {
    this.pty = pty;
    int window = Pty.isTerminal(0) ? 0 : 1;
    pty.copyWindowSize(window);
    Libc.pipe2(wake, Libc.O_CLOEXEC);
    previousWinch = Signal.handle(winch, s -> pty.copyWindowSize(window));
    if (interactive && Pty.isTerminal(0)) {
      saved = Pty.makeRaw(0);
      // Killed by a signal labenv does not forward, the terminal is still given back.
      restore = new Thread(() -> Pty.restore(0, saved), "labenv-restore-terminal");
      Runtime.getRuntime().addShutdownHook(restore);
    }
  }

  /** Sets the terminal up (size, raw mode when interactive); {@link #copy} once the command has the slave. */
  public static TerminalSession open(Pty pty, boolean interactive) {
    return new TerminalSession(pty, interactive);
  }

  /** Starts copying: the pty's output to stdout, and stdin to the pty when interactive. */
  public void copy(boolean interactive) {
    output = new Thread(() -> copyOutput(pty.master(), 1, wake[0]), "labenv-pty-output");
    output.setDaemon(true);
    output.start();
    if (interactive) {
      input = new Thread(() -> copyInput(0, pty.master(), wake[0]), "labenv-pty-input");
      input.setDaemon(true);
      input.start();
    }
  }

  /** The command is gone: what it wrote is in the pty; output drains it and stops, input stops, the terminal is ours. */
  @Override
  public void close() {
    try {
      Libc.write(wake[1], new byte[] {1}, 1);
      HostTools.join(output);
      HostTools.join(input);
    } finally {
      if (saved != null) {
        Pty.restore(0, saved);
        try {
          Runtime.getRuntime().removeShutdownHook(restore);
        } catch (IllegalStateException e) {
          // shutting down already: the hook restores it too
        }
      }
      Signal.handle(winch, previousWinch);
      Libc.close(wake[0]);
      Libc.close(wake[1]);
    }
  }

  /** Copies the pty's output to {@code out} until the pty has no writer left or, once woken, nothing more to read. */
  private static void copyOutput(int master, int out, int wake) {
    byte[] buf = new byte[16384];
    int[] fds = {master, Libc.POLLIN, wake, Libc.POLLIN};
    boolean draining = false;
    while (true) {
      if (!draining) {
        if (!poll(fds)) {
          return;
        }
        if ((fds[3] >>> 16) != 0) {
          // Non-blocking from now: the kernel pushes what the command wrote before the read returns EAGAIN.
          Libc.fcntl(master, Libc.F_SETFL, Libc.fcntl(master, Libc.F_GETFL, 0) | Libc.O_NONBLOCK);
          draining = true;
        } else if ((fds[1] >>> 16) == 0) {
          continue;
        }
      }
      long n;
      try {
        n = Libc.read(master, buf, buf.length);
      } catch (LastErrorException e) {
        // EIO: every slave descriptor is closed; EAGAIN: drained
        return;
      }
      if (n <= 0 || !writeAll(out, buf, (int) n)) {
        return;
      }
    }
  }

  /** Copies {@code in} to the pty until end of input or until woken. */
  private static void copyInput(int in, int master, int wake) {
    byte[] buf = new byte[16384];
    int[] fds = {in, Libc.POLLIN, wake, Libc.POLLIN};
    while (poll(fds) && (fds[3] >>> 16) == 0) {
      if ((fds[1] >>> 16) == 0) {
        continue;
      }
      long n;
      try {
        n = Libc.read(in, buf, buf.length);
      } catch (LastErrorException e) {
        return;
      }
      if (n <= 0 || !writeAll(master, buf, (int) n)) {
        return;
      }
    }
  }

  /** poll(2) on {fd, events} pairs, revents in the high half; false on an error other than EINTR. */
  private static boolean poll(int[] fds) {
    for (int i = 1; i < fds.length; i += 2) {
      fds[i] &= 0xffff;
    }
    try {
      Libc.poll(fds, fds.length / 2, -1);
      return true;
    } catch (LastErrorException e) {
      return e.getErrorCode() == Libc.EINTR;
    }
  }

  private static boolean writeAll(int fd, byte[] buf, int n) {
    int off = 0;
    while (off < n) {
      try {
        byte[] rest = off == 0 ? buf : Arrays.copyOfRange(buf, off, n);
        off += (int) Libc.write(fd, rest, n - off);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINTR) {
          return false;
        }
      }
    }
    return true;
  }
}
