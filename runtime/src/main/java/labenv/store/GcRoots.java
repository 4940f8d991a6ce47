package labenv.store;

import java.util.List;
import labenv.image.Descriptor;

/**
 * Blobs that must survive garbage collection besides everything index.json references: a build
 * cache, datasets that keep their own records. Called with the gc lock held exclusively, so the
 * answer cannot go stale before collection ends. Every index.json descriptor is already a root,
 * named or not; a component may also publish roots there (without a ref.name annotation).
 */
@FunctionalInterface
public interface GcRoots {
  List<Descriptor> roots();
}
