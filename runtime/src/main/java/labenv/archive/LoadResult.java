package labenv.archive;

import java.util.List;

/**
 * What {@link Archives#load} did.
 *
 * @param kind what the input turned out to be
 * @param images the images loaded, in the archive's order
 * @param blobsAdded blobs the store did not have before
 * @param bytesAdded their total size
 */
public record LoadResult(ArchiveKind kind, List<LoadedImage> images, int blobsAdded, long bytesAdded) {
  public LoadResult {
    images = List.copyOf(images);
  }
}
