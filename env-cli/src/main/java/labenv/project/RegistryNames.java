package labenv.project;

import java.util.Locale;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.image.ImageReference;

/**
 * Where a project's image and datasets live in a registry, for runs on a cluster (Kubernetes, Slurm): below the
 * project's {@code registry: HOST[:PORT]/NAMESPACE} (or a {@code --registry} given on the command line).
 *
 * <ul>
 *   <li>the image: {@code PREFIX/NAME}, NAME the project's name as a repository name (as {@code labenv run} tags it);
 *   <li>a dataset {@code NAME[:TAG]}: {@code PREFIX/NAME} (a digest-named dataset: {@code PREFIX/dataset}).
 * </ul>
 *
 * Both are pushed under the tag {@code sha256-HEX} (their digest, as cosign names attachments: a tag that no later push
 * moves) and run by digest, {@code PREFIX/NAME@sha256:HEX}, so a cluster runs exactly what was run here.
 *
 * @param prefix the registry and namespace, e.g. {@code ghcr.io/lab} or {@code localhost:5000}
 */
public record RegistryNames(String prefix) {
  public RegistryNames {
    check(prefix);
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
  }

  /**
   * The names for project {@code p}: {@code override} when given (a command line's {@code --registry}), else the
   * project's {@code registry:}; bad input when neither is.
   */
  public static RegistryNames of(ProjectFile p, String override) {
    String prefix = override != null ? override : p.registry();
    if (prefix == null) {
      throw LabenvException.badInput("no registry configured for " + p.name() + ": add \"registry: HOST/NAMESPACE\" to "
          + p.dir().resolve(ProjectFile.FILE) + " or give --registry HOST/NAMESPACE (the cluster pulls the image and "
          + "datasets from there)");
    }
    return new RegistryNames(prefix);
  }

  /** Bad input unless {@code prefix} is a registry with an optional namespace (no tag, no digest). */
  static void check(String prefix) {
    String p = prefix;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    try {
      ImageReference ref = ImageReference.parse(p + "/x");
      if (ref.digest() != null || !ref.tag().equals(ImageReference.DEFAULT_TAG) || p.contains("@")) {
        throw new IllegalArgumentException();
      }
    } catch (LabenvException | IllegalArgumentException e) {
      throw LabenvException.badInput("registry \"" + prefix + "\": expected HOST[:PORT][/NAMESPACE] (lowercase, no tag "
          + "or digest), like ghcr.io/lab or localhost:5000");
    }
  }

  /** The image's repository: {@code PREFIX/NAME}. */
  public String imageRepository(ProjectFile p) {
    String tag = ProjectRunner.tag(p);
    return prefix + "/" + tag.substring(0, tag.lastIndexOf(':'));
  }

  /** Where to push the image: {@code PREFIX/NAME:sha256-HEX}. */
  public String imagePushTarget(ProjectFile p, Digest digest) {
    return imageRepository(p) + ":" + tag(digest);
  }

  /** The image by digest: {@code PREFIX/NAME@sha256:HEX}. */
  public String image(ProjectFile p, Digest digest) {
    return imageRepository(p) + "@" + digest;
  }

  /** A dataset's repository: {@code PREFIX/NAME} for the project's dataset key {@code NAME[:TAG]}. */
  public String datasetRepository(String datasetKey) {
    String name = Digest.isDigest(datasetKey) ? "dataset" : datasetKey.contains(":")
        ? datasetKey.substring(0, datasetKey.lastIndexOf(':')) : datasetKey;
    name = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._/-]+", "-").replaceAll("^[^a-z0-9]+", "");
    return prefix + "/" + (name.isEmpty() ? "dataset" : name);
  }

  /** Where to push a dataset version: {@code PREFIX/NAME:sha256-HEX}. */
  public String datasetPushTarget(String datasetKey, Digest digest) {
    return datasetRepository(datasetKey) + ":" + tag(digest);
  }

  /** A dataset version by digest: {@code PREFIX/NAME@sha256:HEX}. */
  public String dataset(String datasetKey, Digest digest) {
    return datasetRepository(datasetKey) + "@" + digest;
  }

  /** {@code sha256-HEX}: a tag naming one digest. */
  static String tag(Digest digest) {
    return digest.toString().replace(':', '-');
  }
}
