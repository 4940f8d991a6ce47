package labenv.archive;

import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.ImageReference;

/** The names an archive gives its images, normalised as the store keeps them. */
final class ImageNames {
  private ImageNames() {}

  /**
   * containerd's full-name annotation when there is one; else the OCI ref.name when it is a whole
   * reference (podman writes {@code localhost/app:1}); a bare tag (what skopeo, umoci and Docker
   * write there) names no repository, so the image stays unnamed.
   */
  static List<String> fromAnnotations(Descriptor d) {
    String full = d.annotation(OciGraph.CONTAINERD_NAME);
    if (full != null && !full.isEmpty()) {
      return List.of(normalise(full, "index.json: " + OciGraph.CONTAINERD_NAME + " of " + d.digest()));
    }
    String ref = d.annotation(OciGraph.REF_NAME);
    if (ref != null && isWholeReference(ref)) {
      return List.of(normalise(ref, "index.json: " + OciGraph.REF_NAME + " of " + d.digest()));
    }
    return List.of();
  }

  static List<String> fromRepoTags(List<String> repoTags, String where) {
    List<String> out = new ArrayList<>();
    if (repoTags != null) {
      for (String t : repoTags) {
        String n = normalise(t, where);
        if (!out.contains(n)) {
          out.add(n);
        }
      }
    }
    return out;
  }

  /** A ref.name is a whole reference when it has a repository part, not just a tag. */
  static boolean isWholeReference(String ref) {
    return ref.contains("/") || (ref.contains(":") && ImageReference.isValid(ref));
  }

  /** The fully qualified name; a name that is not a valid reference, or that carries a digest, is refused. */
  static String normalise(String name, String where) {
    ImageReference ref;
    try {
      ref = ImageReference.parse(name);
    } catch (LabenvException e) {
      throw new InvalidArchiveException(where + ": " + e.getMessage(), e);
    }
    if (ref.digest() != null) {
      throw new InvalidArchiveException(where + ": image name \"" + name + "\" carries a digest");
    }
    return ref.toString();
  }

  /** The name as people read it, {@code busybox:latest}. */
  static String familiar(String name) {
    return ImageReference.parse(name).familiarName();
  }
}
