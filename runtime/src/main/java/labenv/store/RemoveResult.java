package labenv.store;

import java.util.List;
import labenv.image.Digest;

/**
 * What {@code rmi} did, in {@code docker rmi}'s terms.
 *
 * @param untagged the names removed
 * @param deleted the blobs deleted because nothing references them any more
 * @param bytesFreed the bytes those blobs took
 */
public record RemoveResult(List<String> untagged, List<Digest> deleted, long bytesFreed) {
  public RemoveResult {
    untagged = List.copyOf(untagged);
    deleted = List.copyOf(deleted);
  }
}
