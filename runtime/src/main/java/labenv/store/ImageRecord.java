package labenv.store;

import java.time.Instant;
import java.util.List;
import labenv.image.Descriptor;

/**
 * One image as {@code labenv images} lists it.
 *
 * @param manifest what the names point at (a manifest or an index)
 * @param names the familiar names, {@code busybox:latest}, in index.json order
 * @param created when the config says the image was made, or null
 * @param size bytes of all the image's blobs present in the store
 */
public record ImageRecord(Descriptor manifest, List<String> names, Instant created, long size) {
  public ImageRecord {
    names = List.copyOf(names);
  }
}
