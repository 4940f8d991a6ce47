package labenv.layer;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A zstd frame whose bytes do not depend on the number of threads. libzstd's multi-threaded mode
 * cuts the input into jobs of a size set by the level alone, so its output is the same for any
 * nbWorkers >= 1 (but differs from the single-threaded nbWorkers = 0): hence at least one worker,
 * always. The frame carries a checksum (as the zstd CLI writes by default) and no content size or
 * dictionary id. {@link #flush()} does not reach libzstd: a zstd flush ends a block early and
 * changes the bytes, so it only flushes what is already compressed.
 */
final class ZstdLayerOutputStream extends OutputStream {
  private final DiscardableOutputStream sink;
  private final ZstdOutputStreamNoFinalizer zstd;

  ZstdLayerOutputStream(OutputStream out, int level, int threads) throws IOException {
    if (level < 1 || level > 22) {
      throw new IllegalArgumentException("zstd level " + level + " is not in 1..22");
    }
    this.sink = new DiscardableOutputStream(out);
    this.zstd = new ZstdOutputStreamNoFinalizer(sink, level);
    zstd.setChecksum(true);
    zstd.setWorkers(Math.max(1, threads));
  }

  @Override
  public void write(int b) throws IOException {
    zstd.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    zstd.write(b, off, len);
  }

  @Override
  public void flush() throws IOException {
    sink.flush();
  }

  @Override
  public void close() throws IOException {
    zstd.close();
  }

  /** Frees the native context and its threads without writing anything more. */
  void abort() {
    sink.discard = true;
    try {
      zstd.close();
    } catch (IOException | RuntimeException e) {
      // The stream is being dropped; a failure to end it cleanly changes nothing.
    }
  }

  private static final class DiscardableOutputStream extends FilterOutputStream {
    volatile boolean discard;

    DiscardableOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (!discard) {
        out.write(b, off, len);
      }
    }

    @Override
    public void write(int b) throws IOException {
      if (!discard) {
        out.write(b);
      }
    }

    @Override
    public void close() throws IOException {
      if (!discard) {
        out.close();
      }
    }
  }
}
