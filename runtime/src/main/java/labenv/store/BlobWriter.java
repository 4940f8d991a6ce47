package labenv.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import labenv.LabenvException;
import labenv.image.Digest;

/**
 * A blob being written: an output stream into a temporary file in {@code blobs/sha256/} that
 * hashes as it goes. {@link #commit} makes it durable, verifies it and renames it to its digest;
 * {@link #close()} without a commit removes it. Until then no reader can see it: its name starts
 * with {@code .tmp-}, which no digest does.
 *
 * <p>The writer holds the store's gc lock shared from creation to close, so prune never removes a
 * blob while it is being written. Not thread-safe.
 */
public final class BlobWriter extends OutputStream {
  private final ContentStore store;
  private final StoreLock gcHold;
  private final Path dir;
  private final Path temp;
  private final FileChannel channel;
  private final MessageDigest hash = Digest.newSha256();
  private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
  private long size;
  private Digest committed;
  private boolean closed;

  BlobWriter(ContentStore store) {
    this.store = store;
    this.dir = store.blobDir("sha256");
    this.gcHold = store.lockShared();
    Path t = dir.resolve(AtomicFile.TEMP_PREFIX + AtomicFile.randomSuffix());
    try {
      Files.createDirectories(dir);
      this.channel = FileChannel.open(t, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      gcHold.close();
      throw LabenvException.failed("cannot create a blob in " + dir + ": " + e.getMessage(), e);
    }
    this.temp = t;
  }

  /** Bytes written so far. */
  public long size() {
    return size;
  }

  @Override
  public void write(int b) {
    ensureOpen();
    if (!buffer.hasRemaining()) {
      flushBuffer();
    }
    buffer.put((byte) b);
    hash.update((byte) b);
    size++;
  }

  @Override
  public void write(byte[] b) {
    write(b, 0, b.length);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    ensureOpen();
    hash.update(b, off, len);
    size += len;
    if (len >= buffer.capacity()) {
      flushBuffer();
      writeFully(ByteBuffer.wrap(b, off, len));
      return;
    }
    if (len > buffer.remaining()) {
      flushBuffer();
    }
    buffer.put(b, off, len);
  }

  @Override
  public void flush() {
    ensureOpen();
    flushBuffer();
  }

  private void flushBuffer() {
    buffer.flip();
    writeFully(buffer);
    buffer.clear();
  }

  private void writeFully(ByteBuffer b) {
    try {
      while (b.hasRemaining()) {
        channel.write(b);
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot write blob " + temp + ": " + e.getMessage(), e);
    }
  }

  /**
   * Makes the blob durable and visible under its digest. When {@code expected} is given the content
   * must hash to it, when {@code expectedSize >= 0} it must be that long; otherwise the temporary
   * file is removed and {@link DigestMismatchException} / {@link SizeMismatchException} (bad input)
   * thrown. A blob that is already in the store counts as success. Closes the writer.
   */
  public Digest commit(Digest expected, long expectedSize) {
    ensureOpen();
    try {
      if (expected != null && !expected.algorithm().equals("sha256")) {
        throw LabenvException.badInput("blob " + expected + ": labenv stores sha256 blobs only");
      }
      flushBuffer();
      Digest actual = Digest.sha256(hash.digest());
      if (expectedSize >= 0 && size != expectedSize) {
        throw new SizeMismatchException(LabenvException.Kind.BAD_INPUT, expected == null ? actual : expected,
            expectedSize, size + " bytes");
      }
      if (expected != null && !expected.equals(actual)) {
        throw new DigestMismatchException(LabenvException.Kind.BAD_INPUT, expected, actual);
      }
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
      channel.force(true);
      channel.close();
      Path target = store.path(actual);
      if (Files.isRegularFile(target) && Files.size(target) == size) {
        Files.delete(temp);
      } else {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      }
      AtomicFile.syncDirectory(dir);
      committed = actual;
      return actual;
    } catch (IOException e) {
      throw LabenvException.failed("cannot store blob from " + temp + ": " + e.getMessage(), e);
    } finally {
      close();
    }
  }

  /** The digest the blob was committed under, or null. */
  public Digest digest() {
    return committed;
  }

  /** Releases the gc hold; without a commit, deletes the temporary file. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
    } catch (IOException ignored) {
      // deleting the file below is what matters
    }
    if (committed == null) {
      AtomicFile.deleteQuietly(temp);
    }
    gcHold.close();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("blob writer is closed");
    }
  }
}
