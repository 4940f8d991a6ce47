package labenv.archive;

import labenv.image.ImageConfig;
import labenv.image.Platform;
import labenv.layer.Compression;

/**
 * How {@link Archives#importRootfs} makes its image.
 *
 * @param compression of the one layer
 * @param sourceDateEpoch seconds since 1970: the image's {@code created} time (and, for a directory,
 *     the clamp for file mtimes)
 * @param platform what the config says the image runs on
 * @param config the execution parameters the image's config carries (Cmd, Env...); null for none
 * @param createdBy what the one history entry says made the image; null for {@code labenv import}
 * @param comment the history entry's comment (how it was made, with which tool); null for none
 */
public record ImportOptions(Compression compression, long sourceDateEpoch, Platform platform,
    ImageConfig.Config config, String createdBy, String comment) {

  public ImportOptions(Compression compression, long sourceDateEpoch, Platform platform) {
    this(compression, sourceDateEpoch, platform, null, null, null);
  }

  /** gzip, {@code $SOURCE_DATE_EPOCH} (0 when unset), the host's platform. */
  public static ImportOptions defaults() {
    return new ImportOptions(Compression.GZIP, labenv.SourceDateEpoch.fromEnvironment(), Platform.host());
  }

  public ImportOptions withCompression(Compression c) {
    return new ImportOptions(c, sourceDateEpoch, platform, config, createdBy, comment);
  }

  public ImportOptions withSourceDateEpoch(long seconds) {
    return new ImportOptions(compression, seconds, platform, config, createdBy, comment);
  }

  public ImportOptions withPlatform(Platform p) {
    return new ImportOptions(compression, sourceDateEpoch, p, config, createdBy, comment);
  }

  // added for issue 4 (bootstrap): base images carry a Cmd and say how they were made
  public ImportOptions withConfig(ImageConfig.Config c) {
    return new ImportOptions(compression, sourceDateEpoch, platform, c, createdBy, comment);
  }

  public ImportOptions withHistory(String newCreatedBy, String newComment) {
    return new ImportOptions(compression, sourceDateEpoch, platform, config, newCreatedBy, newComment);
  }
}
