package labenv.project;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * {@code -p NAME=VALUE} parameters of {@code labenv notebook run}, and the code that assigns them, as papermill
 * writes it ({@code papermill -p NAME VALUE}): the value's type is inferred the way papermill's command line does
 * ({@code True}, {@code False} and {@code None} exactly; then whatever Python's {@code int()} accepts; then
 * {@code float()}; else a string), and the cell starts with a {@code Parameters} comment.
 *
 * <p>Python: {@code NAME = LITERAL} with papermill's literals: {@code repr} of ints and floats ({@code
 * float('nan')}, {@code float('inf')}), strings double-quoted and escaped as {@code unicode_escape} does.
 * Java (papermill has no Java translator; this follows its C# and Scala ones): {@code var NAME = LITERAL;},
 * {@code int}, else {@code long} ({@code L}), else {@link BigInteger}; doubles as Python writes them
 * ({@code Double.NaN}, {@code Double.POSITIVE_INFINITY}); {@code true}/{@code false}; Java string literals; and
 * None as {@code Object NAME = null;} ({@code var} cannot take null).
 *
 * <p>A name given twice keeps its first place and its last value (a Python dict, as papermill's).
 */
public record NotebookParameters(List<Parameter> parameters) {
  /** One parameter: its name, the value as given, and what papermill would infer it to be. */
  public record Parameter(String name, String value) {
    public Value typed() {
      return infer(value);
    }
  }

  /** A value as papermill infers it from the command line. */
  public sealed interface Value {}

  public record Bool(boolean value) implements Value {}

  public record None() implements Value {}

  public record Int(BigInteger value) implements Value {}

  public record Float(double value) implements Value {}

  public record Text(String value) implements Value {}

  public NotebookParameters {
    parameters = List.copyOf(parameters);
  }

  /** Parses {@code NAME=VALUE} arguments: bad input for one without {@code =} or with an empty name. */
  public static NotebookParameters parse(List<String> args) {
    Map<String, String> byName = new LinkedHashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq <= 0) {
        throw LabenvException.badInput("-p " + a + ": expected NAME=VALUE (e.g. -p alpha=0.5)");
      }
      byName.put(a.substring(0, eq), a.substring(eq + 1));
    }
    List<Parameter> list = new ArrayList<>();
    byName.forEach((k, v) -> list.add(new Parameter(k, v)));
    return new NotebookParameters(list);
  }

  public boolean isEmpty() {
    return parameters.isEmpty();
  }

  /** The languages parameters can be written in. */
  public static final List<String> LANGUAGES = List.of("python", "java");

  /**
   * The injected cell's source in {@code language}: bad input for a language labenv cannot write, or a name that
   * is not an identifier in it.
   */
  public String source(String language) {
    String lang = language == null ? "" : language.toLowerCase(Locale.ROOT);
    StringBuilder sb = new StringBuilder();
    switch (lang) {
      case "python" -> {
        sb.append("# Parameters\n");
        for (Parameter p : parameters) {
          checkName(p.name(), PYTHON_KEYWORDS, "Python", false);
          sb.append(p.name()).append(" = ").append(python(p.typed())).append('\n');
        }
      }
      case "java" -> {
        sb.append("// Parameters\n");
        for (Parameter p : parameters) {
          checkName(p.name(), JAVA_KEYWORDS, "Java", true);
          Value v = p.typed();
          sb.append(v instanceof None ? "Object " : "var ").append(p.name()).append(" = ").append(java(v))
              .append(";\n");
        }
      }
      default -> throw LabenvException.badInput("parameters (-p) for a notebook in " + (language == null
          ? "an unknown language (no metadata.kernelspec.language or language_info.name)" : language)
          + ": labenv writes them in " + String.join(" and ", LANGUAGES));
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Inference: papermill's cli._resolve_type, with Python's int() and float() grammars.

  private static final Pattern INT = Pattern.compile("[+-]?\\d+(_\\d+)*");
  private static final Pattern DIGITS = Pattern.compile("\\d+(_\\d+)*");
  private static final Pattern FLOAT = Pattern.compile(
      "[+-]?(" + DIGITS + "(\\." + "(" + DIGITS + ")?)?|\\." + DIGITS + ")([eE][+-]?" + DIGITS + ")?");
  private static final Pattern SPECIAL = Pattern.compile("[+-]?(inf|infinity|nan)", Pattern.CASE_INSENSITIVE);

  static Value infer(String value) {
    switch (value) {
      case "True":
        return new Bool(true);
      case "False":
        return new Bool(false);
      case "None":
        return new None();
      default:
        break;
    }
    // int() and float() ignore surrounding whitespace and accept any Unicode decimal digit (\d with
    // UNICODE_CHARACTER_CLASS would too, but Java's Character.digit is the same table as Python's).
    String s = ascii(value.strip());
    if (s != null && INT.matcher(s).matches()) {
      return new Int(new BigInteger(s.replace("_", "")));
    }
    if (s != null && FLOAT.matcher(s).matches()) {
      return new Float(Double.parseDouble(s.replace("_", "")));
    }
    if (s != null && SPECIAL.matcher(s).matches()) {
      String l = s.toLowerCase(Locale.ROOT);
      return new Float(l.contains("nan") ? Double.NaN : l.startsWith("-") ? Double.NEGATIVE_INFINITY
          : Double.POSITIVE_INFINITY);
    }
    return new Text(value);
  }

  /** Decimal digits of any script as ASCII ones; null when there is a character Python would not read either. */
  private static String ascii(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (c < 128) {
        sb.append((char) c);
      } else if (Character.getType(c) == Character.DECIMAL_DIGIT_NUMBER) {
        sb.append((char) ('0' + Character.digit(c, 10)));
      } else {
        return null;
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Python

  static String python(Value v) {
    if (v instanceof Bool b) {
      return b.value() ? "True" : "False";
    } else if (v instanceof None) {
      return "None";
    } else if (v instanceof Int i) {
      return i.value().toString();
    } else if (v instanceof Float f) {
      return Double.isNaN(f.value()) ? "float('nan')" : Double.isInfinite(f.value())
          ? (f.value() > 0 ? "float('inf')" : "float('-inf')") : pythonRepr(f.value());
    }
    return pythonString(((Text) v).value());
  }

  /**
   * {@code repr(float)}: the shortest digits that read back as the same double; positional notation with at least
   * one decimal when the decimal exponent is from -4 to 15, else {@code 1e+16}, {@code 1.5e-05}.
   */
  static String pythonRepr(double d) {
    if (d == 0) {
      return 1 / d < 0 ? "-0.0" : "0.0";
    }
    BigDecimal exact = new BigDecimal(d);
    BigDecimal shortest = exact;
    for (int p = 1; p <= 17; p++) {
      BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        shortest = r;
        break;
      }
    }
    shortest = shortest.stripTrailingZeros();
    String digits = shortest.unscaledValue().abs().toString();
    int decpt = digits.length() - shortest.scale(); // the decimal point's place after the first digit, as in C
    String sign = d < 0 ? "-" : "";
    if (decpt > -4 && decpt <= 16) {
      if (decpt <= 0) {
        return sign + "0." + "0".repeat(-decpt) + digits;
      }
      if (decpt >= digits.length()) {
        return sign + digits + "0".repeat(decpt - digits.length()) + ".0";
      }
      return sign + digits.substring(0, decpt) + "." + digits.substring(decpt);
    }
    int exp = decpt - 1;
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
  }

  /** papermill's translate_escaped_str: {@code unicode_escape}, then {@code "} escaped, in double quotes. */
  static String pythonString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\t' -> sb.append("\\t");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '"' -> sb.append("\\\"");
        default -> {
          if (c < 0x20 || c >= 0x7f && c < 0x100) {
            sb.append(String.format("\\x%02x", c));
          } else if (c < 0x7f) {
            sb.append((char) c);
          } else if (c < 0x10000) {
            sb.append(String.format("\\u%04x", c));
          } else {
            sb.append(String.format("\\U%08x", c));
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Java

  private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
  private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  static String java(Value v) {
    if (v instanceof Bool b) {
      return Boolean.toString(b.value());
    } else if (v instanceof None) {
      return "null";
    } else if (v instanceof Int i) {
      BigInteger n = i.value();
      return n.compareTo(INT_MIN) >= 0 && n.compareTo(INT_MAX) <= 0 ? n.toString()
          : n.compareTo(LONG_MIN) >= 0 && n.compareTo(LONG_MAX) <= 0 ? n + "L"
          : "new java.math.BigInteger(\"" + n + "\")";
    } else if (v instanceof Float f) {
      return Double.isNaN(f.value()) ? "Double.NaN" : Double.isInfinite(f.value())
          ? (f.value() > 0 ? "Double.POSITIVE_INFINITY" : "Double.NEGATIVE_INFINITY") : pythonRepr(f.value());
    }
    return javaString(((Text) v).value());
  }

  /**
   * A Java string literal. Control characters are octal escapes: a {@code \}{@code u000a} escape would be
   * translated before lexing and end the literal.
   */
  static String javaString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            sb.append(String.format("\\%03o", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Names

  private static final Set<String> PYTHON_KEYWORDS = Set.of("False", "None", "True", "and", "as", "assert", "async",
      "await", "break", "class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from",
      "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
      "while", "with", "yield");
  private static final Set<String> JAVA_KEYWORDS = Set.of("_", "abstract", "assert", "boolean", "break", "byte",
      "case", "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends",
      "final", "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int", "interface",
      "long", "native", "new", "package", "private", "protected", "public", "return", "short", "static",
      "strictfp", "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void",
      "volatile", "while", "true", "false", "null", "var", "yield", "record", "sealed", "permits");

  private static void checkName(String name, Set<String> keywords, String language, boolean java) {
    boolean ok = !name.isEmpty() && !keywords.contains(name);
    for (int i = 0; ok && i < name.length(); ) {
      int c = name.codePointAt(i);
      ok = java ? (i == 0 ? Character.isJavaIdentifierStart(c) : Character.isJavaIdentifierPart(c))
          && !Character.isIdentifierIgnorable(c)
          : c == '_' || Character.isLetter(c) || i > 0 && (Character.isDigit(c) || Character.getType(c)
              == Character.NON_SPACING_MARK || Character.getType(c) == Character.COMBINING_SPACING_MARK
              || Character.getType(c) == Character.CONNECTOR_PUNCTUATION);
      i += Character.charCount(c);
    }
    if (!ok) {
      throw LabenvException.badInput("-p " + name + "=...: \"" + name + "\" is not a " + language + " variable name"
          + (keywords.contains(name) ? " (a reserved word)" : ""));
    }
  }
}
