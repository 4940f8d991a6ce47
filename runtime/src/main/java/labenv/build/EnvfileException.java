package labenv.build;

import labenv.LabenvException;

/**
 * A bad Envfile: the message is {@code FILE:LINE: problem} (or {@code FILE: problem} when the problem is the whole
 * file, line 0), on one line, as compilers print it so editors can jump there.
 */
public final class EnvfileException extends LabenvException {
  private static final long serialVersionUID = 1L;

  private final String fileName;
  private final int line;
  private final String problem;

  private EnvfileException(String fileName, int line, String problem) {
    super(Kind.BAD_INPUT, line > 0 ? fileName + ":" + line + ": " + problem : fileName + ": " + problem);
    this.fileName = fileName;
    this.line = line;
    this.problem = problem;
  }

  /** The problem {@code problem} on line {@code line} (1-based; 0 for the whole file) of {@code fileName}. */
  public static EnvfileException at(String fileName, int line, String problem) {
    return new EnvfileException(fileName, line, oneLine(problem));
  }

  public String fileName() {
    return fileName;
  }

  public int line() {
    return line;
  }

  public String problem() {
    return problem;
  }

  private static String oneLine(String s) {
    return s.replace("\r", "\\r").replace("\n", "\\n");
  }
}
