package labenv.linux;

import labenv.LabenvException;

/**
 * A system call failed. The message names the call, its target and the error text, as runc does:
 * {@code mkdirat "usr/lib": Permission denied}.
 */
public final class ErrnoException extends LabenvException {
  private static final long serialVersionUID = 1L;
  private final int errno;

  public ErrnoException(String call, String target, int errno) {
    super(Kind.FAILED, call + (target == null ? "" : " \"" + target + "\"") + ": " + Libc.errorText(errno));
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }
}
