package labenv.build;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lines of an Envfile as BuildKit's parser ({@code frontend/dockerfile/parser/parser.go}) sees them: parser
 * directives read from the top, comments and blank lines dropped, continuation lines joined into one logical line,
 * heredoc bodies read raw on request.
 */
final class EnvfileLines {
  /** A logical line: the 1-based number of its first physical line and its text, continuations joined. */
  record Line(int number, String text) {}

  private static final Pattern DIRECTIVE = Pattern.compile("#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*");
  private static final Set<String> DIRECTIVES = Set.of("escape", "syntax", "check");

  private final String fileName;
  private final List<String> lines;
  private char escape = '\\';
  private int next;

  EnvfileLines(String content, String fileName) {
    this.fileName = fileName;
    this.lines = physicalLines(content);
    readDirectives();
  }

  /** The escape character: {@code \} unless a {@code # escape=`} directive says otherwise. */
  char escape() {
    return escape;
  }

  /** The next logical line, or null at the end of the file. */
  Line next() {
    while (next < lines.size()) {
      int number = next + 1;
      String first = trimLeading(lines.get(next++));
      if (first.startsWith("#")) {
        continue; // a comment, or a directive already read
      }
      String text = withoutContinuation(first);
      boolean continues = text != null;
      if (!continues) {
        if (first.isEmpty()) {
          continue;
        }
        text = first;
      }
      StringBuilder joined = new StringBuilder(text);
      while (continues && next < lines.size()) {
        String raw = lines.get(next++);
        String trimmed = trimLeading(raw);
        // Comments and blank lines inside a continued instruction are skipped, not ends of it.
        if (trimmed.startsWith("#") || trimmed.isEmpty()) {
          continue;
        }
        String part = withoutContinuation(raw);
        continues = part != null;
        joined.append(continues ? part : raw);
      }
      return new Line(number, joined.toString());
    }
    return null;
  }

  /**
   * The body of heredoc {@code name}: the raw lines after the current position up to the line that is exactly
   * {@code name} (after leading tabs when {@code chomp}), each ending in a newline; leading tabs stripped when
   * {@code chomp}. Nothing in a body is a comment or a continuation.
   */
  String heredoc(String name, boolean chomp, int instructionLine) {
    StringBuilder content = new StringBuilder();
    while (next < lines.size()) {
      String raw = lines.get(next++);
      String line = chomp ? raw.replaceFirst("^\t+", "") : raw;
      if (line.equals(name)) {
        return content.toString();
      }
      content.append(line).append('\n');
    }
    throw EnvfileException.at(fileName, instructionLine,
        "unterminated heredoc <<" + name + ": no line " + Shell.quote(name) + " ends it");
  }

  /**
   * Reads the parser directives: lines {@code # key=value} at the very top, before any other comment, blank line
   * or instruction. Unknown keys end the directives (the line is then a comment), as in BuildKit.
   */
  private void readDirectives() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = DIRECTIVE.matcher(trimLeading(lines.get(i)));
      if (!m.matches()) {
        return;
      }
      String key = m.group(1).toLowerCase(Locale.ROOT);
      if (!DIRECTIVES.contains(key)) {
        return;
      }
      if (!seen.add(key)) {
        throw EnvfileException.at(fileName, i + 1, "the " + key + " directive is given twice");
      }
      if (key.equals("escape")) {
        String value = m.group(2);
        if (!value.equals("\\") && !value.equals("`")) {
          throw EnvfileException.at(fileName, i + 1,
              "the escape directive must be \\ or `, not " + Shell.quote(value));
        }
        escape = value.charAt(0);
      }
    }
  }

  /**
   * The line without its continuation (the escape character at the end, then only spaces or tabs), or null when
   * it does not continue. An escaped escape character ({@code \\}) at the end does not continue the line.
   */
  private String withoutContinuation(String line) {
    int end = line.length();
    while (end > 0 && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == '\t')) {
      end--;
    }
    if (end == 0 || line.charAt(end - 1) != escape) {
      return null;
    }
    if (end >= 2 && line.charAt(end - 2) == escape) {
      return null;
    }
    return line.substring(0, end - 1);
  }

  /** Lines split at \n; a UTF-8 byte order mark and the \r of CRLF line ends are dropped. */
  private static List<String> physicalLines(String content) {
    String s = content.startsWith("\uFEFF") ? content.substring(1) : content;
    List<String> out = new ArrayList<>();
    int start = 0;
    while (start < s.length()) {
      int nl = s.indexOf('\n', start);
      int end = nl < 0 ? s.length() : nl;
      int e = end;
      while (e > start && s.charAt(e - 1) == '\r') {
        e--;
      }
      out.add(s.substring(start, e));
      start = end + 1;
    }
    return out;
  }

  static String trimLeading(String s) {
    int i = 0;
    while (i < s.length() && Shell.isSpace(s.charAt(i))) {
      i++;
    }
    return s.substring(i);
  }
}
