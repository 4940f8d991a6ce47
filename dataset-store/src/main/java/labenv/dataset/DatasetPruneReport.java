package labenv.dataset;

import java.util.List;
import labenv.image.Digest;

/** What {@link DatasetStore#prune} removed: the trees of versions no longer named and not in use, and the bytes. */
public record DatasetPruneReport(List<Digest> treesRemoved, long bytesFreed) {}
