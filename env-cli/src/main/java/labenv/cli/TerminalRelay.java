package labenv.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import labenv.linux.Pty;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Connects this process's terminal to a container's pseudo-terminal: what is typed goes to the container (the
 * local terminal in raw mode, so keys like ^C reach the container's terminal and are not acted on here), what the
 * container writes comes out here, and the container's terminal follows this one's size (SIGWINCH).
 */
final class TerminalRelay implements AutoCloseable {
  private final Pty pty;
  private final Pty.RawMode raw;
  private final Thread output;
  private final SignalHandler previousWinch;
  private final Thread restoreOnExit;

  private TerminalRelay(Pty pty, Pty.RawMode raw, Thread output, SignalHandler previousWinch) {
    this.pty = pty;
    this.raw = raw;
    this.output = output;
    this.previousWinch = previousWinch;
    // A JVM ended by a signal must not leave the user's terminal raw.
    this.restoreOnExit = new Thread(() -> {
      if (raw != null) {
        raw.close();
      }
    });
    Runtime.getRuntime().addShutdownHook(restoreOnExit);
  }

  static TerminalRelay start(Pty pty, boolean interactive) {
    Pty.WindowSize size = Pty.WindowSize.of(1);
    if (size == null) {
      size = Pty.WindowSize.of(0);
    }
    if (size != null) {
      pty.resize(size);
    }
    SignalHandler previous = Signal.handle(new Signal("WINCH"), s -> {
      Pty.WindowSize now = Pty.WindowSize.of(1);
      if (now != null) {
        pty.resize(now);
      }
    });
    Pty.RawMode raw = interactive ? Pty.raw(0) : null;
    Thread output = new Thread(() -> copy(pty, new FileOutputStream(FileDescriptor.out)), "labenv-tty-out");
    output.setDaemon(true);
    output.start();
    if (interactive) {
      Thread input = new Thread(() -> feed(new FileInputStream(FileDescriptor.in), pty), "labenv-tty-in");
      input.setDaemon(true); // blocked in a read of our stdin when the container ends: left behind
      input.start();
    }
    return new TerminalRelay(pty, raw, output, previous);
  }

  private static void copy(Pty pty, OutputStream out) {
    byte[] buf = new byte[16384];
    int n;
    try {
      while ((n = pty.read(buf)) > 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // our stdout closed: nothing to show the output on
    }
  }

  private static void feed(InputStream in, Pty pty) {
    byte[] buf = new byte[4096];
    int n;
    try {
      while ((n = in.read(buf)) > 0) {
        pty.write(buf, n);
      }
    } catch (IOException | RuntimeException e) {
      // stdin closed, or the container's terminal is gone
    }
  }

  /** Waits for the container's last output (its terminal closes when it exits), then restores ours. */
  @Override
  public void close() {
    try {
      output.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (raw != null) {
      raw.close();
    }
    Signal.handle(new Signal("WINCH"), previousWinch);
    try {
      Runtime.getRuntime().removeShutdownHook(restoreOnExit);
    } catch (IllegalStateException e) {
      // shutting down already: the hook restores the terminal
    }
  }
}
