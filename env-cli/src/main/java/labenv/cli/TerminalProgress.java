package labenv.cli;

import java.io.PrintWriter;
import labenv.Progress;

/**
 * A progress bar on stderr, redrawn in place at most ten times a second. Only used when stderr is
 * a terminal ({@link #forTerminal}); otherwise commands get {@link Progress#NONE} and stay quiet.
 */
final class TerminalProgress implements Progress {
  private static final int BAR = 28;
  private final PrintWriter err;
  private String task = "";
  private long total = -1;
  private long done;
  private long startNanos;
  private long lastDraw;

  private TerminalProgress(PrintWriter err) {
    this.err = err;
  }

  /** A bar when stderr is a terminal and LABENV_PROGRESS is not "plain"; otherwise nothing. */
  static Progress forTerminal(PrintWriter err, java.util.Map<String, String> env) {
    if ("plain".equals(env.get("LABENV_PROGRESS")) || !Terminal.stderrIsTerminal()) {
      return Progress.NONE;
    }
    return new TerminalProgress(err);
  }

  @Override
  public synchronized void start(String newTask, long totalBytes) {
    task = newTask;
    total = totalBytes;
    done = 0;
    startNanos = System.nanoTime();
    lastDraw = 0;
    draw(true);
  }

  @Override
  public synchronized void advance(long bytes) {
    done += bytes;
    draw(false);
  }

  @Override
  public synchronized void done() {
    draw(true);
    err.print("\r\033[K");
    err.flush();
  }

  private void draw(boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastDraw < 100_000_000L) {
      return;
    }
    lastDraw = now;
    double secs = Math.max(1e-3, (now - startNanos) / 1e9);
    String rate = Units.bytes((long) (done / secs)) + "/s";
    StringBuilder line = new StringBuilder("\r\033[K").append(task).append(' ');
    if (total > 0) {
      int filled = (int) Math.min(BAR, BAR * done / total);
      line.append('[').append("=".repeat(filled)).append(filled < BAR ? ">" : "")
          .append(" ".repeat(Math.max(0, BAR - filled - 1))).append("] ")
          .append(String.format("%3d%% ", Math.min(100, 100 * done / total)))
          .append(Units.bytes(done)).append('/').append(Units.bytes(total));
    } else {
      line.append(Units.bytes(done));
    }
    line.append("  ").append(rate);
    err.print(line);
    err.flush();
  }
}
