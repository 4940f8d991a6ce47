package labenv.archive;

import labenv.image.Descriptor;
import labenv.image.Digest;

/**
 * The image {@link Archives#importRootfs} made.
 *
 * @param name the name it was tagged with, as people read it ({@code app:latest})
 * @param manifest the manifest descriptor (its digest is the image's digest)
 * @param config the config's digest, the image ID
 * @param layer the one layer as stored (compressed)
 * @param diffId the layer's uncompressed digest
 * @param uncompressedSize the layer's uncompressed size in bytes
 */
public record ImportResult(String name, Descriptor manifest, Digest config, Descriptor layer, Digest diffId,
    long uncompressedSize) {}
