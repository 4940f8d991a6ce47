package labenv.archive;

import java.util.List;
import labenv.image.Descriptor;

/**
 * One image a load brought into the store.
 *
 * @param descriptor the manifest (or index) as the store now knows it
 * @param names the normalised names it was tagged with; empty when the archive gave it none, in
 *     which case it is known by its digest only
 */
public record LoadedImage(Descriptor descriptor, List<String> names) {
  public LoadedImage {
    names = List.copyOf(names);
  }

  public boolean named() {
    return !names.isEmpty();
  }
}
