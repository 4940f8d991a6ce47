package labenv.store;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.linux.Libc;
import labenv.linux.Syscalls;

/**
 * Many small blobs made durable together: for a dataset's chunks, where an fsync and a directory
 * sync per blob cost more than hashing and writing it (20,000 files of a few KiB: seconds).
 *
 * <p>{@link #put} hashes the bytes it is given and writes them to a temporary file in
 * {@code blobs/sha256/}: the digest is computed here from exactly the bytes written, so the blob is
 * verified by construction and hashed once. {@link #publish} makes every file durable with one
 * syncfs of the store's filesystem, then renames them to their digests and syncs the directory once.
 * Until then no reader sees them (their names start with {@code .tmp-}); nothing may name a blob of
 * the batch before publish returns. {@link #close()} removes what was not published.
 *
 * <p>Holds the store's gc lock shared from creation to close, like {@link BlobWriter}. Not
 * thread-safe.
 */
public final class BlobBatch implements AutoCloseable {
  private static final java.nio.file.attribute.FileAttribute<?> READ_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--"));

  private record Staged(Path temp, Path target, long size) {}

  private final ContentStore store;
  private final StoreLock gcHold;
  private final Path dir;
  private final MessageDigest md = Digest.newSha256();
  private final Set<Digest> staged = new HashSet<>();
  private final List<Staged> pending = new ArrayList<>();
  private boolean closed;

  /** What {@link #put} did: the bytes' digest, and whether they were written (new to the store and the batch). */
  public record Put(Digest digest, boolean written) {}

  public BlobBatch(ContentStore store) {
    this.store = store;
    this.dir = store.blobDir("sha256");
    this.gcHold = store.lockShared();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      gcHold.close();
      throw LabenvException.failed("cannot create " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Hashes {@code buf[off, off + len)} and, unless the store or this batch already has a blob of that
   * digest, writes it to a temporary file that {@link #publish} will name.
   */
  public Put put(byte[] buf, int off, int len) {
    ensureOpen();
    md.update(buf, off, len);
    Digest digest = Digest.sha256(md.digest());
    if (staged.contains(digest) || store.has(digest)) {
      return new Put(digest, false);
    }
    Path temp = dir.resolve(AtomicFile.TEMP_PREFIX + AtomicFile.randomSuffix());
    try (FileChannel ch = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        READ_ONLY)) {
      pending.add(new Staged(temp, store.path(digest), len));
      ByteBuffer b = ByteBuffer.wrap(buf, off, len);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot write blob " + temp + ": " + e.getMessage(), e);
    }
    staged.add(digest);
    return new Put(digest, true);
  }

  /**
   * Makes every blob written so far durable (one syncfs), then visible under its digest (renames, one
   * directory sync). A blob that appeared in the store meanwhile counts as success.
   */
  public void publish() {
    ensureOpen();
    if (pending.isEmpty()) {
      return;
    }
    int fd = Syscalls.openat(Libc.AT_FDCWD, Syscalls.cstr(dir.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
    try {
      Libc.syncfs(fd);
    } catch (LastErrorException e) {
      // The message names ENOSPC in words: callers that say how much room an add needs look for them.
      throw LabenvException.failed("syncfs " + dir + ": errno " + e.getErrorCode()
          + (e.getErrorCode() == 28 ? " (No space left on device)" : "") + "; nothing was stored", e);
    } finally {
      Syscalls.close(fd);
    }
    try {
      for (Staged s : pending) {
        if (Files.isRegularFile(s.target(), LinkOption.NOFOLLOW_LINKS) && Files.size(s.target()) == s.size()) {
          Files.delete(s.temp());
        } else {
          Files.move(s.temp(), s.target(), StandardCopyOption.ATOMIC_MOVE);
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot store blobs in " + dir + ": " + e.getMessage(), e);
    }
    AtomicFile.syncDirectory(dir);
    pending.clear();
  }

  /** Removes the temporary files of blobs not published, and releases the gc hold. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Staged s : pending) {
      AtomicFile.deleteQuietly(s.temp());
    }
    pending.clear();
    gcHold.close();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("blob batch is closed");
    }
  }
}
