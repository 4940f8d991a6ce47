package labenv.store;

import java.util.List;
import labenv.image.Digest;

/**
 * What {@code prune} removed.
 *
 * @param deleted the unreferenced blobs deleted
 * @param tempFilesRemoved leftover temporary files of killed writers removed
 * @param bytesFreed the bytes both took
 */
public record PruneReport(List<Digest> deleted, int tempFilesRemoved, long bytesFreed) {
  public PruneReport {
    deleted = List.copyOf(deleted);
  }
}
