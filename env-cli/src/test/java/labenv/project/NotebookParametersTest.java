package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;

/**
 * The injected cell, compared with what papermill writes for {@code papermill -p NAME VALUE} (its cli._resolve_type
 * and PythonTranslator; Python's own repr and unicode_escape, checked with CPython 3.11), and the Java counterpart.
 */
class NotebookParametersTest {
  private static String python(String value) {
    return NotebookParameters.python(NotebookParameters.infer(value));
  }

  private static String java(String value) {
    return NotebookParameters.java(NotebookParameters.infer(value));
  }

  @Test
  void valuesAreTypedAsPapermillsCommandLineTypesThem() {
    // True, False, None exactly; anything else that is not a number stays a string
    assertEquals("True", python("True"));
    assertEquals("False", python("False"));
    assertEquals("None", python("None"));
    assertEquals("\"true\"", python("true"));
    assertEquals("\"none\"", python("none"));
    assertEquals("\"\"", python(""));
    // int(): signs, surrounding blanks, underscores between digits, any script's decimal digits
    assertEquals("5", python("5"));
    assertEquals("5", python("+5"));
    assertEquals("0", python("-0"));
    assertEquals("7", python(" 7 "));
    assertEquals("1000", python("1_000"));
    assertEquals("3", python("٣"));
    assertEquals("123456789012345678901234567890", python("123456789012345678901234567890"));
    assertEquals("\"1__0\"", python("1__0"));
    assertEquals("\"0x10\"", python("0x10"));
    // float(): repr of the double
    assertEquals("1.0", python("1.0"));
    assertEquals("1.0", python("1."));
    assertEquals("0.5", python(".5"));
    assertEquals("1000.5", python("1_000.5"));
    assertEquals("10000000000.0", python("1e1_0"));
    assertEquals("float('nan')", python("nan"));
    assertEquals("float('inf')", python("Infinity"));
    assertEquals("float('-inf')", python("-inf"));
    assertEquals("float('inf')", python("1e500"));
  }

  @Test
  void floatsAreWrittenAsPythonsRepr() {
    String[][] cases = {{"0.1", "0.1"}, {"1e16", "1e+16"}, {"1e15", "1000000000000000.0"}, {"1.5e-5", "1.5e-05"},
        {"0.0001", "0.0001"}, {"0.00001", "1e-05"}, {"123456789.123", "123456789.123"}, {"5e-324", "5e-324"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"}, {"-0.0", "-0.0"}, {"100.0", "100.0"},
        {"1e22", "1e+22"}, {"0.30000000000000004", "0.30000000000000004"}, {"2.5", "2.5"}};
    for (String[] c : cases) {
      assertEquals(c[1], NotebookParameters.pythonRepr(Double.parseDouble(c[0])), c[0]);
    }
    assertEquals("1.2345678901234568e+17", NotebookParameters.pythonRepr(123456789012345678.0));
  }

  @Test
  void stringsAreEscapedAsPapermillEscapesThem() {
    assertEquals("\"a\\\"b\\\\c\\n\"", python("a\"b\\c\n"));
    assertEquals("\"it's\"", python("it's"));
    assertEquals("\"\\xe9\"", python("é"));
    assertEquals("\"\\u20ac\"", python("€"));
    assertEquals("\"\\U0001f600\"", python("😀"));
    assertEquals("\"\\x01\\x7f\\t\\r\"", python("\u0001\u007f\t\r"));
  }

  @Test
  void thePythonCellIsPapermills() {
    NotebookParameters p = NotebookParameters.parse(List.of("n=5", "alpha=0.5", "name=Gentoo", "debug=True",
        "limit=None", "eq=a=b"));
    assertEquals("# Parameters\nn = 5\nalpha = 0.5\nname = \"Gentoo\"\ndebug = True\nlimit = None\neq = \"a=b\"\n",
        p.source("python"));
    assertEquals("# Parameters\nn = 5\n", NotebookParameters.parse(List.of("n=5")).source("Python"));
  }

  @Test
  void aNameGivenTwiceKeepsItsPlaceAndTakesTheLastValue() {
    NotebookParameters p = NotebookParameters.parse(List.of("a=1", "b=2", "a=3"));
    assertEquals("# Parameters\na = 3\nb = 2\n", p.source("python"));
  }

  @Test
  void theJavaCellUsesJavaLiterals() {
    NotebookParameters p = NotebookParameters.parse(List.of("n=5", "big=3000000000", "huge=99999999999999999999",
        "alpha=0.5", "tiny=1e-5", "name=Gentoo \"Adelie\"\n", "debug=True", "limit=None", "nan=nan", "inf=-inf"));
    assertEquals("// Parameters\n"
        + "var n = 5;\n"
        + "var big = 3000000000L;\n"
        + "var huge = new java.math.BigInteger(\"99999999999999999999\");\n"
        + "var alpha = 0.5;\n"
        + "var tiny = 1e-05;\n"
        + "var name = \"Gentoo \\\"Adelie\\\"\\n\";\n"
        + "var debug = true;\n"
        + "Object limit = null;\n"
        + "var nan = Double.NaN;\n"
        + "var inf = Double.NEGATIVE_INFINITY;\n", p.source("java"));
    assertEquals("2147483647", java("2147483647"));
    assertEquals("-2147483649L", java("-2147483649"));
    assertEquals("-9223372036854775808L", java("-9223372036854775808"));
    assertEquals("\"\\033[0m é\"", java("\u001b[0m é"), "control characters as octal, never a unicode escape");
  }

  @Test
  void badParametersAreBadInputOnOneLine() {
    LabenvException noEquals = assertThrows(LabenvException.class, () -> NotebookParameters.parse(List.of("n")));
    assertEquals(2, noEquals.exitCode());
    assertEquals("-p n: expected NAME=VALUE (e.g. -p alpha=0.5)", noEquals.getMessage());
    assertThrows(LabenvException.class, () -> NotebookParameters.parse(List.of("=5")));

    LabenvException name = assertThrows(LabenvException.class,
        () -> NotebookParameters.parse(List.of("1n=5")).source("python"));
    assertEquals("-p 1n=...: \"1n\" is not a Python variable name", name.getMessage());
    assertEquals(2, name.exitCode());
    LabenvException keyword = assertThrows(LabenvException.class,
        () -> NotebookParameters.parse(List.of("class=5")).source("java"));
    assertEquals("-p class=...: \"class\" is not a Java variable name (a reserved word)", keyword.getMessage());
    assertEquals("# Parameters\nnaïve_2 = 1\n", NotebookParameters.parse(List.of("naïve_2=1")).source("python"));

    LabenvException language = assertThrows(LabenvException.class,
        () -> NotebookParameters.parse(List.of("n=5")).source("R"));
    assertEquals("parameters (-p) for a notebook in R: labenv writes them in python and java", language.getMessage());
    assertEquals(2, language.exitCode());
    assertTrue(assertThrows(LabenvException.class, () -> NotebookParameters.parse(List.of("n=5")).source(null))
        .getMessage().contains("an unknown language"));
  }
}
