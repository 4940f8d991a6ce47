package labenv.archive;

import labenv.LabenvException;

/**
 * An archive or layout that cannot be loaded as it is: truncated, corrupt, inconsistent, or naming
 * things labenv does not know. Always bad input (exit 2); the store is left as it was.
 */
public final class InvalidArchiveException extends LabenvException {
  private static final long serialVersionUID = 1L;

  public InvalidArchiveException(String message) {
    super(Kind.BAD_INPUT, message);
  }

  InvalidArchiveException(String message, Throwable cause) {
    super(Kind.BAD_INPUT, message, cause);
  }

  @Override
  public LabenvException withContext(String context) {
    return new InvalidArchiveException(context + ": " + getMessage(), this);
  }
}
