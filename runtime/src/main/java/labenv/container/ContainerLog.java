package labenv.container;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.function.BooleanSupplier;
import labenv.LabenvException;

/**
 * A detached container's output, in the CRI log format that Kubernetes and podman's k8s-file driver write: one
 * record per line, {@code TIMESTAMP STREAM TAG CONTENT}, where STREAM is stdout or stderr and TAG is F for a full
 * line (its newline dropped) or P for a partial one (the rest follows in later records). Both streams go to one
 * file in the order they were read, so {@code logs} shows them interleaved as they happened.
 */
public final class ContainerLog implements AutoCloseable {
  private static final int CHUNK = 16 * 1024;
  private final OutputStream out;

  private ContainerLog(OutputStream out) {
    this.out = out;
  }

  public static ContainerLog append(Path file) {
    try {
      return new ContainerLog(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw LabenvException.failed("cannot open log " + file + ": " + e.getMessage(), e);
    }
  }

  /** Copies {@code in} into the log as {@code stream} until it ends; for a thread per stream. */
  public void copy(InputStream in, String stream) {
    byte[] buf = new byte[CHUNK];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n') {
            record(stream, 'F', buf, start, i - start);
            start = i + 1;
          }
        }
        if (start < n) {
          record(stream, 'P', buf, start, n - start);
        }
      }
    } catch (IOException e) {
      // the container's end of the pipe closed: its output is over
    }
  }

  private synchronized void record(String stream, char tag, byte[] b, int off, int len) throws IOException {
    byte[] head = (Instant.now() + " " + stream + " " + tag + " ").getBytes(StandardCharsets.US_ASCII);
    byte[] line = Arrays.copyOf(head, head.length + len + 1);
    System.arraycopy(b, off, line, head.length, len);
    line[line.length - 1] = '\n';
    out.write(line);
    out.flush();
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException ignored) {
      // the log is append-only; nothing left to save
    }
  }

  /** Where {@link #read} sends each stream's content. */
  public record Sinks(OutputStream stdout, OutputStream stderr, boolean timestamps) {}

  /**
   * Writes the log's content to the sinks: the last {@code tail} lines (all when negative); when {@code follow},
   * keeps reading what is appended until {@code running} turns false and the file has no more.
   */
  public static void read(Path file, int tail, boolean follow, BooleanSupplier running, Sinks sinks) {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long start = tail < 0 ? 0 : tailOffset(file, tail);
      raf.seek(start);
      StringBuilder pending = new StringBuilder();
      byte[] buf = new byte[CHUNK + 128];
      while (true) {
        int n = raf.read(buf);
        if (n > 0) {
          pending.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
          int nl;
          while ((nl = pending.indexOf("\n")) >= 0) {
            emit(pending.substring(0, nl), sinks);
            pending.delete(0, nl + 1);
          }
          continue;
        }
        if (!follow) {
          return;
        }
        // Checked before the last read: output written before the container ended is never missed.
        boolean stillRunning = running.getAsBoolean();
        if (!stillRunning && raf.getFilePointer() >= raf.length()) {
          return;
        }
        Thread.sleep(50);
      }
    } catch (java.io.FileNotFoundException e) {
      // no output yet
    } catch (IOException e) {
      throw LabenvException.failed("cannot read log " + file + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One record; the content's bytes go out as they came (ISO-8859-1 maps them one to one). */
  private static void emit(String record, Sinks sinks) throws IOException {
    int a = record.indexOf(' ');
    int b = record.indexOf(' ', a + 1);
    int c = record.indexOf(' ', b + 1);
    if (a < 0 || b < 0 || c < 0) {
      return; // a torn last line from a killed writer
    }
    OutputStream to = record.substring(a + 1, b).equals("stderr") ? sinks.stderr() : sinks.stdout();
    boolean full = record.charAt(b + 1) == 'F';
    StringBuilder line = new StringBuilder();
    if (sinks.timestamps()) {
      line.append(record, 0, a).append(' ');
    }
    line.append(record, c + 1, record.length());
    if (full) {
      line.append('\n');
    }
    to.write(line.toString().getBytes(StandardCharsets.ISO_8859_1));
    to.flush();
  }

  /** The offset of the record that starts the last {@code lines} full lines, scanning from the end. */
  private static long tailOffset(Path file, int lines) throws IOException {
    if (lines == 0) {
      return Files.size(file);
    }
    // Records of full lines, newest first, until there are enough; a partial record belongs to the line after it.
    Deque<Long> starts = new ArrayDeque<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
      long offset = 0;
      String rec;
      long lineStart = 0;
      boolean inLine = false;
      while ((rec = r.readLine()) != null) {
        if (!inLine) {
          lineStart = offset;
          inLine = true;
        }
        int a = rec.indexOf(' ');
        int b = a < 0 ? -1 : rec.indexOf(' ', a + 1);
        if (b > 0 && b + 1 < rec.length() && rec.charAt(b + 1) == 'F') {
          starts.addLast(lineStart);
          inLine = false;
          if (starts.size() > lines) {
            starts.removeFirst();
          }
        }
        offset += rec.length() + 1;
      }
      return starts.isEmpty() ? (inLine ? lineStart : offset) : starts.peekFirst();
    }
  }
}
