package labenv.dataset;

import java.time.Instant;
import labenv.image.Digest;

/** One name in {@code dataset ls}: the version it points at, when that was added (null if unknown), its size. */
public record DatasetSummary(DatasetName name, Digest digest, Instant created, long files, long bytes) {}
