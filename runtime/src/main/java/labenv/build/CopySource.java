package labenv.build;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a COPY or ADD reads: the build context (with its ignore rules), or the root file system of another stage or
 * image (nothing ignored). Source paths are resolved inside {@code root} as if it were "/": ".." cannot leave it, and
 * symlinks met on the way are followed but stay inside it.
 *
 * @param description what errors say the sources are in, after "in": "the build context", "stage builder",
 *     "image alpine:3.19"
 * @param keepOwners copies keep the sources' owners when there is no --chown: true for another stage or an image
 *     (moby#38599, BuildKit and buildah alike), false for the build context, whose owners are the host's
 */
public record CopySource(Path root, IgnoreRules ignore, String description, boolean keepOwners) {
  public CopySource {
    Objects.requireNonNull(root);
    Objects.requireNonNull(ignore);
    Objects.requireNonNull(description);
  }

  /** A source whose owners are not kept (files become 0:0 unless --chown). */
  public CopySource(Path root, IgnoreRules ignore, String description) {
    this(root, ignore, description, false);
  }

  public static CopySource context(BuildContext context) {
    return new CopySource(context.root(), context.ignore(), "the build context");
  }

  /** The root file system of the stage {@code name} (COPY --from=name). */
  public static CopySource stage(Path root, String name) {
    return new CopySource(root, IgnoreRules.none(), "stage " + name, true);
  }

  /** The root file system of an image (COPY --from=image). */
  public static CopySource image(Path root, String reference) {
    return new CopySource(root, IgnoreRules.none(), "image " + reference, true);
  }
}
