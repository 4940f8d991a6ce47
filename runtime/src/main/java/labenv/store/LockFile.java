package labenv.store;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import labenv.LabenvException;

/**
 * A reader-writer lock over one lock file, shared by every thread of this JVM and every process.
 *
 * <p>There is exactly one instance per lock file per JVM: the kernel's record locks belong to the
 * process, so two channels on one file would see each other's locks as their own (Java throws
 * {@code OverlappingFileLockException}), and closing any descriptor of the file drops all of the
 * process's locks on it. Inside the JVM, a monitor counts shared holders; the file lock is taken
 * by the first shared holder and released by the last. Holds are counted, not owned by threads,
 * so a hold taken on one thread may be released on another.
 */
final class LockFile {
  private static final ConcurrentHashMap<Path, LockFile> INSTANCES = new ConcurrentHashMap<>();

  private final Path file;
  private FileChannel channel;
  /** The identity (device, inode) of the file {@link #channel} has open. */
  private Object channelFileKey;
  private FileLock fileLock;
  private int sharedHolds;
  private Thread exclusiveOwner;
  private int exclusiveHolds;

  private LockFile(Path file) {
    this.file = file;
  }

  /** The lock for {@code file}, which must be an absolute, real path. */
  static LockFile of(Path file) {
    return INSTANCES.computeIfAbsent(file, LockFile::new);
  }

  /** Blocks until no one holds the lock exclusively, then holds it shared. */
  synchronized StoreLock shared() {
    Thread me = Thread.currentThread();
    if (exclusiveOwner == me) {
      // Already held exclusively by this thread: a shared hold inside it is implied.
      exclusiveHolds++;
      return release(this::releaseExclusive);
    }
    while (exclusiveOwner != null) {
      waitInterruptibly();
    }
    if (sharedHolds == 0) {
      acquireFileLock(true);
    }
    sharedHolds++;
    return release(this::releaseShared);
  }

  /** Blocks until no one else holds the lock, then holds it exclusively. Reentrant per thread. */
  synchronized StoreLock exclusive() {
    Thread me = Thread.currentThread();
    if (exclusiveOwner == me) {
      exclusiveHolds++;
      return release(this::releaseExclusive);
    }
    // A thread holding a shared hold that asks for exclusive waits for itself: callers must not
    // upgrade (take the exclusive lock first instead).
    while (exclusiveOwner != null || sharedHolds > 0) {
      waitInterruptibly();
    }
    exclusiveOwner = me;
    try {
      acquireFileLock(false);
    } catch (RuntimeException e) {
      exclusiveOwner = null;
      notifyAll();
      throw e;
    }
    exclusiveHolds = 1;
    return release(this::releaseExclusive);
  }

  private synchronized void releaseShared() {
    if (--sharedHolds == 0) {
      releaseFileLock();
      notifyAll();
    }
  }

  private synchronized void releaseExclusive() {
    if (--exclusiveHolds == 0) {
      releaseFileLock();
      exclusiveOwner = null;
      notifyAll();
    }
  }

  private static StoreLock release(Runnable action) {
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        action.run();
      }
    };
  }

  private void waitInterruptibly() {
    try {
      wait();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed("interrupted while waiting for lock " + file);
    }
  }

  // Runs with the monitor held: while this process waits for another process's lock, other
  // threads of this process would have to wait for that same file lock anyway.
  private void acquireFileLock(boolean shared) {
    try {
      // No hold exists when we get here, so a stale channel can be closed without dropping a lock:
      // if the store was deleted and made anew at the same path, locking the old inode would
      // exclude no one.
      if (channel != null && (!channel.isOpen() || channelFileKey == null || !channelFileKey.equals(fileKeyOrNull()))) {
        channel.close();
        channel = null;
      }
      if (channel == null) {
        Files.createDirectories(file.getParent());
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        channelFileKey = fileKeyOrNull();
      }
      fileLock = channel.lock(0, Long.MAX_VALUE, shared);
    } catch (FileLockInterruptionException | ClosedChannelException e) {
      // An interrupt closes the channel; the next acquisition opens a new one.
      channel = null;
      Thread.currentThread().interrupt();
      throw LabenvException.failed("interrupted while waiting for lock " + file, e);
    } catch (IOException e) {
      throw LabenvException.failed("cannot lock " + file + ": " + e.getMessage(), e);
    }
  }

  private Object fileKeyOrNull() {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  private void releaseFileLock() {
    try {
      if (fileLock != null && fileLock.isValid()) {
        fileLock.release();
      }
    } catch (IOException e) {
      // The channel stays open, so the lock would linger; closing it is the only sure release.
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing more can be done
      }
      channel = null;
    } finally {
      fileLock = null;
    }
  }
}
