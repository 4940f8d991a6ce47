package labenv.archive;

import java.nio.file.Path;
import java.util.List;
import labenv.image.Descriptor;

/**
 * What {@link Archives#save} wrote.
 *
 * @param out the archive
 * @param format its format
 * @param images the manifests (or indexes) it holds, one per image, in the order requested
 * @param size the archive's size in bytes
 */
public record SaveResult(Path out, Archives.Format format, List<Descriptor> images, long size) {
  public SaveResult {
    images = List.copyOf(images);
  }
}
