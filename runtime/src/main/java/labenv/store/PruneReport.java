package labenv.store;

import java.util.List;
import labenv.image.Digest;

/**
 * What {@code prune} removed.
 *
 * @param deleted the unreferenced blobs deleted
 * @param tempFilesRemoved leftover temporary files of killed writers removed
 * @param bytesFreed the bytes both took (unpacked layers not counted)
 * @param layersRemoved the diff IDs (sha256) of unpacked layers removed from {@code layers/}: no image kept
 *     references them
 */
public record PruneReport(List<Digest> deleted, int tempFilesRemoved, long bytesFreed, List<Digest> layersRemoved) {
  public PruneReport {
    deleted = List.copyOf(deleted);
    layersRemoved = List.copyOf(layersRemoved);
  }

  public PruneReport(List<Digest> deleted, int tempFilesRemoved, long bytesFreed) {
    this(deleted, tempFilesRemoved, bytesFreed, List.of());
  }
}
