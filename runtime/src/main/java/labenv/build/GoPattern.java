package labenv.build;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Go's {@code path/filepath} {@code Match} and {@code Clean} for '/'-separated paths, because Dockerfile COPY globs
 * and .dockerignore syntax checks are defined by them: {@code *} and {@code ?} never match '/', {@code [^a-z]}
 * classes, {@code \} escapes, and a malformed pattern is an error even where the name already failed to match.
 */
final class GoPattern {
  private GoPattern() {}

  /** filepath.ErrBadPattern. */
  static final class BadPatternException extends Exception {
    private static final long serialVersionUID = 1L;

    BadPatternException() {
      super("syntax error in pattern", null, false, false);
    }
  }

  /** Go's containsWildcards, as BuildKit uses it for COPY sources: '*', '?' or '[' not escaped by '\'. */
  static boolean hasWildcards(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '*' || c == '?' || c == '[') {
        return true;
      }
    }
    return false;
  }

  /** filepath.Match(pattern, name). */
  static boolean match(String pattern, String name) throws BadPatternException {
    int[] p = pattern.codePoints().toArray();
    int[] s = name.codePoints().toArray();
    int pi = 0;
    int si = 0;
    chunks:
    while (pi < p.length) {
      boolean star = false;
      while (pi < p.length && p[pi] == '*') {
        pi++;
        star = true;
      }
      int chunkStart = pi;
      int chunkEnd = chunkEnd(p, pi);
      pi = chunkEnd;
      if (star && chunkStart == chunkEnd) {
        // A trailing * matches the rest of the name unless it has a '/'.
        for (int i = si; i < s.length; i++) {
          if (s[i] == '/') {
            return false;
          }
        }
        return true;
      }
      int t = matchChunk(p, chunkStart, chunkEnd, s, si);
      if (t >= 0 && (t == s.length || pi < p.length)) {
        si = t;
        continue;
      }
      if (star) {
        for (int i = si; i < s.length && s[i] != '/'; i++) {
          t = matchChunk(p, chunkStart, chunkEnd, s, i + 1);
          if (t >= 0) {
            if (pi == p.length && t < s.length) {
              continue;
            }
            si = t;
            continue chunks;
          }
        }
      }
      // No match; the rest of the pattern must still be well formed.
      while (pi < p.length) {
        while (pi < p.length && p[pi] == '*') {
          pi++;
        }
        int cs = pi;
        pi = chunkEnd(p, pi);
        matchChunk(p, cs, pi, s, s.length);
      }
      return false;
    }
    return si == s.length;
  }

  /** Throws when {@code pattern} is malformed, as {@code filepath.Match(pattern, ".")} would. */
  static void check(String pattern) throws BadPatternException {
    match(pattern, ".");
  }

  /** Where the chunk starting at {@code i} ends: at the next '*' outside a class. */
  private static int chunkEnd(int[] p, int i) {
    boolean inRange = false;
    for (; i < p.length; i++) {
      switch (p[i]) {
        case '\\' -> {
          if (i + 1 < p.length) {
            i++;
          }
        }
        case '[' -> inRange = true;
        case ']' -> inRange = false;
        case '*' -> {
          if (!inRange) {
            return i;
          }
        }
        default -> { }
      }
    }
    return i;
  }

  /** Matches p[cs, ce) at the start of s[si..]: the index after the match, or -1. Checks the whole chunk's syntax. */
  private static int matchChunk(int[] p, int cs, int ce, int[] s, int si) throws BadPatternException {
    boolean failed = false;
    int c = cs;
    while (c < ce) {
      if (!failed && si >= s.length) {
        failed = true;
      }
      switch (p[c]) {
        case '[' -> {
          int r = 0;
          if (!failed) {
            r = s[si++];
          }
          c++;
          boolean negated = false;
          if (c < ce && p[c] == '^') {
            negated = true;
            c++;
          }
          boolean matched = false;
          int ranges = 0;
          while (true) {
            if (c < ce && p[c] == ']' && ranges > 0) {
              c++;
              break;
            }
            long lo = escaped(p, c, ce);
            c = (int) (lo >>> 32);
            int hi = (int) lo;
            if (p[c] == '-') {
              long h = escaped(p, c + 1, ce);
              c = (int) (h >>> 32);
              hi = (int) h;
            }
            if ((int) lo <= r && r <= hi) {
              matched = true;
            }
            ranges++;
          }
          if (matched == negated) {
            failed = true;
          }
        }
        case '?' -> {
          if (!failed) {
            if (s[si] == '/') {
              failed = true;
            }
            si++;
          }
          c++;
        }
        default -> {
          if (p[c] == '\\') {
            c++;
            if (c >= ce) {
              throw new BadPatternException();
            }
          }
          if (!failed) {
            if (p[c] != s[si]) {
              failed = true;
            }
            si++;
          }
          c++;
        }
      }
    }
    return failed ? -1 : si;
  }

  /** Go's getEsc: one possibly escaped character of a class; (next index << 32) | code point. */
  private static long escaped(int[] p, int c, int ce) throws BadPatternException {
    if (c >= ce || p[c] == '-' || p[c] == ']') {
      throw new BadPatternException();
    }
    if (p[c] == '\\') {
      c++;
      if (c >= ce) {
        throw new BadPatternException();
      }
    }
    int r = p[c++];
    if (c >= ce) {
      throw new BadPatternException();
    }
    return ((long) c << 32) | (r & 0xffffffffL);
  }

  /** Go's path.Clean: the shortest equivalent path, lexically ("" is "."; ".." above a root stays at the root). */
  static String clean(String path) {
    if (path.isEmpty()) {
      return ".";
    }
    boolean rooted = path.charAt(0) == '/';
    Deque<String> out = new ArrayDeque<>();
    int leadingDotDots = 0;
    for (String c : path.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (out.size() > leadingDotDots) {
          out.removeLast();
        } else if (!rooted) {
          out.addLast("..");
          leadingDotDots++;
        }
        continue;
      }
      out.addLast(c);
    }
    String joined = String.join("/", out);
    if (rooted) {
      return "/" + joined;
    }
    return joined.isEmpty() ? "." : joined;
  }
}
