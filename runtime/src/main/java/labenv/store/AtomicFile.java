package labenv.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import labenv.LabenvException;

/**
 * Writes that are all-or-nothing across crashes: a temporary file in the same directory, fsync,
 * rename over the target, fsync of the directory. A reader sees the old file or the new one.
 *
 * <p>Temporary names start with {@link #TEMP_PREFIX}; nothing else in a store starts with it, so
 * prune can remove leftovers of killed writers.
 */
public final class AtomicFile {
  private AtomicFile() {}

  /** Prefix of every temporary file the store writes. Blob names are hex digits, so never clash. */
  public static final String TEMP_PREFIX = ".tmp-";

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Replaces {@code target} with {@code data}, atomically and durably. */
  public static void write(Path target, byte[] data) {
    write(target, data, new java.nio.file.attribute.FileAttribute<?>[0]);
  }

  /** Like {@link #write(Path, byte[])}, the file readable and writable by its owner only from its creation on (secrets). */
  public static void writePrivate(Path target, byte[] data) {
    write(target, data, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
  }

  private static void write(Path target, byte[] data, java.nio.file.attribute.FileAttribute<?>... attributes) {
    Path dir = target.toAbsolutePath().getParent();
    Path temp = dir.resolve(TEMP_PREFIX + target.getFileName() + "-" + randomSuffix());
    try {
      try (FileChannel ch = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE), attributes)) {
        ByteBuffer buf = ByteBuffer.wrap(data);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      syncDirectory(dir);
    } catch (IOException e) {
      deleteQuietly(temp);
      throw LabenvException.failed("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /** Makes a rename or unlink in {@code dir} durable. */
  public static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      throw LabenvException.failed("cannot sync directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** True for names this class or a blob writer gave a temporary file. */
  public static boolean isTemp(String fileName) {
    return fileName.startsWith(TEMP_PREFIX);
  }

  /** 12 random hex digits, for names of temporary files and directories. */
  public static String randomSuffix() {
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a leftover temporary file is found and removed by prune
    }
  }
}
