package labenv.project;

import labenv.archive.Archives;
import labenv.archive.ImportOptions;
import labenv.dataset.DatasetStore;
import labenv.dataset.DatasetVersion;
import labenv.image.Descriptor;
import labenv.image.Platform;
import labenv.layer.Compression;
import labenv.store.ContentStore;
import labenv.store.ImageStore;

/**
 * A dataset version as a one-layer OCI image of its files, for Kubernetes image volumes: a kubelet mounts an image's
 * layers, and a dataset artifact's layers are chunks, not tars. Made the way {@code labenv import} makes images from a
 * directory (sorted, owners zeroed, times at 0), so one version always gives the same image digest; named
 * {@code labenv-dataset:HEX} (the version's digest, cut to 32 digits) in the store.
 */
public final class DatasetImages {
  private DatasetImages() {}

  /** The image of {@code version}'s files (made once, then found by its name). */
  public static Descriptor image(ContentStore store, DatasetStore datasets, DatasetVersion version) {
    String name = "labenv-dataset:" + version.digest().hex().substring(0, 32);
    ImageStore images = new ImageStore(store);
    try {
      return images.resolve(name);
    } catch (labenv.LabenvException e) {
      // not made yet
    }
    ImportOptions options = new ImportOptions(Compression.GZIP, 0, Platform.host(), null,
        "labenv dataset " + version.digest(), null);
    return new Archives(images).importRootfs(datasets.tree(version.manifest()), name, options).manifest();
  }
}
