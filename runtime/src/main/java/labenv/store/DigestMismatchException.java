package labenv.store;

import labenv.LabenvException;
import labenv.image.Digest;

/**
 * A blob's content does not hash to its digest. Incoming data (a pull, an import) that does not
 * match is bad input; a stored blob that no longer matches is a failed store.
 */
public final class DigestMismatchException extends LabenvException {
  private static final long serialVersionUID = 1L;

  private final Digest expected;
  private final Digest actual;

  public DigestMismatchException(Kind kind, Digest expected, Digest actual) {
    super(kind, "blob " + expected + ": digest mismatch (got " + actual + ")");
    this.expected = expected;
    this.actual = actual;
  }

  public Digest expected() {
    return expected;
  }

  public Digest actual() {
    return actual;
  }
}
