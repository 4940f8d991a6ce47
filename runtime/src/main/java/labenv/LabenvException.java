package labenv;

/**
 * A failure a user can act on. The message is one line that says what went wrong and where;
 * the CLI prints it as {@code labenv: MESSAGE} and exits with {@link #exitCode()}.
 *
 * <p>Subclasses name the failure ({@code DigestMismatchException}, {@code UnsafeArchiveEntryException}, ...)
 * so callers can test for the kinds they handle.
 */
public class LabenvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of failure: the user's input was wrong, or a sound request failed. */
  public enum Kind {
    /** Bad usage or bad input (a malformed reference, a corrupt archive): exit 2. */
    BAD_INPUT(2),
    /** The operation failed (missing image, I/O error, store problem): exit 1. */
    FAILED(1);

    private final int exitCode;

    Kind(int exitCode) {
      this.exitCode = exitCode;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  private final Kind kind;

  public LabenvException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public LabenvException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public static LabenvException badInput(String message) {
    return new LabenvException(Kind.BAD_INPUT, message);
  }

  public static LabenvException failed(String message) {
    return new LabenvException(Kind.FAILED, message);
  }

  public static LabenvException failed(String message, Throwable cause) {
    return new LabenvException(Kind.FAILED, message, cause);
  }

  public Kind kind() {
    return kind;
  }

  public int exitCode() {
    return kind.exitCode();
  }

  /**
   * Returns a copy of this failure whose message starts with {@code context: }, keeping the kind.
   * Used to wrap an error once with the operation and object it concerns.
   */
  public LabenvException withContext(String context) {
    LabenvException e = new LabenvException(kind, context + ": " + getMessage(), this);
    return e;
  }
}
