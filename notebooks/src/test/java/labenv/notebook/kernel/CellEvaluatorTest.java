package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.tools.ToolProvider;
import labenv.notebook.kernel.CellEvaluator.CellValue;
import labenv.notebook.kernel.CellEvaluator.Readiness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The evaluator in this JVM, with real JShell snippets: values, errors with cell lines, interrupt, analysis. */
class CellEvaluatorTest {
  private static final List<String> notes = new ArrayList<>();
  private static CellEvaluator evaluator;
  private static int count;

  @BeforeAll
  static void start() {
    evaluator = CellEvaluator.start(List.of(), notes::add);
  }

  @AfterAll
  static void stop() {
    evaluator.close();
  }

  private static Optional<CellValue> eval(String cell) throws CellError {
    return evaluator.eval(cell, ++count);
  }

  private static CellError fails(String cell) {
    return assertThrows(CellError.class, () -> eval(cell));
  }

  @Test
  void theLastExpressionIsTheCellsValueAndDeclarationsLastAcrossCells() throws CellError {
    assertEquals(Optional.empty(), eval("int answer = 20;\nanswer += 1;\nint twice = answer * 2;"));
    CellValue value = eval("// the answer\ntwice").orElseThrow();
    assertEquals(42, value.object());
    assertEquals("42", value.text());
    assertEquals("\"a\"", eval("String.valueOf('a')").orElseThrow().text());
    assertEquals(Optional.empty(), eval("System.out.print(\"\")"));
  }

  @Test
  void aTablesawTableIsTheLiveObjectNotItsText() throws CellError {
    CellValue value = eval("Table t = Table.create(\"t\", IntColumn.create(\"a\", 1, 2, 3));\nt").orElseThrow();
    Table table = assertInstanceOf(Table.class, value.object());
    assertEquals(3, table.rowCount());
  }

  @Test
  void outputGoesToSystemOutAsTheCellRuns() throws CellError {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      eval("for (int i = 0; i < 3; i++) System.out.println(\"line \" + i);");
    } finally {
      System.setOut(original);
    }
    assertEquals("line 0\nline 1\nline 2\n", captured.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aCompileErrorNamesTheCellLineAndPointsAtIt() {
    CellError error = fails("int a = 1;\n\n  String b = a * 2;\nint c = 3;");
    assertEquals(CellError.COMPILE_ERROR, error.name());
    assertEquals("cell line 3: incompatible types: int cannot be converted to java.lang.String", error.value());
    assertEquals(List.of(
        "cell line 3: incompatible types: int cannot be converted to java.lang.String",
        "      String b = a * 2;",
        "                   ^"), error.traceback());
  }

  @Test
  void aCellThatNeverEndsIsACompileErrorOnItsLastLine() {
    CellError error = fails("int n = 0;\nfor (int i = 0; i < 3; i++) {\n  n += i;");
    assertEquals(CellError.COMPILE_ERROR, error.name());
    assertEquals("cell line 3: reached end of file while parsing", error.value());
  }

  @Test
  void anExceptionShowsItsTypeMessageAndTheCellLinesItPassedThrough() throws CellError {
    eval("int divide(int d) {\n  int z = 0;\n  return 10 / d;\n}");
    int declared = count;
    CellError error = fails("int q = 1;\n\nint r = divide(0);");
    assertEquals("java.lang.ArithmeticException", error.name());
    assertEquals("/ by zero", error.value());
    assertEquals(List.of(
        "java.lang.ArithmeticException: / by zero",
        "    at divide (cell [" + declared + "] line 3)",
        "    at cell [" + count + "] line 3"), error.traceback());
  }

  @Test
  void framesOutsideTheNotebookAreSummarised() {
    CellError error = fails("List<Integer> one = List.of(1);\none.get(5)");
    assertEquals("java.lang.IndexOutOfBoundsException", error.name());
    List<String> traceback = error.traceback();
    assertTrue(traceback.get(1).startsWith("    at java.base/"), traceback.toString());
    assertTrue(traceback.get(2).matches(" {4}\\.\\.\\. \\d+ frames? outside the notebook"), traceback.toString());
    assertEquals("    at cell [" + count + "] line 2", traceback.get(traceback.size() - 1));
  }

  @Test
  void causesAreShownToo() {
    CellError error = fails("throw new IllegalStateException(\"outer\", new RuntimeException(\"inner\"));");
    assertEquals("java.lang.IllegalStateException", error.name());
    assertTrue(error.traceback().contains("Caused by: java.lang.RuntimeException: inner"),
        error.traceback().toString());
  }

  @Test
  void aCallToAMethodMissingADeclarationSaysWhichOne() throws CellError {
    eval("void greet() { System.out.println(greeting()); }");
    assertEquals("method greet() cannot be used until method greeting() is declared", notes.get(notes.size() - 1));
    CellError error = fails("greet();");
    assertEquals(CellError.UNRESOLVED, error.name());
    assertEquals("method greet() cannot be used until method greeting() is declared", error.value());
  }

  @Test
  void interruptStopsALoopThatNeverChecksAndTheRestOfTheCell() throws Exception {
    // The cell counts this down once it runs (a system property: cells see the JDK, not this package-private class),
    // so the interrupt comes when the loop has started.
    CountDownLatch started = new CountDownLatch(1);
    System.getProperties().put("labenv.test.started", started);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread cell = new Thread(() -> {
      try {
        eval("var started = (CountDownLatch) System.getProperties().get(\"labenv.test.started\");\n"
            + "while (true) { started.countDown(); }\nint after = 1;");
      } catch (Throwable e) {
        outcome.set(e);
      }
    });
    cell.start();
    while (!started.await(1, TimeUnit.SECONDS)) {
      assertTrue(cell.isAlive(), "the cell ended before its loop: " + outcome.get());
    }
    evaluator.interrupt();
    cell.join(120_000); // only a guard against a hang; the loop never ends by itself
    assertFalse(cell.isAlive(), "the loop still runs after the interrupt");
    CellError error = assertInstanceOf(CellError.class, outcome.get());
    assertEquals(CellError.INTERRUPTED, error.name());
    assertEquals(List.of("Interrupted: stopped in the code starting at cell line 2"), error.traceback());
    // The kernel goes on, and what followed the loop never ran.
    assertEquals("2", eval("1 + 1").orElseThrow().text());
    assertEquals(CellError.COMPILE_ERROR, fails("after").name());
  }

  @Test
  void displaySendsAValueOutWhileTheCellGoesOn() throws CellError {
    List<Object> shown = new ArrayList<>();
    Display.sendTo(new Display.Output() {
      @Override
      public void display(Object value) {
        shown.add(value);
      }

      @Override
      public void clear(boolean wait) {
        shown.clear();
      }
    });
    eval("display(\"gone\");\nclearOutput();\ndisplay(Table.create(\"shown\"));\ndisplay(7);");
    assertEquals(2, shown.size());
    assertEquals("shown", ((Table) shown.get(0)).name());
    assertEquals(7, shown.get(1));
  }

  @Test
  void readinessOfConsoleInput() {
    assertEquals(new Readiness("complete", ""), evaluator.readiness("int x = 1;\nx + 1"));
    assertEquals(new Readiness("incomplete", "    "), evaluator.readiness("for (int i = 0; i < 3; i++) {"));
    assertEquals(new Readiness("incomplete", ""), evaluator.readiness("int x = 1;\nint y ="));
    assertEquals("invalid", evaluator.readiness("}").status());
    assertEquals("invalid", evaluator.readiness("String s = \"unclosed").status());
  }

  @Test
  void completionIsJShellsForTheSnippetUnderTheCursor() throws CellError {
    CellEvaluator.Completion methods = evaluator.complete("System.out.printl", 17);
    assertEquals(List.of("println("), methods.matches());
    assertEquals(11, methods.start());
    assertEquals(17, methods.end());

    eval("int counter = 3;");
    String cell = "int a = 1;\nSystem.out.println(count";
    CellEvaluator.Completion variables = evaluator.complete(cell, cell.length());
    assertTrue(variables.matches().contains("counter"), variables.matches().toString());
    assertEquals(cell.length() - "count".length(), variables.start());
  }

  @Test
  void inspectShowsSignatures() {
    String text = evaluator.inspect("Math.max", 8).orElseThrow();
    assertTrue(text.contains("int Math.max(int a, int b)"), text);
    assertEquals(Optional.empty(), evaluator.inspect("", 0));
  }

  @Test
  void jarsAndClassDirectoriesOnTheKernelClasspathAreUsable(@TempDir Path dir) throws Exception {
    Path source = Files.writeString(dir.resolve("Greeter.java"),
        "package lab; public class Greeter { public String hello() { return \"hello from lab\"; } }");
    Path classes = Files.createDirectories(dir.resolve("classes"));
    assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null,
        "-d", classes.toString(), source.toString()));
    try (CellEvaluator withLab = CellEvaluator.start(List.of(classes), notes::add)) {
      assertEquals("\"hello from lab\"", withLab.eval("new lab.Greeter().hello()", 1).orElseThrow().text());
    }
  }
}
