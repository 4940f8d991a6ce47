package labenv.dataset;

import labenv.image.Descriptor;

/**
 * What {@code add} did: the version ({@code version.digest()} is its digest) under {@code name}
 * (the tag given, or the short digest); its files and bytes; the bytes read and hashed (0 when the
 * stat cache knew every file) and the bytes and chunks newly stored (0 when nothing was new).
 */
public record AddResult(DatasetName name, Descriptor version, long files, long bytes, long bytesHashed,
    long bytesStored, int chunksStored, boolean newVersion) {}
