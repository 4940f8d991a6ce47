package labenv.dataset;

import java.time.Instant;
import labenv.image.Descriptor;

/**
 * {@code dataset show}: the version, its names, when it was first added here and from where (null
 * for a version that was loaded, not added), its files and what it costs on disk.
 */
public record DatasetDetails(DatasetVersion version, Instant created, String source, DatasetConfig config,
    DiskCost cost) {
  public Descriptor manifest() {
    return version.manifest();
  }
}
