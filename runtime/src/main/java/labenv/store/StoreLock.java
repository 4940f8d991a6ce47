package labenv.store;

/**
 * A held store lock. Closing it releases the hold; closing twice is harmless.
 *
 * <pre>{@code
 * try (StoreLock gc = store.lockShared()) {
 *   // write blobs, then publish the name that references them
 * }
 * }</pre>
 */
public interface StoreLock extends AutoCloseable {
  @Override
  void close();

  /**
   * Holds {@code file} (created if missing; its directory must exist) exclusively, waiting for other holders in
   * this process and others: for what is not the store but must not be changed by two commands at once (a
   * project's outputs).
   */
  static StoreLock exclusive(java.nio.file.Path file) {
    try {
      java.nio.file.Files.newByteChannel(file, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.WRITE).close();
      return LockFile.of(file.toRealPath()).exclusive();
    } catch (java.io.IOException e) {
      throw labenv.LabenvException.failed("cannot lock " + file + ": " + e.getMessage(), e);
    }
  }
}
