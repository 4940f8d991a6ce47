package labenv.build;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * Variable substitution in Envfile words, as BuildKit's shell lexer does it ({@code frontend/dockerfile/shell/lex.go}):
 * {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-word}}, {@code ${VAR-word}}, {@code ${VAR:+word}}, {@code ${VAR+word}},
 * {@code ${VAR:?message}}, {@code ${VAR?message}}, {@code ${VAR#pattern}}, {@code ${VAR##pattern}},
 * {@code ${VAR%pattern}}, {@code ${VAR%%pattern}}, {@code ${VAR/pattern/replacement}} and
 * {@code ${VAR//pattern/replacement}}. Single quotes are literal, double quotes allow substitution, the escape
 * character ({@code \} or the escape directive's {@code `}) escapes the next character; quotes and escapes are
 * removed.
 *
 * <p>This is not a shell: no commands, no globbing, no arithmetic. A variable's value is never re-lexed, so quotes
 * or {@code $} inside it stay as they are.
 */
public final class Shell {
  private static final int EOF = -1;

  private final String source;
  private final int[] chars;
  private final Function<String, String> lookup;
  private final int escape;
  private final boolean rawQuotes;
  private final boolean quotesAreText;
  private final boolean keepUnset;
  private boolean rawEscapes;
  private int pos;

  private Shell(String source, Function<String, String> lookup, char escape, boolean rawQuotes, boolean rawEscapes,
      boolean keepUnset) {
    this(source, lookup, escape, rawQuotes, rawEscapes, keepUnset, false);
  }

  private Shell(String source, Function<String, String> lookup, char escape, boolean rawQuotes, boolean rawEscapes,
      boolean keepUnset, boolean quotesAreText) {
    this.source = Objects.requireNonNull(source, "source");
    this.chars = source.codePoints().toArray();
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.escape = escape;
    this.rawQuotes = rawQuotes;
    this.rawEscapes = rawEscapes;
    this.keepUnset = keepUnset;
    this.quotesAreText = quotesAreText;
  }

  /**
   * {@code raw} with its variables substituted and its quotes and escapes removed, whitespace kept (BuildKit's
   * {@code ProcessWord}). {@code lookup} gives a variable's value, or null when it is unset; whatever it throws
   * passes through. Bad syntax (an unterminated quote or {@code ${}, a bad modifier) and {@code ${VAR?message}}
   * with VAR unset throw a bad-input {@link LabenvException} naming the problem (the caller adds file and line).
   */
  public static String word(String raw, Function<String, String> lookup, char escape) {
    return new Shell(raw, lookup, escape, false, false, false).run().word();
  }

  /**
   * {@code raw} split into words at whitespace that is neither quoted nor escaped, after substitution (BuildKit's
   * {@code ProcessWords}): an unquoted variable's value is split too, a quoted one is not. Empty words are dropped.
   */
  public static List<String> words(String raw, Function<String, String> lookup, char escape) {
    return new Shell(raw, lookup, escape, false, false, false).run().words();
  }

  /**
   * The body of a {@code COPY}/{@code ADD} heredoc whose delimiter is not quoted, with its variables substituted
   * as BuildKit does ({@code ExpandRaw}: escape character {@code \}, quotes are plain text because the body is a
   * file, not a Dockerfile word). RUN heredocs are not expanded by the builder: their shell does it.
   */
  public static String heredoc(String content, Function<String, String> lookup) {
    return new Shell(content, lookup, '\\', false, false, false, true).run().word();
  }

  /**
   * The words of an instruction line with quotes, escapes and variables left as written, the way BuildKit looks
   * for heredoc markers ({@code <<EOF}); empty when the line does not lex (its shell will say why when it runs).
   */
  static List<String> rawWords(String line) {
    try {
      return new Shell(line, name -> null, '\\', true, true, true).process().words();
    } catch (SyntaxError e) {
      return List.of();
    }
  }

  /**
   * The words of {@code s} with nothing substituted (variables stay as written), quotes removed unless
   * {@code keepQuotes}; null when {@code s} does not lex. Used to read a heredoc delimiter.
   */
  static List<String> unexpandedWords(String s, boolean keepQuotes) {
    try {
      return new Shell(s, name -> null, '\\', keepQuotes, false, true).process().words();
    } catch (SyntaxError e) {
      return null;
    }
  }

  /** Go's {@code unicode.IsSpace}, which BuildKit uses to split words. */
  static boolean isSpace(int c) {
    switch (c) {
      case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0:
        return true;
      default:
        if (c < 0x100) {
          return false;
        }
        int type = Character.getType(c);
        return type == Character.SPACE_SEPARATOR || type == Character.LINE_SEPARATOR
            || type == Character.PARAGRAPH_SEPARATOR;
    }
  }

  private record Result(String word, List<String> words) {}

  /** Thrown inside the lexer and turned into one bad-input message naming the whole word at the top. */
  private static final class SyntaxError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SyntaxError(String problem) {
      super(problem, null, false, false);
    }
  }

  private Result run() {
    try {
      return process();
    } catch (SyntaxError e) {
      throw LabenvException.badInput(e.getMessage() + " in " + quote(source));
    }
  }

  private Result process() {
    return processStopOn(EOF, rawEscapes);
  }

  private int peek() {
    return pos < chars.length ? chars[pos] : EOF;
  }

  private int next() {
    return pos < chars.length ? chars[pos++] : EOF;
  }

  /** Reads up to {@code stop} (consumed) or the end; reaching the end when a stop was wanted is an error. */
  private Result processStopOn(int stop, boolean raw) {
    boolean saved = rawEscapes;
    rawEscapes = raw;
    try {
      StringBuilder result = new StringBuilder();
      Words words = new Words();
      while (peek() != EOF) {
        int ch = peek();
        if (stop != EOF && ch == stop) {
          next();
          return new Result(result.toString(), words.done());
        }
        if (ch == '$') {
          String value = dollar();
          result.append(value);
          words.addString(value);
        } else if (ch == '\'' && !quotesAreText) {
          String value = singleQuoted();
          result.append(value);
          words.addRawString(value);
        } else if (ch == '"' && !quotesAreText) {
          String value = doubleQuoted();
          result.append(value);
          words.addRawString(value);
        } else {
          ch = next();
          if (ch == escape) {
            if (rawEscapes) {
              words.addRawChar(ch);
              result.appendCodePoint(ch);
            }
            ch = next();
            if (ch == EOF) {
              break; // an escape at the very end escapes nothing and is dropped
            }
            words.addRawChar(ch);
          } else {
            words.addChar(ch);
          }
          result.appendCodePoint(ch);
        }
      }
      if (stop != EOF) {
        throw new SyntaxError("missing " + quote(new String(Character.toChars(stop))));
      }
      return new Result(result.toString(), words.done());
    } finally {
      rawEscapes = saved;
    }
  }

  private String singleQuoted() {
    StringBuilder result = new StringBuilder();
    int ch = next();
    if (rawQuotes) {
      result.appendCodePoint(ch);
    }
    while (true) {
      ch = next();
      if (ch == EOF) {
        throw new SyntaxError("unterminated single quote");
      }
      if (ch == '\'') {
        if (rawQuotes) {
          result.appendCodePoint(ch);
        }
        return result.toString();
      }
      result.appendCodePoint(ch);
    }
  }

  /** Inside double quotes the escape character escapes only {@code "}, {@code $} and itself, as in sh. */
  private String doubleQuoted() {
    StringBuilder result = new StringBuilder();
    int ch = next();
    if (rawQuotes) {
      result.appendCodePoint(ch);
    }
    while (true) {
      int p = peek();
      if (p == EOF) {
        throw new SyntaxError("unterminated double quote");
      }
      if (p == '"') {
        next();
        if (rawQuotes) {
          result.appendCodePoint(p);
        }
        return result.toString();
      }
      if (p == '$') {
        result.append(dollar());
        continue;
      }
      ch = next();
      if (ch == escape) {
        int after = peek();
        if (after == EOF) {
          continue; // the loop then reports the missing closing quote
        }
        if (after == '"' || after == '$' || after == escape) {
          if (rawEscapes) {
            result.appendCodePoint(ch);
          }
          ch = next();
        }
      }
      result.appendCodePoint(ch);
    }
  }

  private String dollar() {
    next(); // the $
    if (peek() != '{') {
      String name = name();
      if (name.isEmpty()) {
        return "$";
      }
      String value = lookup.apply(name);
      if (value == null) {
        return keepUnset ? "$" + name : "";
      }
      return value;
    }
    next(); // the {
    int first = peek();
    if (first == EOF) {
      throw new SyntaxError("missing \"}\"");
    }
    if (first == '{' || first == '}' || first == ':') {
      throw new SyntaxError("bad substitution");
    }
    String name = name();
    int ch = next();
    switch (ch) {
      case EOF:
        throw new SyntaxError("missing \"}\"");
      case '}': {
        String value = lookup.apply(name);
        if (value == null) {
          return keepUnset ? "${" + name + "}" : "";
        }
        return value;
      }
      case ':', '+', '-', '?', '#', '%':
        return modifier(name, ch);
      case '/':
        return replacement(name);
      default:
        throw new SyntaxError("unsupported modifier " + quote(codePoint(ch)));
    }
  }

  /** {@code ${NAME:-word}} and its kin; {@code ch} is the first character after the name. */
  private String modifier(String name, int ch) {
    boolean nullIsUnset = false;
    String modifier = codePoint(ch);
    if (ch == ':') {
      nullIsUnset = true;
      ch = next();
      if (ch == EOF) {
        throw new SyntaxError("missing \"}\"");
      }
      if (ch == '}') {
        throw new SyntaxError("bad substitution");
      }
      modifier += codePoint(ch);
      if ("+-?#%".indexOf(ch) < 0) {
        throw new SyntaxError("unsupported modifier " + quote(modifier));
      }
    }
    // Patterns keep their escapes so that \* can mean a literal star.
    String word = stopOn('}', ch == '#' || ch == '%', "missing \"}\"");
    String value = lookup.apply(name);
    if (value == null && keepUnset) {
      return "${" + name + modifier + word + "}";
    }
    boolean unsetOrNull = value == null || (nullIsUnset && value.isEmpty());
    switch (ch) {
      case '-':
        return unsetOrNull ? word : value;
      case '+':
        return unsetOrNull ? "" : word;
      case '?':
        if (value == null) {
          throw LabenvException.badInput(name + ": " + (word.isEmpty() ? "is not set" : word));
        }
        if (nullIsUnset && value.isEmpty()) {
          throw LabenvException.badInput(name + ": " + (word.isEmpty() ? "is empty" : word));
        }
        return value;
      default: { // # and %: the shortest match, or the longest when doubled
        String v = value == null ? "" : value;
        boolean longest = !word.isEmpty() && word.codePointAt(0) == ch;
        Pattern pattern = pattern(longest ? word.substring(1) : word);
        return ch == '#' ? trimPrefix(v, pattern, longest) : trimSuffix(v, pattern, longest);
      }
    }
  }

  /** {@code ${NAME/pattern/replacement}} (first match) and {@code ${NAME//pattern/replacement}} (every match). */
  private String replacement(String name) {
    boolean all = peek() == '/';
    if (all) {
      next();
    }
    String pattern = stopOn('/', true, "missing \"/\"");
    String replacement = stopOn('}', true, "missing \"}\"");
    String value = lookup.apply(name);
    if (value == null && keepUnset) {
      return "${" + name + (all ? "//" : "/") + pattern + "/" + replacement + "}";
    }
    Matcher matcher = pattern(pattern).matcher(value == null ? "" : value);
    String quoted = Matcher.quoteReplacement(replacement);
    return all ? matcher.replaceAll(quoted) : matcher.replaceFirst(quoted);
  }

  private String stopOn(int stop, boolean raw, String problemAtEnd) {
    try {
      return processStopOn(stop, raw).word();
    } catch (SyntaxError e) {
      if (peek() == EOF) {
        throw new SyntaxError(problemAtEnd);
      }
      throw e;
    }
  }

  /** A name of letters, digits and _, or all digits (positional), or one of sh's special parameters. */
  private String name() {
    StringBuilder name = new StringBuilder();
    while (peek() != EOF) {
      int ch = peek();
      if (name.length() == 0 && Character.isDigit(ch)) {
        while (peek() != EOF && Character.isDigit(peek())) {
          name.appendCodePoint(next());
        }
        return name.toString();
      }
      if (name.length() == 0 && "@*#?-$!0".indexOf(ch) >= 0) {
        next();
        return codePoint(ch);
      }
      if (!Character.isLetter(ch) && !Character.isDigit(ch) && ch != '_') {
        break;
      }
      name.appendCodePoint(next());
    }
    return name.toString();
  }

  /**
   * A shell pattern ({@code *} any string, {@code ?} one character, {@code \} quotes the next {@code * ? \}) as
   * a regular expression; bracket expressions are literal, as in BuildKit. Stars are greedy: trimming matches
   * whole prefixes or suffixes, and a replacement takes the leftmost longest match, as BuildKit does.
   */
  private static Pattern pattern(String shellPattern) {
    StringBuilder regex = new StringBuilder();
    int[] cps = shellPattern.codePoints().toArray();
    for (int i = 0; i < cps.length; i++) {
      int c = cps[i];
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        case '\\' -> {
          // \} and \/ were escaped only to get past the ${...} lexer; the escape is not part of the pattern.
          if (i + 1 < cps.length && (cps[i + 1] == '}' || cps[i + 1] == '/')) {
            continue;
          }
          if (i + 1 >= cps.length || (cps[i + 1] != '*' && cps[i + 1] != '?' && cps[i + 1] != '\\')) {
            throw new SyntaxError("invalid escape in pattern " + quote(shellPattern));
          }
          regex.append('\\').appendCodePoint(cps[++i]);
        }
        default -> {
          if ("[]{}.+()|^$".indexOf(c) >= 0) {
            regex.append('\\');
          }
          regex.appendCodePoint(c);
        }
      }
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }

  private static String trimPrefix(String value, Pattern pattern, boolean longest) {
    int n = value.length();
    for (int k = 0; k <= n; k++) {
      int i = longest ? n - k : k;
      if (boundary(value, i) && pattern.matcher(value.substring(0, i)).matches()) {
        return value.substring(i);
      }
    }
    return value;
  }

  private static String trimSuffix(String value, Pattern pattern, boolean longest) {
    int n = value.length();
    for (int k = 0; k <= n; k++) {
      int i = longest ? k : n - k;
      if (boundary(value, i) && pattern.matcher(value.substring(i)).matches()) {
        return value.substring(0, i);
      }
    }
    return value;
  }

  /** Whether index {@code i} falls between two code points (never inside a surrogate pair). */
  private static boolean boundary(String s, int i) {
    return i == 0 || i == s.length()
        || !(Character.isHighSurrogate(s.charAt(i - 1)) && Character.isLowSurrogate(s.charAt(i)));
  }

  private static String codePoint(int c) {
    return c == EOF ? "" : new String(Character.toChars(c));
  }

  static String quote(String s) {
    return "\"" + s.replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r") + "\"";
  }

  /** Words being built: unquoted whitespace ends a word, quoted or escaped characters never do. */
  private static final class Words {
    private final List<String> words = new ArrayList<>();
    private final StringBuilder word = new StringBuilder();
    private boolean inWord;

    void addChar(int ch) {
      if (isSpace(ch)) {
        if (inWord && word.length() != 0) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else {
        addRawChar(ch);
      }
    }

    void addRawChar(int ch) {
      word.appendCodePoint(ch);
      inWord = true;
    }

    void addString(String s) {
      s.codePoints().forEach(this::addChar);
    }

    void addRawString(String s) {
      word.append(s);
      inWord = true;
    }

    List<String> done() {
      if (word.length() > 0) {
        words.add(word.toString());
        word.setLength(0);
        inWord = false;
      }
      return words;
    }
  }
}
