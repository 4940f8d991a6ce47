package labenv.build;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one logical Envfile line splits into instruction, flags and arguments, how arguments split into words before
 * any expansion (BuildKit's {@code split_command.go} and {@code line_parsers.go}), and the small syntaxes some
 * arguments have (JSON arrays, durations, Maven coordinates).
 */
final class EnvfileWords {
  private static final Pattern TOKEN_SPACES = Pattern.compile("[\\t\\x0B\\f\\r ]+");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern MAVEN_PART = Pattern.compile("[A-Za-z0-9_.-]+");
  private static final Pattern MAVEN_VERSION = Pattern.compile("[A-Za-z0-9_.+-]+");
  private static final Pattern DURATION_PART = Pattern.compile("([0-9]*(?:\\.[0-9]*)?)([^0-9.]*)");

  private EnvfileWords() {}

  /**
   * An instruction line taken apart: {@code keyword} as written, {@code flags} the leading {@code --name[=value]}
   * words (quotes removed), {@code args} the rest, trimmed.
   */
  record Split(String keyword, List<String> flags, String args) {}

  private static final int SPACES = 0;
  private static final int WORD = 1;
  private static final int QUOTE = 2;

  static Split split(String line) {
    String t = trim(line);
    int i = 0;
    while (i < t.length() && !isTokenSpace(t.charAt(i))) {
      i++;
    }
    String keyword = t.substring(0, i);
    while (i < t.length() && isTokenSpace(t.charAt(i))) {
      i++;
    }
    return flagsAndArgs(keyword, t.substring(i));
  }

  /**
   * Takes the leading words that start with {@code --} as flags (a lone {@code --} ends them); quotes in a flag are
   * removed and a backslash escapes the next character, as BuildKit's {@code extractBuilderFlags} does.
   */
  private static Split flagsAndArgs(String keyword, String line) {
    List<String> flags = new ArrayList<>();
    int phase = SPACES;
    StringBuilder word = new StringBuilder();
    char quote = 0;
    boolean blankOk = false;
    for (int pos = 0; pos <= line.length(); pos++) {
      char ch = pos != line.length() ? line.charAt(pos) : 0;
      if (phase == SPACES) {
        if (pos == line.length()) {
          break;
        }
        if (Shell.isSpace(ch)) {
          continue;
        }
        if (ch != '-' || pos + 1 == line.length() || line.charAt(pos + 1) != '-') {
          return new Split(keyword, flags, trim(line.substring(pos)));
        }
        phase = WORD;
      }
      if (pos == line.length()) {
        if (!word.toString().equals("--") && (blankOk || word.length() > 0)) {
          flags.add(word.toString());
        }
        break;
      }
      if (phase == WORD) {
        if (Shell.isSpace(ch)) {
          phase = SPACES;
          if (word.toString().equals("--")) {
            return new Split(keyword, flags, trim(line.substring(pos)));
          }
          if (blankOk || word.length() > 0) {
            flags.add(word.toString());
          }
          word.setLength(0);
          blankOk = false;
          continue;
        }
        if (ch == '\'' || ch == '"') {
          quote = ch;
          blankOk = true;
          phase = QUOTE;
          continue;
        }
        if (ch == '\\') {
          if (pos + 1 == line.length()) {
            continue;
          }
          ch = line.charAt(++pos);
        }
        word.append(ch);
        continue;
      }
      if (ch == quote) {
        phase = WORD;
        continue;
      }
      if (ch == '\\') {
        if (pos + 1 == line.length()) {
          phase = WORD;
          continue;
        }
        ch = line.charAt(++pos);
      }
      word.append(ch);
    }
    return new Split(keyword, flags, "");
  }

  /**
   * Words separated by whitespace outside quotes, with quotes and escapes kept as written (BuildKit's
   * {@code parseWords}, used by ENV, LABEL and ARG): {@code a="b c" d} is {@code a="b c"} and {@code d}.
   */
  static List<String> quotedWords(String rest, char escape) {
    List<String> words = new ArrayList<>();
    int[] cps = rest.codePoints().toArray();
    int phase = SPACES;
    StringBuilder word = new StringBuilder();
    int quote = 0;
    boolean blankOk = false;
    for (int pos = 0; pos <= cps.length; pos++) {
      int ch = pos != cps.length ? cps[pos] : 0;
      if (phase == SPACES) {
        if (pos == cps.length) {
          break;
        }
        if (Shell.isSpace(ch)) {
          continue;
        }
        phase = WORD;
      }
      if (pos == cps.length) {
        if (blankOk || word.length() > 0) {
          words.add(word.toString());
        }
        break;
      }
      if (phase == WORD) {
        if (Shell.isSpace(ch)) {
          phase = SPACES;
          if (blankOk || word.length() > 0) {
            words.add(word.toString());
          }
          word.setLength(0);
          blankOk = false;
          continue;
        }
        if (ch == '\'' || ch == '"') {
          quote = ch;
          blankOk = true;
          phase = QUOTE;
        }
        if (ch == escape) {
          if (pos + 1 == cps.length) {
            continue; // an escape at the end of the line escapes nothing
          }
          // Outside quotes the escape and the next character are kept together, even a quote.
          word.appendCodePoint(ch);
          ch = cps[++pos];
        }
        word.appendCodePoint(ch);
        continue;
      }
      if (ch == quote) {
        phase = WORD;
      } else if (ch == escape && quote != '\'') {
        if (pos + 1 == cps.length) {
          phase = WORD;
          continue;
        }
        word.appendCodePoint(ch);
        ch = cps[++pos];
      }
      word.appendCodePoint(ch);
    }
    return words;
  }

  /** Words separated by spaces and tabs, nothing else special (FROM, EXPOSE, plain VOLUME, COPY, MAVEN). */
  static List<String> plainWords(String rest) {
    List<String> words = new ArrayList<>();
    int i = 0;
    int n = rest.length();
    while (i < n) {
      while (i < n && isTokenSpace(rest.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && !isTokenSpace(rest.charAt(i))) {
        i++;
      }
      if (i > start) {
        words.add(rest.substring(start, i));
      }
    }
    return words;
  }

  /** The old ENV form: the name, then the rest of the line after the first run of spaces as the value. */
  static List<String> nameAndRest(String args) {
    Matcher m = TOKEN_SPACES.matcher(args);
    if (!m.find()) {
      return List.of(args);
    }
    return List.of(args.substring(0, m.start()), args.substring(m.end()));
  }

  /** A JSON array: its elements as text, and whether they all were strings. */
  record JsonArray(List<String> strings, boolean onlyStrings) {}

  /**
   * The JSON array that {@code args} is, or null when {@code args} is not one JSON array and nothing else: then it
   * is a shell command. Like current BuildKit (json.Unmarshal), text after the array makes it not JSON; older
   * Docker ran the array and dropped the text.
   */
  static JsonArray jsonArray(String args) {
    if (!args.startsWith("[")) {
      return null;
    }
    JsonNode array;
    try (JsonParser parser = JSON.createParser(args)) {
      array = parser.readValueAsTree();
      if (parser.nextToken() != null) {
        return null;
      }
    } catch (IOException e) {
      return null;
    }
    if (array == null || !array.isArray()) {
      return null;
    }
    List<String> strings = new ArrayList<>();
    boolean onlyStrings = true;
    for (JsonNode element : array) {
      onlyStrings &= element.isTextual();
      strings.add(element.asText());
    }
    return new JsonArray(strings, onlyStrings);
  }

  /**
   * {@code group:artifact[:extension[:classifier]]:version}, each part non-empty; parts holding a variable
   * ({@code ${V}}, expanded later) are not checked further, and colons inside {@code ${...}} do not split.
   */
  static boolean isMavenCoordinate(String coordinate) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    StringBuilder part = new StringBuilder();
    for (int i = 0; i < coordinate.length(); i++) {
      char c = coordinate.charAt(i);
      if (c == '{' && i > 0 && coordinate.charAt(i - 1) == '$') {
        depth++;
      } else if (c == '}' && depth > 0) {
        depth--;
      } else if (c == ':' && depth == 0) {
        parts.add(part.toString());
        part.setLength(0);
        continue;
      }
      part.append(c);
    }
    parts.add(part.toString());
    if (parts.size() < 3 || parts.size() > 5) {
      return false;
    }
    for (int i = 0; i < parts.size(); i++) {
      String s = parts.get(i);
      if (s.isEmpty()) {
        return false;
      }
      Pattern allowed = i == parts.size() - 1 ? MAVEN_VERSION : MAVEN_PART;
      if (!s.contains("$") && !allowed.matcher(s).matches()) {
        return false;
      }
    }
    return true;
  }

  /**
   * A Go duration ({@code 300ms}, {@code 1.5h}, {@code 1m30s}; units ns, us, µs, ms, s, m, h) in nanoseconds, as
   * Docker reads HEALTHCHECK options; {@link Long#MIN_VALUE} when it is not one.
   */
  static long duration(String s) {
    String d = s;
    boolean negative = false;
    if (d.startsWith("-") || d.startsWith("+")) {
      negative = d.charAt(0) == '-';
      d = d.substring(1);
    }
    if (d.equals("0")) {
      return 0;
    }
    if (d.isEmpty()) {
      return Long.MIN_VALUE;
    }
    BigDecimal total = BigDecimal.ZERO;
    Matcher m = DURATION_PART.matcher(d);
    int at = 0;
    while (at < d.length()) {
      if (!m.find(at) || m.start() != at || m.end() == at) {
        return Long.MIN_VALUE;
      }
      String number = m.group(1);
      long unit = switch (m.group(2)) {
        case "ns" -> 1L;
        case "us", "µs", "μs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "h" -> 3_600_000_000_000L;
        default -> 0L;
      };
      if (unit == 0 || number.isEmpty() || number.equals(".")) {
        return Long.MIN_VALUE;
      }
      total = total.add(new BigDecimal(number.endsWith(".") ? number + "0" : number)
          .multiply(BigDecimal.valueOf(unit)));
      at = m.end();
    }
    if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      return Long.MIN_VALUE;
    }
    long nanos = total.longValue();
    return negative ? -nanos : nanos;
  }

  /** BuildKit splits instructions and plain arguments at {@code [\t\v\f\r ]}, not at every Unicode space. */
  private static boolean isTokenSpace(char c) {
    return c == ' ' || c == '\t' || c == 0x0B || c == '\f' || c == '\r';
  }

  static String trim(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && Shell.isSpace(s.charAt(start))) {
      start++;
    }
    while (end > start && Shell.isSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }
}
