package labenv.dataset;

import java.util.List;
import labenv.image.Descriptor;
import labenv.image.Digest;

/**
 * A version in the store: its manifest's descriptor (the version's digest; artifactType set) and
 * every name it has, {@code NAME:TAG}.
 */
public record DatasetVersion(Descriptor manifest, List<DatasetName> names) {
  public DatasetVersion {
    names = List.copyOf(names);
  }

  public Digest digest() {
    return manifest.digest();
  }
}
