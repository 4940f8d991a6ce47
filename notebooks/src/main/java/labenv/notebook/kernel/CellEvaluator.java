package labenv.notebook.kernel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;
import labenv.LabenvException;

/**
 * Evaluates notebook cells with JShell, in this JVM. A cell is split into JShell snippets (declarations, statements,
 * expressions); each runs in turn, and the cell's value is the last snippet's, when that is an expression. Errors
 * come back as {@link CellError}s whose line numbers are the cell's.
 *
 * <p>One cell at a time: {@link #eval} is called by one thread; {@link #interrupt} may be called from any.
 */
public final class CellEvaluator implements AutoCloseable {
  /**
   * What every notebook starts with: jshell's own default imports, tablesaw's API and its plotly figures, and
   * {@code display(Object)} and {@code clearOutput()}.
   */
  static final List<String> STARTUP = List.of(
      "import java.io.*;", "import java.math.*;", "import java.net.*;", "import java.nio.file.*;",
      "import java.time.*;", "import java.util.*;", "import java.util.concurrent.*;", "import java.util.function.*;",
      "import java.util.regex.*;", "import java.util.stream.*;",
      "import tech.tablesaw.api.*;", "import tech.tablesaw.plotly.api.*;",
      "import tech.tablesaw.plotly.components.*;",
      "import static labenv.notebook.kernel.Display.display;",
      "import static labenv.notebook.kernel.Display.clearOutput;");

  /** A cell's value: the object, and JShell's text for it (strings quoted, arrays listed). */
  public record CellValue(Object object, String text) {}

  /** Completion candidates and the range of the cell they replace. */
  public record Completion(List<String> matches, int start, int end) {}

  /** Whether a cell can run as it is: complete, incomplete (with the next line's indent) or invalid. */
  public record Readiness(String status, String indent) {
    public static final String COMPLETE = "complete";
    public static final String INCOMPLETE = "incomplete";
    public static final String INVALID = "invalid";
  }

  private final JShell shell;
  private final SourceCodeAnalysis analysis;
  private final CellExecutionControl control;
  private final SnippetOrigins origins = new SnippetOrigins();
  private final Consumer<String> notes;
  private long evaluations;
  /** The number of the evaluation running now, 0 when none: an interrupt's repeated stops end with its cell. */
  private volatile long running;

  private CellEvaluator(JShell shell, CellExecutionControl control, Consumer<String> notes) {
    this.shell = shell;
    this.analysis = shell.sourceCodeAnalysis();
    this.control = control;
    this.notes = notes;
  }

  /**
   * A JShell with this JVM's classpath plus {@code classpath}, and the {@link #STARTUP} imports.
   *
   * @param notes told what a cell declared but cannot use yet (a method calling one not declared), as jshell
   *     tells it: not an error, the declaration stands
   * @throws LabenvException if this Java has no JShell (a JRE) or the imports do not compile
   */
  public static CellEvaluator start(List<Path> classpath, Consumer<String> notes) {
    if (ModuleLayer.boot().findModule("jdk.jshell").isEmpty()) {
      throw LabenvException.failed("the Java runtime at " + System.getProperty("java.home")
          + " has no jdk.jshell module (a JRE?): run the kernel with a JDK, e.g. Debian's openjdk-17-jdk-headless");
    }
    CellExecutionControl.Provider provider = new CellExecutionControl.Provider();
    JShell shell = JShell.builder().executionEngine(provider, Map.of()).build();
    // Before the first sourceCodeAnalysis(): that starts JShell's background indexing of the classpath, which
    // races with a change of it (a cell then sometimes fails with "package ... does not exist").
    for (Path entry : classpath) {
      shell.addToClasspath(entry.toString());
    }
    CellEvaluator evaluator = new CellEvaluator(shell, provider.control(), notes);
    for (String line : STARTUP) {
      for (SnippetEvent event : shell.eval(line)) {
        if (event.status() != Snippet.Status.VALID) {
          String why = shell.diagnostics(event.snippet()).map(d -> d.getMessage(Locale.ROOT))
              .collect(Collectors.joining("; "));
          shell.close();
          throw LabenvException.failed("the kernel's startup line `" + line + "` does not compile: " + why
              + " (is tablesaw on the kernel's classpath?)");
        }
      }
    }
    return evaluator;
  }

  /**
   * Runs a cell.
   *
   * @param cell the cell's source
   * @param count the cell's execution count, named in tracebacks of code it declares
   * @return the value of the cell's last snippet if that is an expression
   * @throws CellError if a snippet does not compile, throws, or is interrupted: the snippets before it have run
   */
  public Optional<CellValue> eval(String cell, int count) throws CellError {
    control.resume();
    running = ++evaluations;
    try {
      Optional<CellValue> value = Optional.empty();
      int offset = 0;
      String rest = cell;
      while (true) {
        CompletionInfo info = analysis.analyzeCompletion(rest);
        Completeness completeness = info.completeness();
        if (completeness == Completeness.EMPTY) {
          return value;
        }
        // Incomplete or malformed: compiled anyway, so the compiler says what is wrong and where.
        boolean complete = completeness.isComplete();
        String source = complete ? info.source() : rest;
        int consumed = complete ? rest.length() - info.remaining().length() : rest.length();
        // JShell counts a snippet's lines from its first non-blank character: strip what precedes it.
        int lead = 0;
        while (lead < source.length() && Character.isWhitespace(source.charAt(lead))) {
          lead++;
        }
        value = evalSnippet(cell, source.substring(lead), offset + lead, count);
        offset += consumed;
        rest = complete ? info.remaining() : "";
      }
    } finally {
      running = 0;
    }
  }

  private Optional<CellValue> evalSnippet(String cell, String source, int start, int count) throws CellError {
    int firstLine = lineOf(cell, start);
    if (control.cancelled()) {
      throw interrupted("stopped before the code starting at cell line " + firstLine);
    }
    List<SnippetEvent> events = shell.eval(source);
    Optional<CellValue> value = Optional.empty();
    for (SnippetEvent event : events) {
      if (event.causeSnippet() != null) {
        continue; // another snippet, updated because of this one
      }
      Snippet snippet = event.snippet();
      origins.put(snippet.id(), new SnippetOrigins.Origin(count, firstLine));
      if (control.takeStopped()) {
        throw interrupted("stopped in the code starting at cell line " + firstLine);
      }
      if (event.exception() != null) {
        throw thrown(event.exception());
      }
      switch (event.status()) {
        case REJECTED -> throw compileError(cell, snippet, start);
        case RECOVERABLE_DEFINED, RECOVERABLE_NOT_DEFINED -> notes.accept(
            describe(snippet) + " cannot be used until " + unresolved(snippet) + " is declared");
        default -> { }
      }
      value = valueOf(event);
    }
    return value;
  }

  private static CellError interrupted(String where) {
    return new CellError(CellError.INTERRUPTED, "the cell was interrupted",
        List.of(CellError.INTERRUPTED + ": " + where));
  }

  private Optional<CellValue> valueOf(SnippetEvent event) {
    Snippet snippet = event.snippet();
    VarSnippet variable = null;
    if (snippet.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND) {
      variable = (VarSnippet) snippet;
    } else if (snippet.subKind() == Snippet.SubKind.VAR_VALUE_SUBKIND) {
      String name = ((ExpressionSnippet) snippet).name();
      variable = shell.variables().filter(v -> v.name().equals(name)).findFirst().orElse(null);
    } else {
      return Optional.empty();
    }
    Object object = null;
    if (variable != null) {
      try {
        shell.varValue(variable);
        object = control.takeLastValue();
      } catch (RuntimeException e) {
        object = null; // its toString threw: the text JShell already has will do
      }
    }
    return Optional.of(new CellValue(object, event.value() == null ? String.valueOf(object) : event.value()));
  }

  private CellError thrown(JShellException e) {
    if (e instanceof UnresolvedReferenceException unresolved) {
      DeclarationSnippet snippet = unresolved.getSnippet();
      String message = describe(snippet) + " cannot be used until " + unresolved(snippet) + " is declared";
      List<String> traceback = new ArrayList<>(origins.traceback(e));
      traceback.set(0, CellError.UNRESOLVED + ": " + message); // the exception's own headline has no message
      return new CellError(CellError.UNRESOLVED, message, traceback);
    }
    String message = e.getMessage();
    return new CellError(SnippetOrigins.className(e), message == null ? "" : message, origins.traceback(e));
  }

  private CellError compileError(String cell, Snippet snippet, int start) {
    List<String> traceback = new ArrayList<>();
    String first = null;
    for (Diag diag : shell.diagnostics(snippet).toList()) {
      if (!diag.isError()) {
        continue;
      }
      long relative = diag.getPosition() >= 0 ? diag.getPosition() : 0;
      int at = (int) Math.min(cell.length(), start + relative);
      int line = lineOf(cell, at);
      String[] message = diag.getMessage(Locale.ROOT).split("\n");
      String headline = "cell line " + line + ": " + message[0];
      if (first == null) {
        first = headline;
      }
      traceback.add(headline);
      for (int i = 1; i < message.length; i++) {
        // javac's "location: class REPL.$JShell$12" names JShell's wrapper, not anything in the notebook
        if (!message[i].strip().startsWith("location:")) {
          traceback.add("  " + message[i].strip());
        }
      }
      int lineStart = cell.lastIndexOf('\n', at - 1) + 1;
      int lineEnd = cell.indexOf('\n', lineStart);
      traceback.add("    " + cell.substring(lineStart, lineEnd < 0 ? cell.length() : lineEnd));
      traceback.add("    " + " ".repeat(at - lineStart) + "^");
    }
    if (first == null) {
      first = "cell line " + lineOf(cell, start) + ": " + describe(snippet) + " does not compile";
      traceback.add(first);
    }
    return new CellError(CellError.COMPILE_ERROR, first, traceback);
  }

  private String unresolved(Snippet snippet) {
    if (!(snippet instanceof DeclarationSnippet declaration)) {
      return "what it uses";
    }
    List<String> names = shell.unresolvedDependencies(declaration).toList();
    return names.isEmpty() ? "what it uses" : String.join(", ", names);
  }

  private static String describe(Snippet snippet) {
    return switch (snippet.kind()) {
      case METHOD -> "method " + ((DeclarationSnippet) snippet).name() + "()";
      case TYPE_DECL -> "class " + ((DeclarationSnippet) snippet).name();
      case VAR -> "variable " + ((DeclarationSnippet) snippet).name();
      default -> "the code";
    };
  }

  /** The 1-based line of {@code cell} that character {@code index} is on. */
  static int lineOf(String cell, int index) {
    int line = 1;
    for (int i = 0; i < index && i < cell.length(); i++) {
      if (cell.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  /**
   * Stops the running cell, even a loop that never looks at its thread's interrupt flag. Snippets of the cell not
   * started yet do not start. The stop is repeated for a moment: a snippet that was about to start when the first
   * one came (JShell stops only code already running) is caught by the next.
   */
  public void interrupt() {
    control.cancel();
    long cell = running;
    Thread stopper = new Thread(() -> {
      for (int i = 0; i < 40 && cell != 0 && running == cell; i++) {
        shell.stop();
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "labenv-kernel-interrupt");
    stopper.setDaemon(true);
    stopper.start();
  }

  /** Completion candidates at {@code cursor}, from JShell's analysis of the snippet the cursor is in. */
  public Completion complete(String code, int cursor) {
    int start = snippetStart(code, cursor);
    String prefix = code.substring(start, cursor);
    int[] anchor = new int[1];
    List<SourceCodeAnalysis.Suggestion> suggestions = analysis.completionSuggestions(prefix, prefix.length(), anchor);
    Set<String> matches = new LinkedHashSet<>();
    // Those that fit the expected type first, as jshell's own tab completion does.
    suggestions.stream().filter(SourceCodeAnalysis.Suggestion::matchesType)
        .forEach(s -> matches.add(s.continuation()));
    suggestions.forEach(s -> matches.add(s.continuation()));
    return new Completion(List.copyOf(matches), start + anchor[0], cursor);
  }

  /**
   * What a name at {@code cursor} is: a method's signatures (with their javadoc when the JDK has its sources) or a
   * variable's type and value. Empty when the cursor is on nothing JShell knows.
   */
  public Optional<String> inspect(String code, int cursor) {
    int end = Math.min(cursor, code.length());
    while (end < code.length() && Character.isJavaIdentifierPart(code.charAt(end))) {
      end++;
    }
    int start = snippetStart(code, end);
    String snippet = code.substring(start, end);
    List<SourceCodeAnalysis.Documentation> docs = analysis.documentation(snippet, snippet.length(), true);
    if (docs.isEmpty()) {
      // A method name: JShell documents a call, so ask as if the parenthesis were typed.
      docs = analysis.documentation(snippet + "(", snippet.length() + 1, true);
    }
    if (docs.isEmpty()) {
      return Optional.empty();
    }
    StringBuilder text = new StringBuilder();
    for (SourceCodeAnalysis.Documentation doc : docs) {
      if (text.length() > 0) {
        text.append("\n\n");
      }
      text.append(doc.signature());
      if (doc.javadoc() != null && !doc.javadoc().isBlank()) {
        text.append('\n').append(doc.javadoc().strip());
      }
    }
    return Optional.of(text.toString());
  }

  /** Whether {@code code} is ready to run, as a console asks before it sends a line. */
  public Readiness readiness(String code) {
    CompletionInfo info = analysis.analyzeCompletion(code);
    // UNKNOWN counts as "complete" for JShell (run it and let the compiler complain); a console wants "invalid".
    while (info.completeness() == Completeness.COMPLETE || info.completeness() == Completeness.COMPLETE_WITH_SEMI) {
      info = analysis.analyzeCompletion(info.remaining());
    }
    return switch (info.completeness()) {
      case EMPTY -> new Readiness(Readiness.COMPLETE, "");
      case DEFINITELY_INCOMPLETE, CONSIDERED_INCOMPLETE -> new Readiness(Readiness.INCOMPLETE, indent(code));
      default -> new Readiness(Readiness.INVALID, "");
    };
  }

  /** The last line's indent, one level deeper after an opening brace or parenthesis. */
  static String indent(String code) {
    String last = code.substring(code.lastIndexOf('\n') + 1);
    String indent = last.substring(0, last.length() - last.stripLeading().length());
    String trimmed = last.strip();
    return trimmed.endsWith("{") || trimmed.endsWith("(") ? indent + "    " : indent;
  }

  /** Where the snippet containing {@code cursor} starts: after the complete snippets that end before it. */
  private int snippetStart(String code, int cursor) {
    int start = 0;
    String rest = code.substring(0, cursor);
    while (true) {
      CompletionInfo info = analysis.analyzeCompletion(rest);
      if (!info.completeness().isComplete() || info.remaining().isBlank()) {
        return start;
      }
      start += rest.length() - info.remaining().length();
      rest = info.remaining();
    }
  }

  @Override
  public void close() {
    shell.close();
  }
}
