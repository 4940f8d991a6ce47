package labenv.store;

import labenv.LabenvException;
import labenv.image.Digest;

/** A blob is not as long as its descriptor says. */
public final class SizeMismatchException extends LabenvException {
  private static final long serialVersionUID = 1L;

  public SizeMismatchException(Kind kind, Digest digest, long expected, String actual) {
    super(kind, "blob " + (digest == null ? "(new)" : digest.toString()) + ": size mismatch (expected "
        + expected + " bytes, got " + actual + ")");
  }
}
