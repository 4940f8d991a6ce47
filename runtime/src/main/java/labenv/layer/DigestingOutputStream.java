package labenv.layer;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import labenv.LabenvException;
import labenv.image.Digest;

/**
 * Passes bytes through while counting them and computing their sha256 (the JDK's SHA-256 uses
 * the CPU's SHA instructions where there are some). {@link #close()} closes the underlying stream.
 *
 * <p>{@link #inBackground} hashes on a thread of its own, so that hashing overlaps with the work
 * of the writing thread (tar production, zstd's input handling) instead of adding to it: memory
 * is a few 1 MiB chunks in flight, whatever the size.
 */
public class DigestingOutputStream extends FilterOutputStream {
  private final MessageDigest sha256 = Digest.newSha256();
  private long size;
  private Digest digest;

  public DigestingOutputStream(OutputStream out) {
    super(out);
  }

  /** A digesting stream that hashes on its own daemon thread; call {@link #digest()} or {@link #abort()}. */
  public static DigestingOutputStream inBackground(OutputStream out) {
    return new Background(out);
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    hash(b, off, len);
    size += len;
    out.write(b, off, len);
  }

  void hash(byte[] b, int off, int len) throws IOException {
    sha256.update(b, off, len);
  }

  /** Bytes written so far. */
  public long size() {
    return size;
  }

  /** The sha256 of everything written; ends the digest, so call it once all bytes are in. */
  public Digest digest() {
    if (digest == null) {
      finishHashing();
      digest = Digest.sha256(sha256.digest());
    }
    return digest;
  }

  void finishHashing() {}

  /** Stops hashing (after a failure): frees the background thread, if any. */
  public void abort() {}

  MessageDigest sha256() {
    return sha256;
  }

  private static final class Background extends DigestingOutputStream {
    private static final int CHUNK = 1 << 20;
    private static final Chunk END = new Chunk(new byte[0], 0);
    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(4);
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(8);
    private final Thread hasher;
    private byte[] current = new byte[CHUNK];
    private int filled;
    private boolean ended;
    private boolean aborted;

    /** A filled buffer and how much of it holds data (all of it but for the last). */
    private record Chunk(byte[] data, int length) {}

    Background(OutputStream out) {
      super(out);
      hasher = new Thread(this::run, "labenv-sha256");
      hasher.setDaemon(true);
      hasher.start();
    }

    private void run() {
      try {
        while (true) {
          Chunk chunk = full.take();
          if (chunk == END) {
            return;
          }
          sha256().update(chunk.data(), 0, chunk.length());
          free.offer(chunk.data());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    void hash(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = Math.min(len, CHUNK - filled);
        System.arraycopy(b, off, current, filled, n);
        filled += n;
        off += n;
        len -= n;
        if (filled == CHUNK) {
          handOver();
        }
      }
    }

    private void handOver() throws IOException {
      try {
        full.put(new Chunk(current, filled));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("hashing interrupted");
      }
      byte[] next = free.poll();
      current = next != null ? next : new byte[CHUNK];
      filled = 0;
    }

    @Override
    void finishHashing() {
      if (aborted) {
        throw LabenvException.failed("the digest of an aborted stream was asked for");
      }
      if (ended) {
        return;
      }
      ended = true;
      try {
        if (filled > 0) {
          handOver();
        }
        full.put(END);
        hasher.join();
      } catch (IOException | InterruptedException e) {
        Thread.currentThread().interrupt();
        throw LabenvException.failed("hashing was interrupted", e);
      }
    }

    /** Closing ends the hashing too, so no thread outlives the stream. */
    @Override
    public void close() throws IOException {
      // Downstream first (a compressor finishing its last blocks), hashing the rest meanwhile.
      try {
        super.close();
      } finally {
        if (!aborted) {
          finishHashing();
        }
      }
    }

    @Override
    public void abort() {
      if (!aborted && !ended) {
        aborted = true;
        hasher.interrupt();
      }
    }
  }
}
