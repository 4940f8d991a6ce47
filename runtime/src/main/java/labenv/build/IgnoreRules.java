package labenv.build;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import labenv.LabenvException;

/**
 * The rules of a {@code .dockerignore} (or {@code .labenvignore}) file, with Docker's semantics exactly: the file is
 * read as moby's {@code ignorefile.ReadAll} reads it (a UTF-8 BOM dropped; lines starting with '#' are comments;
 * whitespace trimmed; blank lines skipped; each pattern cleaned as a path, a leading '/' dropped), and paths are
 * matched as moby/patternmatcher's {@code MatchesOrParentMatches} matches them: patterns are turned into regular
 * expressions where {@code *} and {@code ?} stop at '/', {@code **} spans any number of directories, and a pattern
 * that matches a directory matches everything below it. Later rules win; {@code !PATTERN} re-includes what earlier
 * rules excluded, even below an excluded directory.
 *
 * <p>Whether a walk looks inside an excluded directory at all (for an exception that might re-include something
 * there) follows BuildKit's context sender (fsutil): only when some exception could match below it.
 */
public final class IgnoreRules {
  private static final IgnoreRules NONE = new IgnoreRules(List.of(), "");

  /** How one cleaned pattern matches, as patternmatcher decides it. */
  private enum MatchType { EXACT, PREFIX, SUFFIX, REGEXP }

  private record Rule(String pattern, boolean exception, MatchType type, Pattern regexp) {
    boolean matches(String path) {
      return switch (type) {
        case EXACT -> path.equals(pattern);
        case PREFIX -> path.startsWith(pattern.substring(0, pattern.length() - 2));
        case SUFFIX -> {
          String suffix = pattern.substring(2);
          yield path.endsWith(suffix) || suffix.charAt(0) == '/' && path.equals(suffix.substring(1));
        }
        case REGEXP -> regexp.matcher(path).matches();
      };
    }
  }

  private final List<Rule> rules;
  private final String fileName;
  private final boolean hasExceptions;
  /** fsutil's onlyPrefixExcludeExceptions: no exception has a wildcard (after a trailing "/**" or "/*"). */
  private final boolean onlyPrefixExceptions;

  private IgnoreRules(List<Rule> rules, String fileName) {
    this.rules = List.copyOf(rules);
    this.fileName = fileName;
    this.hasExceptions = rules.stream().anyMatch(Rule::exception);
    this.onlyPrefixExceptions = rules.stream()
        .noneMatch(r -> r.exception() && withoutTrailingGlob(r.pattern()).chars().anyMatch(c -> "*[]?^\\".indexOf(c) >= 0));
  }

  /** No rules: nothing is ignored. */
  public static IgnoreRules none() {
    return NONE;
  }

  /**
   * Parses the content of an ignore file.
   *
   * @param fileName how errors name the file (for example {@code .dockerignore})
   * @throws LabenvException BAD_INPUT naming the file and line of a malformed pattern
   */
  public static IgnoreRules parse(String content, String fileName) {
    if (content.startsWith("\uFEFF")) {
      content = content.substring(1);
    }
    List<Rule> rules = new ArrayList<>();
    String[] lines = content.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.endsWith("\r")) {
        line = line.substring(0, line.length() - 1);
      }
      if (line.startsWith("#")) {
        continue;
      }
      // ignorefile.ReadAll
      String p = line.strip();
      if (p.isEmpty()) {
        continue;
      }
      boolean invert = p.charAt(0) == '!';
      if (invert) {
        p = p.substring(1).strip();
      }
      if (!p.isEmpty()) {
        p = GoPattern.clean(p);
        if (p.length() > 1 && p.charAt(0) == '/') {
          p = p.substring(1);
        }
      }
      if (invert) {
        p = "!" + p;
      }
      // patternmatcher.New
      p = GoPattern.clean(p.strip());
      boolean exception = false;
      if (p.charAt(0) == '!') {
        if (p.length() == 1) {
          throw bad(fileName, i + 1, "illegal exclusion pattern \"!\"");
        }
        exception = true;
        p = p.substring(1);
      }
      try {
        GoPattern.check(p);
      } catch (GoPattern.BadPatternException e) {
        throw bad(fileName, i + 1, "syntax error in pattern \"" + line.strip() + "\"");
      }
      rules.add(compile(p, exception, fileName, i + 1));
    }
    return new IgnoreRules(rules, fileName);
  }

  private static LabenvException bad(String fileName, int line, String what) {
    return LabenvException.badInput(fileName + ":" + line + ": " + what);
  }

  /** patternmatcher's Pattern.compile, with the regular expression written for java.util.regex. */
  private static Rule compile(String pattern, boolean exception, String fileName, int line) {
    StringBuilder re = new StringBuilder("^");
    MatchType type = MatchType.EXACT;
    int[] p = pattern.codePoints().toArray();
    boolean inClass = false;
    for (int i = 0; i < p.length; i++) {
      int ch = p[i];
      if (ch == '*') {
        if (i + 1 < p.length && p[i + 1] == '*') {
          boolean first = i == 0;
          i++;
          if (i + 1 < p.length && p[i + 1] == '/') {
            i++; // "**/" is "**"
          }
          if (i + 1 == p.length) {
            // "**" at the end matches everything, as in .gitignore
            if (type == MatchType.EXACT) {
              type = MatchType.PREFIX;
            } else {
              re.append(".*");
              type = MatchType.REGEXP;
            }
          } else {
            re.append("(.*/)?"); // any number of directories, even none
            type = MatchType.REGEXP;
          }
          if (first) {
            type = MatchType.SUFFIX;
          }
        } else {
          re.append("[^/]*");
          type = MatchType.REGEXP;
        }
      } else if (ch == '?') {
        re.append("[^/]");
        type = MatchType.REGEXP;
      } else if (".+()|{}$".indexOf(ch) >= 0) {
        re.append('\\').appendCodePoint(ch);
      } else if (ch == '\\') {
        if (i + 1 < p.length) {
          i++;
          re.append('\\').appendCodePoint(p[i]);
          type = MatchType.REGEXP;
        } else {
          re.append("\\\\");
        }
      } else if (ch == '[' || ch == ']') {
        if (ch == '[' && inClass) {
          re.append("\\["); // Go's regexp takes '[' in a class literally; Java's would nest a class
        } else {
          re.append((char) ch);
          inClass = ch == '[';
        }
        type = MatchType.REGEXP;
      } else if (ch == '&' && inClass) {
        re.append("\\&"); // "&&" is intersection in Java's classes, literal in Go's
      } else {
        re.appendCodePoint(ch);
      }
    }
    Pattern regexp = null;
    if (type == MatchType.REGEXP) {
      re.append('$');
      try {
        regexp = Pattern.compile(re.toString());
      } catch (PatternSyntaxException e) {
        throw bad(fileName, line, "syntax error in pattern \"" + pattern + "\"");
      }
    }
    return new Rule(pattern, exception, type, regexp);
  }

  private static String withoutTrailingGlob(String pattern) {
    String p = pattern;
    if (p.endsWith("/**")) {
      p = p.substring(0, p.length() - 3);
    }
    if (p.endsWith("/*")) {
      p = p.substring(0, p.length() - 2);
    }
    return p;
  }

  /**
   * Whether {@code relativePath} ('/'-separated, relative to the context root; a leading "/" or "./" is dropped) is
   * excluded: the last rule that matches it or one of its parent directories decides. The root itself never is.
   */
  public boolean ignored(String relativePath) {
    if (rules.isEmpty()) {
      return false;
    }
    String file = GoPattern.clean(relativePath);
    while (file.startsWith("/")) {
      file = file.substring(1);
    }
    if (file.isEmpty() || file.equals(".")) {
      return false;
    }
    return matchesOrParentMatches(file);
  }

  /** patternmatcher's MatchesOrParentMatches on {@code file} as given (not cleaned). */
  boolean matchesOrParentMatches(String file) {
    int slash = file.lastIndexOf('/');
    String[] parents = slash < 0 ? new String[0] : file.substring(0, slash).split("/");
    boolean matched = false;
    for (Rule rule : rules) {
      // An exclusion can only add, an exception only remove: skip rules that cannot change the answer.
      if (rule.exception() != matched) {
        continue;
      }
      boolean match = rule.matches(file);
      if (!match) {
        StringBuilder parent = new StringBuilder();
        for (String dir : parents) {
          if (parent.length() > 0) {
            parent.append('/');
          }
          parent.append(dir);
          if (rule.matches(parent.toString())) {
            match = true;
            break;
          }
        }
      }
      if (match) {
        matched = !rule.exception();
      }
    }
    return matched;
  }

  /**
   * Whether a walk must look inside the excluded directory {@code relativeDir} because an exception might
   * re-include something below it (fsutil: always when an exception has wildcards, else when an exception's
   * pattern lies below the directory).
   */
  public boolean mayIncludeBelow(String relativeDir) {
    if (!hasExceptions) {
      return false;
    }
    if (!onlyPrefixExceptions) {
      return true;
    }
    String dirSlash = relativeDir + "/";
    for (Rule r : rules) {
      if (r.exception() && (withoutTrailingGlob(r.pattern()) + "/").startsWith(dirSlash)) {
        return true;
      }
    }
    return false;
  }

  /** True when there are no rules. */
  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** The file the rules came from, as given to {@link #parse}; "" for {@link #none()}. */
  public String fileName() {
    return fileName;
  }

  @Override
  public String toString() {
    return rules.isEmpty() ? "no ignore rules" : rules.size() + " ignore rules from " + fileName;
  }
}
