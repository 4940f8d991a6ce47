package labenv.notebook.kernel;

import java.util.List;

/**
 * A cell that failed, in Jupyter's terms: the error's name, its value (one line) and the traceback lines a notebook
 * shows under the cell. Line numbers in them are the cell's own.
 */
public final class CellError extends Exception {
  private static final long serialVersionUID = 1L;

  /** ename of a cell that did not compile. */
  public static final String COMPILE_ERROR = "CompileError";
  /** ename of a cell stopped by an interrupt. */
  public static final String INTERRUPTED = "Interrupted";
  /** ename of a call to a method or class that needs a declaration the notebook does not have yet. */
  public static final String UNRESOLVED = "UnresolvedReference";

  private final String name;
  private final transient List<String> traceback;

  CellError(String name, String value, List<String> traceback) {
    super(value);
    this.name = name;
    this.traceback = List.copyOf(traceback);
  }

  /** The error's name: an exception's class name, or one of this class's constants. */
  public String name() {
    return name;
  }

  /** One line: the exception's message, or what did not compile and on which line. */
  public String value() {
    return getMessage();
  }

  /** The lines shown under the cell, first the error, then where it happened. */
  public List<String> traceback() {
    return traceback;
  }
}
