package labenv.build;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Keeps the last {@code lines} lines written through it, for the message of a failed RUN. */
final class OutputTail extends OutputStream {
  private final OutputStream out;
  private final int lines;
  private final java.util.ArrayDeque<String> kept = new java.util.ArrayDeque<>();
  private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

  OutputTail(OutputStream out, int lines) {
    this.out = out;
    this.lines = lines;
  }

  @Override
  public synchronized void write(int b) throws IOException {
    out.write(b);
    take(b);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    for (int i = off; i < off + len; i++) {
      take(b[i]);
    }
  }

  private void take(int b) {
    if (b == '\n') {
      push();
    } else if (line.size() < 4096) {
      line.write(b);
    }
  }

  private void push() {
    kept.add(line.toString(StandardCharsets.UTF_8));
    line.reset();
    while (kept.size() > lines) {
      kept.poll();
    }
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  synchronized String text() {
    if (line.size() > 0) {
      push();
    }
    return String.join("\n", kept);
  }
}
