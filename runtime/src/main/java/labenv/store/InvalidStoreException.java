package labenv.store;

import labenv.LabenvException;

/** A directory given as a store that is not an OCI image layout labenv can use. */
public final class InvalidStoreException extends LabenvException {
  private static final long serialVersionUID = 1L;

  public InvalidStoreException(String message) {
    super(Kind.BAD_INPUT, message);
  }
}
