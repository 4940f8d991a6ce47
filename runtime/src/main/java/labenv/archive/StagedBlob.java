package labenv.archive;

import java.nio.file.Path;
import labenv.image.Digest;

/** A file waiting in {@link Staging}: its bytes hash to {@code digest} and are {@code size} long. */
record StagedBlob(Path file, Digest digest, long size) {}
