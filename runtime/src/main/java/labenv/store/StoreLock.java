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
}
