package labenv.archive;

import labenv.image.Platform;
import labenv.layer.Compression;

/**
 * How {@link Archives#importRootfs} makes its image.
 *
 * @param compression of the one layer
 * @param sourceDateEpoch seconds since 1970: the image's {@code created} time (and, for a directory,
 *     the clamp for file mtimes)
 * @param platform what the config says the image runs on
 */
public record ImportOptions(Compression compression, long sourceDateEpoch, Platform platform) {
  /** gzip, {@code $SOURCE_DATE_EPOCH} (0 when unset), the host's platform. */
  public static ImportOptions defaults() {
    return new ImportOptions(Compression.GZIP, labenv.SourceDateEpoch.fromEnvironment(), Platform.host());
  }

  public ImportOptions withCompression(Compression c) {
    return new ImportOptions(c, sourceDateEpoch, platform);
  }

  public ImportOptions withSourceDateEpoch(long seconds) {
    return new ImportOptions(compression, seconds, platform);
  }

}
