package labenv.notebook.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jdk.jshell.EvalException;
import jdk.jshell.JShellException;
import jdk.jshell.UnresolvedReferenceException;

/**
 * Where each JShell snippet came from: which cell, and on which of its lines the snippet starts. JShell numbers a
 * stack frame's line within its snippet (file name {@code #ID}); this turns that into the line of the cell a user
 * sees, also for methods and classes declared in earlier cells.
 */
final class SnippetOrigins {
  /** A snippet's cell (its execution count) and the cell line its first character is on. */
  record Origin(int cell, int firstLine) {}

  private final Map<String, Origin> origins = new ConcurrentHashMap<>();

  void put(String snippetId, Origin origin) {
    origins.put(snippetId, origin);
  }

  /**
   * The traceback of an exception thrown by a cell: its class and message, then the frames in cells with their cell
   * and line. Frames outside the notebook (the JDK, tablesaw) are summarised: the one that threw is kept, as the
   * place a library refused its input, and the rest are counted.
   */
  List<String> traceback(JShellException thrown) {
    List<String> lines = new ArrayList<>();
    JShellException e = thrown;
    String prefix = "";
    while (e != null) {
      lines.add(prefix + headline(e));
      frames(e.getStackTrace(), lines);
      e = e.getCause() instanceof JShellException cause ? cause : null;
      prefix = "Caused by: ";
    }
    return lines;
  }

  static String headline(JShellException e) {
    String message = e.getMessage();
    return className(e) + (message == null ? "" : ": " + message);
  }

  static String className(JShellException e) {
    if (e instanceof EvalException eval) {
      return eval.getExceptionClassName();
    }
    if (e instanceof UnresolvedReferenceException) {
      return CellError.UNRESOLVED;
    }
    return e.getClass().getName();
  }

  private void frames(StackTraceElement[] stack, List<String> lines) {
    int outside = 0;
    for (int i = 0; i < stack.length; i++) {
      String where = inCell(stack[i]);
      if (where == null && i == 0) {
        lines.add("    at " + stack[i]);
      } else if (where == null) {
        outside++;
      } else {
        outside = countOutside(outside, lines);
        lines.add("    at " + where);
      }
    }
    countOutside(outside, lines);
  }

  private static int countOutside(int outside, List<String> lines) {
    if (outside > 0) {
      lines.add("    ... " + outside + (outside == 1 ? " frame" : " frames") + " outside the notebook");
    }
    return 0;
  }

  /** "cell [3] line 2" or "Point.norm (cell [2] line 5)", or null for a frame outside the notebook. */
  String inCell(StackTraceElement frame) {
    String file = frame.getFileName();
    if (file == null || !file.startsWith("#")) {
      return null;
    }
    Origin origin = origins.get(file.substring(1));
    String place = origin == null
        ? "startup"
        : "cell [" + origin.cell() + "] line " + (origin.firstLine() + frame.getLineNumber() - 1);
    String method = frame.getMethodName();
    String klass = frame.getClassName();
    if (method.isEmpty() && klass.isEmpty()) {
      return place;
    }
    String name = klass.isEmpty() ? method : method.isEmpty() ? klass : klass + "." + method;
    return name + " (" + place + ")";
  }
}
