package labenv.layer;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads (and so decompresses) a stream on a thread of its own, a few buffers ahead of the reader, so that inflating
 * a layer overlaps with writing its files, as {@code gzip -dc | tar -x} does with two processes. Memory stays at
 * {@link #BUFFERS} buffers. A failure of the source reaches the reader as the same exception, in order; closing
 * stops the thread.
 */
final class ReadAhead extends InputStream {
  private static final int BUFFERS = 4;
  private static final int BUFFER_SIZE = 1 << 20;

  private record Chunk(byte[] data, int length, Throwable failure) {
    boolean isEnd() {
      return data == null && failure == null;
    }
  }

  private final InputStream source;
  private final BlockingQueue<Chunk> filled = new ArrayBlockingQueue<>(BUFFERS);
  private final BlockingQueue<byte[]> empty = new ArrayBlockingQueue<>(BUFFERS + 1);
  private final Thread producer;
  private Chunk current;
  private int position;
  private boolean finished;

  ReadAhead(InputStream source, String name) {
    this.source = source;
    for (int i = 0; i <= BUFFERS; i++) {
      empty.add(new byte[BUFFER_SIZE]);
    }
    producer = new Thread(this::produce, "labenv-read-ahead " + name);
    producer.setDaemon(true);
    producer.start();
  }

  private void produce() {
    try {
      while (true) {
        byte[] buf = empty.take();
        int n;
        try {
          n = source.readNBytes(buf, 0, buf.length);
        } catch (IOException | RuntimeException | Error e) {
          filled.put(new Chunk(null, 0, e));
          return;
        }
        if (n == 0) {
          filled.put(new Chunk(null, 0, null));
          return;
        }
        filled.put(new Chunk(buf, n, null));
      }
    } catch (InterruptedException e) {
      // closed by the reader
    }
  }

  /** The chunk to read from, or null at the end; rethrows the source's failure where it happened. */
  private Chunk chunk() throws IOException {
    if (finished) {
      return null;
    }
    if (current != null && position < current.length()) {
      return current;
    }
    if (current != null) {
      empty.add(current.data());
      current = null;
    }
    Chunk next;
    try {
      next = filled.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while reading ahead");
    }
    if (next.failure() != null) {
      finished = true;
      Throwable f = next.failure();
      if (f instanceof IOException io) {
        throw io;
      }
      if (f instanceof RuntimeException re) {
        throw re;
      }
      throw (Error) f;
    }
    if (next.isEnd()) {
      finished = true;
      return null;
    }
    current = next;
    position = 0;
    return current;
  }

  @Override
  public int read() throws IOException {
    Chunk c = chunk();
    return c == null ? -1 : c.data()[position++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    Chunk c = chunk();
    if (c == null) {
      return -1;
    }
    int n = Math.min(len, c.length() - position);
    System.arraycopy(c.data(), position, b, off, n);
    position += n;
    return n;
  }

  @Override
  public void close() throws IOException {
    // Stop the producer before closing what it reads: neither the decoder nor a hash beneath it
    // may be used by two threads at once.
    producer.interrupt();
    try {
      producer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      source.close();
    }
  }
}
