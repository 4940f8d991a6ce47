package labenv.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import labenv.image.Digest;

/**
 * Small cache files whose last 32 bytes are the sha256 of what comes before: a torn or damaged file
 * reads as absent, never as wrong data. Written atomically. For caches only: failing to write one is
 * not an error.
 */
public final class ChecksummedFile {
  private ChecksummedFile() {}

  /** The body of {@code file} when it is there and its checksum holds; null otherwise. */
  public static byte[] read(Path file) {
    try {
      byte[] data = Files.readAllBytes(file);
      int body = data.length - 32;
      if (body < 0) {
        return null;
      }
      MessageDigest check = Digest.newSha256();
      check.update(data, 0, body);
      return MessageDigest.isEqual(check.digest(), Arrays.copyOfRange(data, body, data.length))
          ? Arrays.copyOf(data, body) : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Writes {@code body[0, length)} and its checksum to {@code file} (directories made); quietly does nothing on failure. */
  public static void write(Path file, byte[] body, int length) {
    byte[] out = Arrays.copyOf(body, length + 32);
    MessageDigest check = Digest.newSha256();
    check.update(body, 0, length);
    System.arraycopy(check.digest(), 0, out, length, 32);
    try {
      Files.createDirectories(file.getParent());
      AtomicFile.write(file, out);
    } catch (IOException | RuntimeException e) {
      // only a cache
    }
  }
}
