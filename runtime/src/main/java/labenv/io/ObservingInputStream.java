package labenv.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A stream that shows every byte read through it to {@link #observe} (to hash, count, copy or
 * check it) and tells {@link #end} once when the stream beneath ends. Skipping reads, so nothing
 * passes unobserved; mark/reset is not supported for the same reason.
 */
public abstract class ObservingInputStream extends FilterInputStream {
  private boolean ended;

  protected ObservingInputStream(InputStream in) {
    super(in);
  }

  /** Called with each run of bytes as it is read. */
  protected abstract void observe(byte[] b, int off, int n) throws IOException;

  /** Called once, when the stream beneath reports its end. */
  protected void end() throws IOException {}

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      observe(b, off, n);
    } else if (n < 0 && !ended) {
      ended = true;
      end();
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buf = new byte[(int) Math.min(Math.max(n, 1), 64 * 1024)];
    long skipped = 0;
    while (skipped < n) {
      int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
      if (r < 0) {
        break;
      }
      skipped += r;
    }
    return skipped;
  }

  /** Reads what is left, so that all of it is observed. */
  public void drain() throws IOException {
    byte[] buf = new byte[64 * 1024];
    while (read(buf, 0, buf.length) >= 0) {
      // observed as it passes
    }
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readlimit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }
}
