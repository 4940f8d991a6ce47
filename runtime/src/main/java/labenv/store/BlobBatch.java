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
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.linux.Libc;
import labenv.linux.Syscalls;

/**
 * Many small blobs made durable together: for a dataset's chunks, where an fsync and a directory
 * sync per blob cost more than hashing and writing it (20,000 files of a few KiB: seconds).
 *
 * <p>{@link #put} hashes the bytes it is given and has a copy written to a temporary file in
 * {@code blobs/sha256/}: the digest is computed here from exactly the bytes written, so the blob is
 * verified by construction and hashed once. The files are created and written by one background
 * thread (at most {@link #MAX_QUEUED_BYTES} queued), so that the caller reads and hashes the next
 * chunk meanwhile. {@link #publish} waits for them, makes every file durable with one syncfs of the
 * store's filesystem, then renames them to their digests and syncs the directory once. Until then no
 * reader sees them (their names start with {@code .tmp-}); nothing may name a blob of the batch
 * before publish returns. {@link #close()} removes what was not published.
 *
 * <p>Holds the store's gc lock shared from creation to close, like {@link BlobWriter}. Used by one
 * thread at a time (handing it between threads must order their uses); publish once, at the end.
 */
public final class BlobBatch implements AutoCloseable {
  private static final java.nio.file.attribute.FileAttribute<?> READ_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--"));

  /** Copies of chunks waiting for the writer thread: bounded so memory stays flat whatever the input. */
  static final int MAX_QUEUED_BYTES = 64 << 20;

  private record Staged(Path temp, Path target, long size) {}

  private final ContentStore store;
  private final StoreLock gcHold;
  private final Path dir;
  private final MessageDigest md = Digest.newSha256();
  private final Set<Digest> staged = new HashSet<>();
  // Written by the writer thread; read after it has stopped (awaitTermination orders the two).
  private final List<Staged> pending = Collections.synchronizedList(new ArrayList<>());
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "blob-batch-writer");
    t.setDaemon(true);
    return t;
  });
  private final Semaphore room = new Semaphore(MAX_QUEUED_BYTES);
  private volatile LabenvException failure;
  private volatile boolean cancelled;
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
   * digest, has a copy written to a temporary file that {@link #publish} will name. Throws the first
   * failure of an earlier write.
   */
  public Put put(byte[] buf, int off, int len) {
    ensureOpen();
    throwFailure();
    md.update(buf, off, len);
    Digest digest = Digest.sha256(md.digest());
    if (staged.contains(digest) || store.has(digest)) {
      return new Put(digest, false);
    }
    return stage(digest, java.util.Arrays.copyOfRange(buf, off, off + len));
  }

  /** Like {@link #put} for a whole array the caller hands over: it must not change it afterwards (no copy is made). */
  public Put putOwned(byte[] data) {
    ensureOpen();
    throwFailure();
    md.update(data);
    Digest digest = Digest.sha256(md.digest());
    if (staged.contains(digest) || store.has(digest)) {
      return new Put(digest, false);
    }
    return stage(digest, data);
  }

  private Put stage(Digest digest, byte[] copy) {
    int len = copy.length;
    staged.add(digest);
    int permits = Math.min(len, MAX_QUEUED_BYTES);
    room.acquireUninterruptibly(permits);
    Path target = store.path(digest);
    writer.execute(() -> {
      try {
        if (failure == null && !cancelled) {
          write(copy, target);
        }
      } finally {
        room.release(permits);
      }
    });
    return new Put(digest, true);
  }

  /** On the writer thread. */
  private void write(byte[] data, Path target) {
    Path temp = dir.resolve(AtomicFile.TEMP_PREFIX + AtomicFile.randomSuffix());
    try (FileChannel ch = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        READ_ONLY)) {
      pending.add(new Staged(temp, target, data.length));
      ByteBuffer b = ByteBuffer.wrap(data);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    } catch (IOException | RuntimeException e) {
      if (failure == null) {
        failure = LabenvException.failed("cannot write blob " + temp + ": " + e.getMessage(), e);
      }
      return;
    }
    startWriteback(temp);
  }

  /**
   * Has the kernel start writing the blob to disk now, without waiting for it, so that the syncfs of
   * {@link #publish} finds little left to write: with a gigabyte added, the disk writes while the next
   * chunks are hashed, rather than all at the end (dirty pages are otherwise left until 10 % of memory is
   * dirty). Only a hint: failing to give it changes nothing.
   */
  private static void startWriteback(Path file) {
    try {
      int fd = Syscalls.openat(Libc.AT_FDCWD, Syscalls.cstr(file.toString()), Libc.O_RDONLY, 0);
      try {
        Libc.sync_file_range(fd, 0, 0, Libc.SYNC_FILE_RANGE_WRITE);
      } finally {
        Syscalls.close(fd);
      }
    } catch (LastErrorException | LabenvException e) {
      // a hint only
    }
  }

  private void throwFailure() {
    LabenvException f = failure;
    if (f != null) {
      throw LabenvException.failed(f.getMessage(), f);
    }
  }

  /** Lets the queued writes finish (or skips them when cancelled) and stops the writer thread. */
  private void drain() {
    writer.shutdown();
    boolean interrupted = false;
    while (true) {
      try {
        if (writer.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Makes every blob written so far durable (one syncfs), then visible under its digest (renames, one
   * directory sync). A blob that appeared in the store meanwhile counts as success.
   */
  public void publish() {
    ensureOpen();
    drain();
    throwFailure();
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
    cancelled = true;
    drain();
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
