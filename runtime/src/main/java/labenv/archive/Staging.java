package labenv.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.image.Digest;

/**
 * A private directory inside the store where incoming blobs wait until the whole image graph has
 * been checked. Nothing in it is visible to readers of the store; {@link #close} removes it, so a
 * failed load leaves the store as it was. Lives on the store's filesystem so that publishing a
 * blob is a rename, not a second copy of many GiB.
 */
final class Staging implements AutoCloseable {
  private static final int BUFFER = 256 * 1024;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> READ_ONLY =
      java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--");

  private static final String LOCK_FILE = ".lock";
  private static final java.util.Set<Path> ACTIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final FileChannel lockChannel;
  private final Map<Digest, StagedBlob> byDigest = new HashMap<>();
  private int next;

  private Staging(Path dir, FileChannel lockChannel) {
    this.dir = dir;
    this.lockChannel = lockChannel;
  }

  /**
   * Creates a fresh staging directory below {@code parent} (created if needed, and removed again
   * by {@link #close} when it is empty, so that a failed load leaves no trace in the store). Staging
   * directories that a killed process left behind are removed on the way.
   */
  static Staging create(Path parent, String prefix) {
    removeStale(parent);
    Path dir = parent.resolve(prefix + randomSuffix());
    ACTIVE.add(dir);
    IOException last = null;
    // Another load may remove the empty parent between our two calls: try again.
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        Files.createDirectories(parent);
        Files.createDirectory(dir);
        // Locked under another name, then renamed (the lock stays with the file): another process's removeStale
        // must never find the lock file before it is locked, or it takes the directory for a dead one's.
        Path unlocked = dir.resolve(LOCK_FILE + ".new");
        FileChannel lockChannel = FileChannel.open(unlocked, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        lockChannel.lock();
        Files.move(unlocked, dir.resolve(LOCK_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return new Staging(dir, lockChannel);
      } catch (java.nio.file.NoSuchFileException e) {
        last = e;
      } catch (IOException e) {
        last = e;
        break;
      }
    }
    ACTIVE.remove(dir);
    deleteTree(dir);
    throw LabenvException.failed("cannot create staging directory " + dir + ": " + last.getMessage(), last);
  }

  /**
   * A staging directory is in use while its lock file is locked: by this JVM (then it is in
   * {@link #ACTIVE}; its lock file is not even opened here, since closing any descriptor of a file
   * drops the process's locks on it) or by another process (then tryLock fails).
   */
  private static void removeStale(Path parent) {
    if (!Files.isDirectory(parent)) {
      return;
    }
    List<Path> dirs;
    try (var list = Files.list(parent)) {
      dirs = list.toList();
    } catch (IOException e) {
      return;
    }
    for (Path d : dirs) {
      if (ACTIVE.contains(d) || !Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      try (FileChannel ch = FileChannel.open(d.resolve(LOCK_FILE), StandardOpenOption.WRITE)) {
        var lock = ch.tryLock();
        if (lock != null) {
          deleteTree(d);
        }
      } catch (java.nio.file.NoSuchFileException e) {
        // just being created, or being removed
      } catch (IOException | java.nio.channels.OverlappingFileLockException e) {
        // in use, or not ours to judge
      }
    }
  }

  static String randomSuffix() {
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  Path dir() {
    return dir;
  }

  /**
   * Copies {@code in} to a staged file, hashing on the way. Read errors of {@code in} propagate as
   * they are (the caller's stream knows what they mean); write errors are failures.
   */
  StagedBlob stage(InputStream in) {
    Path file = dir.resolve(Integer.toString(next++));
    MessageDigest sha = Digest.newSha256();
    long size = 0;
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      byte[] buf = new byte[BUFFER];
      int n;
      while ((n = in.read(buf)) >= 0) {
        sha.update(buf, 0, n);
        out.write(buf, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot write staging file " + file + ": " + e.getMessage(), e);
    }
    return keep(new StagedBlob(file, Digest.sha256(sha.digest()), size));
  }

  /** Stages bytes made here (converted manifests, configs). */
  StagedBlob stage(byte[] bytes) {
    return stage(new java.io.ByteArrayInputStream(bytes));
  }

  /** An empty file to be filled by the caller, then registered with {@link #adopt}. */
  Path newFile() {
    return dir.resolve(Integer.toString(next++));
  }

  /** Registers a file the caller wrote to {@link #newFile()} with its known digest and size. */
  StagedBlob adopt(Path file, Digest digest, long size) {
    return keep(new StagedBlob(file, digest, size));
  }

  // One staged copy per digest: the same layer named twice in an archive is stored once.
  private StagedBlob keep(StagedBlob blob) {
    StagedBlob earlier = byDigest.putIfAbsent(blob.digest(), blob);
    if (earlier != null) {
      deleteQuietly(blob.file());
      return earlier;
    }
    return blob;
  }

  /** The whole staged file; only for small JSON documents. */
  static byte[] read(StagedBlob blob, long max, String what) {
    if (blob.size() > max) {
      throw new InvalidArchiveException(what + ": " + blob.size() + " bytes is too large for a JSON document (at most "
          + max + ")");
    }
    try {
      return Files.readAllBytes(blob.file());
    } catch (IOException e) {
      throw LabenvException.failed("cannot read staging file " + blob.file() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Moves {@code blob} to {@code target} (a blob path of the store) unless the store has it already.
   * The file is synced first so the store never holds half a blob after a crash; the caller syncs
   * the target directories once at the end. Returns true when the blob was new.
   */
  static boolean publish(StagedBlob blob, Path target) {
    if (Files.exists(target)) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(blob.file(), StandardOpenOption.READ)) {
      ch.force(true);
      // Blobs are read-only in the store, as its own writer leaves them.
      Files.setPosixFilePermissions(blob.file(), READ_ONLY);
    } catch (IOException e) {
      throw LabenvException.failed("cannot sync staging file " + blob.file() + ": " + e.getMessage(), e);
    }
    try {
      Files.createDirectories(target.getParent());
      // Two loads of the same blob can race here: both renames put identical bytes in place.
      Files.move(blob.file(), target, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw LabenvException.failed("cannot move blob " + blob.digest() + " into the store: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    deleteTree(dir);
    try {
      lockChannel.close();
    } catch (IOException e) {
      // the lock goes with the process at the latest
    }
    ACTIVE.remove(dir);
    try {
      Files.deleteIfExists(dir.getParent());
    } catch (IOException e) {
      // not empty: another load is staging there
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(Staging::deleteQuietly);
    } catch (IOException | java.io.UncheckedIOException e) {
      // a leftover staging directory holds no published data; prune removes it
    }
  }

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // see deleteTree
    }
  }
}
