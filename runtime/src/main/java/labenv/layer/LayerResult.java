package labenv.layer;

import labenv.image.Descriptor;
import labenv.image.Digest;

/**
 * What packing a layer produced.
 *
 * @param digest the sha256 of the blob (the compressed bytes)
 * @param size the blob's size in bytes
 * @param diffId the sha256 of the uncompressed tar, as the image config's rootfs.diff_ids lists it
 * @param uncompressedSize the tar's size in bytes
 * @param mediaType the OCI layer media type
 */
public record LayerResult(Digest digest, long size, Digest diffId, long uncompressedSize, String mediaType) {
  /** The descriptor a manifest lists for this layer. */
  public Descriptor descriptor() {
    return Descriptor.of(mediaType, digest, size);
  }
}
