package labenv.layer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import labenv.LabenvException;

/**
 * A gzip stream compressed on several threads, pigz-style, whose bytes do not depend on the
 * number of threads: the input is cut into fixed {@link #BLOCK_SIZE} blocks, each deflated on
 * its own with the previous block's last 32 KiB as preset dictionary and ended with a sync flush
 * (the last one with finish), so a block's output is a function of its bytes and its
 * predecessor's alone. The header is fixed (no name, MTIME 0, XFL 0, OS 255 "unknown", as Go
 * writes it); the trailer is the CRC-32 and length of the whole input.
 *
 * <p>At most {@code threads + 2} blocks are in flight (one per worker, one being filled, one
 * written), so memory stays flat whatever the size: about 2 MiB per block. Compressed blocks are written to the underlying stream in order by the writing thread.
 * {@link #flush()} writes what is finished but never cuts a block (that would change the bytes).
 * Worker threads are daemons and stop on {@link #close()} or {@link #abort()}; a worker's failure
 * comes back from the next write or close.
 *
 * <p>Blocks of random or already-compressed data ({@link #incompressible}) are stored rather than
 * deflated: several times faster than deflating them at level 6, and usually smaller. (Byte
 * frequencies can't see repeats: a block of random bytes repeating within 32 KiB is stored although
 * deflate would shrink it. Real layers rarely hold such blocks; the choice stays deterministic.)
 *
 * <p>The bytes still depend on the zlib version (the JDK uses the system's), as pigz's do.
 */
public final class ParallelGzipOutputStream extends OutputStream {
  /** Input block size: large enough that the dictionary setup is a small share of the work. */
  public static final int BLOCK_SIZE = 512 * 1024;
  private static final int DICTIONARY = 32 * 1024;
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
  private static final AtomicInteger STREAMS = new AtomicInteger();

  private final OutputStream out;
  private final int level;
  private final ExecutorService workers;
  private final int maxInFlight;
  private final ArrayDeque<Future<Compressed>> inFlight = new ArrayDeque<>();
  private final ArrayDeque<byte[]> freeInputs = new ArrayDeque<>();
  private final ConcurrentLinkedQueue<Deflater> deflaters = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<byte[]> freeOutputs = new ConcurrentLinkedQueue<>();
  private final CRC32 crc = new CRC32();
  private long length;
  private byte[] block = new byte[BLOCK_SIZE];
  private int filled;
  private byte[] previousTail;
  private boolean headerWritten;
  private volatile boolean closed;

  /**
   * @param level deflate level 0..9 (gzip's default is 6)
   * @param threads compression threads, at least 1; the output is the same for any value
   */
  public ParallelGzipOutputStream(OutputStream out, int level, int threads) {
    if (level < 0 || level > 9) {
      throw new IllegalArgumentException("gzip level " + level + " is not in 0..9");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("gzip threads " + threads + " must be at least 1");
    }
    this.out = out;
    this.level = level;
    this.maxInFlight = threads + 2;
    int stream = STREAMS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "labenv-gzip-" + stream + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    ensureOpen();
    crc.update(b, off, len);
    length += len;
    while (len > 0) {
      if (filled == BLOCK_SIZE) {
        // Only now is it known that this full block is not the last one.
        submit(false);
      }
      int n = Math.min(len, BLOCK_SIZE - filled);
      System.arraycopy(b, off, block, filled, n);
      filled += n;
      off += n;
      len -= n;
    }
  }

  /** Writes the blocks that are already compressed; never ends a block early. */
  @Override
  public void flush() throws IOException {
    ensureOpen();
    drain(false);
    out.flush();
  }

  /** Compresses the last block, writes the trailer and closes the underlying stream. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      submit(true);
      drain(true);
      byte[] trailer = new byte[8];
      littleEndian(trailer, 0, (int) crc.getValue());
      littleEndian(trailer, 4, (int) length);
      out.write(trailer);
      out.close();
    } catch (IOException | RuntimeException e) {
      abort();
      throw e;
    } finally {
      closed = true;
      shutdown();
    }
  }

  /** Stops the workers and drops what is not written yet; the output is left incomplete. */
  public void abort() {
    closed = true;
    for (Future<Compressed> f : inFlight) {
      f.cancel(true);
    }
    inFlight.clear();
    shutdown();
  }

  private void shutdown() {
    workers.shutdownNow();
    Deflater d;
    while ((d = deflaters.poll()) != null) {
      d.end();
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("gzip stream is closed");
    }
  }

  private void submit(boolean last) throws IOException {
    if (!headerWritten) {
      out.write(HEADER);
      headerWritten = true;
    }
    byte[] input = block;
    int len = filled;
    byte[] dictionary = previousTail;
    if (!last) {
      previousTail = Arrays.copyOfRange(input, len - DICTIONARY, len);
      byte[] next = freeInputs.poll();
      block = next != null ? next : new byte[BLOCK_SIZE];
      filled = 0;
    }
    inFlight.add(workers.submit(() -> compress(input, len, dictionary, last)));
    drain(false);
    while (inFlight.size() >= maxInFlight) {
      writeHead();
    }
  }

  private void drain(boolean all) throws IOException {
    while (!inFlight.isEmpty() && (all || inFlight.peek().isDone())) {
      writeHead();
    }
  }

  private void writeHead() throws IOException {
    Compressed c;
    try {
      c = inFlight.peek().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while compressing");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw LabenvException.failed("gzip: compressing a block failed: " + cause, cause);
    }
    inFlight.poll();
    out.write(c.bytes, 0, c.length);
    if (freeOutputs.size() < maxInFlight) {
      freeOutputs.add(c.bytes);
    }
    if (c.input.length == BLOCK_SIZE && freeInputs.size() < maxInFlight) {
      freeInputs.add(c.input);
    }
  }

  private Compressed compress(byte[] input, int len, byte[] dictionary, boolean last) {
    Deflater d = deflaters.poll();
    if (d == null) {
      d = new Deflater(level, true);
    } else {
      d.reset();
    }
    try {
      // A block deflate can't shrink (random or already-compressed data) is stored as it is: the
      // same bytes out for less work. The choice is a function of the block's bytes alone.
      d.setLevel(incompressible(input, len) ? Deflater.NO_COMPRESSION : level);
      if (dictionary != null) {
        d.setDictionary(dictionary);
      }
      d.setInput(input, 0, len);
      if (last) {
        d.finish();
      }
      byte[] o = freeOutputs.poll();
      if (o == null) {
        o = new byte[BLOCK_SIZE + BLOCK_SIZE / 16 + 64];
      }
      int olen = 0;
      while (true) {
        if (olen == o.length) {
          o = Arrays.copyOf(o, o.length * 2);
        }
        int space = o.length - olen;
        int n = d.deflate(o, olen, space, last ? Deflater.NO_FLUSH : Deflater.SYNC_FLUSH);
        olen += n;
        if (last ? d.finished() : (n < space && d.needsInput())) {
          break;
        }
      }
      return new Compressed(input, o, olen);
    } finally {
      if (closed) {
        // shutdown() already ended the pool: a worker finishing late ends its own deflater.
        d.end();
      } else {
        deflaters.add(d);
      }
    }
  }

  /** Blocks whose bytes carry at least this many bits of entropy per byte are stored, not deflated. */
  static final double STORE_ENTROPY_BITS = 7.98;

  /**
   * True when the block's byte-frequency entropy reaches {@link #STORE_ENTROPY_BITS}: deflate
   * would spend the most time of any data on it and gain nothing (random data is 7.999; text is
   * 4 to 6). StrictMath keeps the decision bit-for-bit the same on every JVM.
   */
  static boolean incompressible(byte[] b, int len) {
    if (len < 4096) {
      return false;
    }
    // Four tables so consecutive equal bytes don't serialise on one counter.
    int[] c0 = new int[256];
    int[] c1 = new int[256];
    int[] c2 = new int[256];
    int[] c3 = new int[256];
    int i = 0;
    for (; i + 4 <= len; i += 4) {
      c0[b[i] & 0xff]++;
      c1[b[i + 1] & 0xff]++;
      c2[b[i + 2] & 0xff]++;
      c3[b[i + 3] & 0xff]++;
    }
    for (; i < len; i++) {
      c0[b[i] & 0xff]++;
    }
    double bits = 0;
    for (int v = 0; v < 256; v++) {
      int n = c0[v] + c1[v] + c2[v] + c3[v];
      if (n > 0) {
        double p = (double) n / len;
        bits -= p * StrictMath.log(p);
      }
    }
    return bits / StrictMath.log(2) >= STORE_ENTROPY_BITS;
  }

  private static void littleEndian(byte[] b, int off, int v) {
    b[off] = (byte) v;
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) (v >>> 16);
    b[off + 3] = (byte) (v >>> 24);
  }

  private record Compressed(byte[] input, byte[] bytes, int length) {}
}
