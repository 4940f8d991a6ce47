package labenv.store;

import java.util.List;
import labenv.LabenvException;
import labenv.image.Digest;

import labenv.image.Descriptor;
import labenv.image.ImageConfig;
import labenv.image.Manifest;
import labenv.image.Platform;

/**
 * A loaded, verified image for one platform.
 *
 * @param descriptor the platform's manifest (for a multi-platform image, the one selected from its index)
 * @param manifest the parsed manifest
 * @param config the parsed config
 * @param rawConfig the config's stored bytes, which hash to {@code manifest.config().digest()}
 * @param platform the platform the config declares
 */
public record Image(Descriptor descriptor, Manifest manifest, ImageConfig config, byte[] rawConfig, Platform platform) {
  /** The config's diff IDs, one per manifest layer; a config that disagrees with its manifest is bad input. */
  public List<Digest> diffIds() {
    List<Digest> diffIds = config.diffIds();
    if (diffIds.size() != manifest.layers().size()) {
      throw LabenvException.badInput("image " + descriptor.digest() + ": " + manifest.layers().size()
          + " layers but " + diffIds.size() + " diff IDs in the config");
    }
    return diffIds;
  }
}
