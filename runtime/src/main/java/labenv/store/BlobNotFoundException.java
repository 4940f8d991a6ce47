package labenv.store;

import java.nio.file.Path;
import labenv.LabenvException;
import labenv.image.Digest;

/** The store has no blob with this digest. */
public final class BlobNotFoundException extends LabenvException {
  private static final long serialVersionUID = 1L;

  private final Digest digest;

  public BlobNotFoundException(Digest digest, Path root) {
    super(Kind.FAILED, "blob " + digest + " not found in store " + root);
    this.digest = digest;
  }

  public Digest digest() {
    return digest;
  }
}
