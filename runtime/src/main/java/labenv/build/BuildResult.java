package labenv.build;

import java.util.List;
import labenv.image.Descriptor;

/**
 * What a build made.
 *
 * @param manifest the image's manifest descriptor (its digest is the image's)
 * @param tags the names it now has
 * @param steps how many steps the build had
 * @param cached how many of them came from the cache
 * @param bases the base image of every stage built (for the lock)
 * @param maven the coordinates the MAVEN instruction asked for (for the lock)
 */
public record BuildResult(Descriptor manifest, List<String> tags, int steps, int cached, List<Base> bases,
    List<String> maven) {
  /** A stage's FROM: the reference as written (expanded) and the image digest it resolved to; null for scratch. */
  public record Base(String stage, String image, String digest) {}
}
