package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;

/**
 * Matching as moby/patternmatcher does it: the tables of its own patternmatcher_test.go (TestMatches through
 * MatchesOrParentMatches, and Go's filepath.Match table it runs through Matches), then the file syntax of
 * ignorefile.ReadAll and the errors users see.
 */
class IgnoreRulesTest {
  private static IgnoreRules rules(String... lines) {
    return IgnoreRules.parse(String.join("\n", lines), ".dockerignore");
  }

  /** {pattern, text, "pass" or "fail"} from TestMatches; "inexact" rows pass through MatchesOrParentMatches. */
  private static final String[][] MATCHES = {
      {"**", "file", "pass"}, {"**", "file/", "pass"}, {"**/", "file", "pass"}, {"**/", "file/", "pass"},
      {"**", "/", "pass"}, {"**/", "/", "pass"}, {"**", "dir/file", "pass"}, {"**/", "dir/file", "pass"},
      {"**", "dir/file/", "pass"}, {"**/", "dir/file/", "pass"}, {"**/**", "dir/file", "pass"},
      {"**/**", "dir/file/", "pass"}, {"dir/**", "dir/file", "pass"}, {"dir/**", "dir/file/", "pass"},
      {"dir/**", "dir/dir2/file", "pass"}, {"dir/**", "dir/dir2/file/", "pass"}, {"**/dir", "dir", "pass"},
      {"**/dir", "dir/file", "pass"}, {"**/dir2/*", "dir/dir2/file", "pass"}, {"**/dir2/*", "dir/dir2/file/", "pass"},
      {"**/dir2/**", "dir/dir2/dir3/file", "pass"}, {"**/dir2/**", "dir/dir2/dir3/file/", "pass"},
      {"**file", "file", "pass"}, {"**file", "dir/file", "pass"}, {"**/file", "dir/file", "pass"},
      {"**file", "dir/dir/file", "pass"}, {"**/file", "dir/dir/file", "pass"}, {"**/file*", "dir/dir/file", "pass"},
      {"**/file*", "dir/dir/file.txt", "pass"}, {"**/file*txt", "dir/dir/file.txt", "pass"},
      {"**/file*.txt", "dir/dir/file.txt", "pass"}, {"**/file*.txt*", "dir/dir/file.txt", "pass"},
      {"**/**/*.txt", "dir/dir/file.txt", "pass"}, {"**/**/*.txt2", "dir/dir/file.txt", "fail"},
      {"**/*.txt", "file.txt", "pass"}, {"**/**/*.txt", "file.txt", "pass"}, {"a**/*.txt", "a/file.txt", "pass"},
      {"a**/*.txt", "a/dir/file.txt", "pass"}, {"a**/*.txt", "a/dir/dir/file.txt", "pass"},
      {"a/*.txt", "a/dir/file.txt", "fail"}, {"a/*.txt", "a/file.txt", "pass"}, {"a/*.txt**", "a/file.txt", "pass"},
      {"a[b-d]e", "ae", "fail"}, {"a[b-d]e", "ace", "pass"}, {"a[b-d]e", "aae", "fail"},
      {"a[^b-d]e", "aze", "pass"}, {".*", ".foo", "pass"}, {".*", "foo", "fail"}, {"abc.def", "abcdef", "fail"},
      {"abc.def", "abc.def", "pass"}, {"abc.def", "abcZdef", "fail"}, {"abc?def", "abcZdef", "pass"},
      {"abc?def", "abcdef", "fail"}, {"**/foo/bar", "foo/bar", "pass"}, {"**/foo/bar", "dir/foo/bar", "pass"},
      {"**/foo/bar", "dir/dir2/foo/bar", "pass"}, {"abc/**", "abc", "fail"}, {"abc/**", "abc/def", "pass"},
      {"abc/**", "abc/def/ghi", "pass"}, {"**/.foo", ".foo", "pass"}, {"**/.foo", "bar.foo", "fail"},
      {"a(b)c/def", "a(b)c/def", "pass"}, {"a(b)c/def", "a(b)c/xyz", "fail"}, {"a.|)$(}+{bc", "a.|)$(}+{bc", "pass"},
      {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
          "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "pass"},
      {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "pass"},
      {"a\\\\", "a\\", "pass"}, {"a\\*b", "a*b", "pass"},
  };

  @Test
  void mobysMatchTable() {
    for (String[] row : MATCHES) {
      IgnoreRules r = IgnoreRules.parse(row[0], ".dockerignore");
      assertEquals(row[2].equals("pass"), r.matchesOrParentMatches(row[1]), "pattern " + row[0] + " text " + row[1]);
    }
  }

  @Test
  void mobysMultiPatternTable() {
    assertFalse(rules("**", "!util/docker/web").matchesOrParentMatches("util/docker/web/foo"));
    assertTrue(rules("**", "!util/docker/web", "util/docker/web/foo").matchesOrParentMatches("util/docker/web/foo"));
    assertFalse(rules("**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl")
        .matchesOrParentMatches("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
    assertFalse(rules("**", "!dist/*.whl").matchesOrParentMatches("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
  }

  /** {pattern, name, "true"/"false"/"bad"}: Go's filepath.Match table as patternmatcher_test.go's TestMatch uses it. */
  private static final String[][] GO_MATCH = {
      {"abc", "abc", "true"}, {"*", "abc", "true"}, {"*c", "abc", "true"}, {"a*", "a", "true"}, {"a*", "abc", "true"},
      {"a*", "ab/c", "true"}, {"a*/b", "abc/b", "true"}, {"a*/b", "a/c/b", "false"},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", "true"}, {"a*b*c*d*e*/f", "axbxcxdxexxx/f", "true"},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", "false"}, {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", "false"},
      {"a*b?c*x", "abxbbxdbxebxczzx", "true"}, {"a*b?c*x", "abxbbxdbxebxczzy", "false"}, {"ab[c]", "abc", "true"},
      {"ab[b-d]", "abc", "true"}, {"ab[e-g]", "abc", "false"}, {"ab[^c]", "abc", "false"},
      {"ab[^b-d]", "abc", "false"}, {"ab[^e-g]", "abc", "true"}, {"a\\*b", "a*b", "true"}, {"a\\*b", "ab", "false"},
      {"a?b", "a☺b", "true"}, {"a[^a]b", "a☺b", "true"}, {"a???b", "a☺b", "false"},
      {"a[^a][^a][^a]b", "a☺b", "false"}, {"[a-ζ]*", "α", "true"}, {"*[a-ζ]", "A", "false"},
      {"a?b", "a/b", "false"}, {"a*b", "a/b", "false"}, {"[\\]a]", "]", "true"}, {"[\\-]", "-", "true"},
      {"[x\\-]", "x", "true"}, {"[x\\-]", "-", "true"}, {"[x\\-]", "z", "false"}, {"[\\-x]", "x", "true"},
      {"[\\-x]", "-", "true"}, {"[\\-x]", "a", "false"}, {"[]a]", "]", "bad"}, {"[-]", "-", "bad"},
      {"[x-]", "x", "bad"}, {"[x-]", "-", "bad"}, {"[x-]", "z", "bad"}, {"[-x]", "x", "bad"}, {"[-x]", "-", "bad"},
      {"[-x]", "a", "bad"}, {"\\", "a", "bad"}, {"[a-b-c]", "a", "bad"}, {"[", "a", "bad"}, {"[^", "a", "bad"},
      {"[^bc", "a", "bad"}, {"a[", "a", "bad"}, {"a[", "ab", "bad"}, {"*x", "xxx", "true"},
  };

  @Test
  void goFilepathMatchTable() throws Exception {
    for (String[] row : GO_MATCH) {
      String what = "pattern " + row[0] + " name " + row[1];
      if (row[2].equals("bad")) {
        assertThrows(GoPattern.BadPatternException.class, () -> GoPattern.match(row[0], row[1]), what);
        LabenvException e = assertThrows(LabenvException.class, () -> rules("ok", row[0]), what);
        assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
        assertTrue(e.getMessage().startsWith(".dockerignore:2: "), e.getMessage());
      } else {
        boolean want = row[2].equals("true");
        if (!row[1].contains("/")) {
          assertEquals(want, GoPattern.match(row[0], row[1]), what + " (filepath.Match)");
        }
        assertEquals(want, rules(row[0]).matchesOrParentMatches(row[1]), what + " (ignore rules)");
      }
    }
  }

  @Test
  void goFilepathMatchStopsAtSlashes() throws Exception {
    // Go's own rows, where patternmatcher's parent matching differs: "*" never matches a '/'.
    assertFalse(GoPattern.match("a*", "ab/c"));
    assertTrue(GoPattern.match("a*/b", "abc/b"));
    assertFalse(GoPattern.match("a*/b", "a/c/b"));
    assertTrue(GoPattern.match("a*b*c*d*e*/f", "axbxcxdxexxx/f"));
    assertFalse(GoPattern.match("a*b*c*d*e*/f", "axbxcxdxe/xxx/f"));
  }

  @Test
  void fileSyntaxAsIgnorefileReadAll() {
    IgnoreRules r = IgnoreRules.parse("\uFEFF# a comment\r\n\r\n  build/  \r\n/abs\n./dot/x\n # not a comment\n"
        + "a/../b\n", ".dockerignore");
    assertTrue(r.ignored("build"));
    assertTrue(r.ignored("build/out/x.o"), "a directory pattern excludes everything below");
    assertFalse(r.ignored("src/build"), "patterns are anchored at the context root");
    assertTrue(r.ignored("abs"), "a leading / is dropped");
    assertTrue(r.ignored("dot/x"), "a leading ./ is cleaned away");
    assertTrue(r.ignored("# not a comment"), "only lines starting with # are comments");
    assertTrue(r.ignored("b"), "patterns are cleaned");
    assertFalse(r.ignored("a"));
    assertFalse(r.ignored("# a comment"));
    assertFalse(r.ignored("."), "the root is never ignored");
    assertTrue(r.ignored("./build/y"), "paths are cleaned too");
  }

  @Test
  void laterRulesWinAndExceptionsReachBelowExcludedDirectories() {
    IgnoreRules r = rules("*.md", "!README.md", "docs", "!docs/keep/*.txt", "docs/keep/secret.txt");
    assertTrue(r.ignored("CHANGES.md"));
    assertFalse(r.ignored("README.md"));
    assertTrue(r.ignored("docs/guide.html"));
    assertFalse(r.ignored("docs/keep/a.txt"));
    assertTrue(r.ignored("docs/keep/secret.txt"), "a later exclusion wins over an earlier exception");
    assertTrue(r.ignored("README.md/x") == false, "an exception for a parent re-includes what is below it");
    IgnoreRules both = rules("!README.md", "*.md");
    assertTrue(both.ignored("README.md"), "an exception before the exclusion has no effect");
  }

  @Test
  void walksLookIntoExcludedDirectoriesOnlyWhenAnExceptionCanReachThere() {
    IgnoreRules prefix = rules("data", "!data/keep.csv", "logs");
    assertTrue(prefix.mayIncludeBelow("data"));
    assertFalse(prefix.mayIncludeBelow("logs"));
    assertFalse(rules("logs").mayIncludeBelow("logs"));
    IgnoreRules wildcard = rules("data", "logs", "!**/keep.csv");
    assertTrue(wildcard.mayIncludeBelow("logs"), "a wildcard exception may match anywhere");
    assertTrue(rules("data", "!data/*").mayIncludeBelow("data"), "a trailing /* counts as a prefix");
  }

  @Test
  void badPatternsNameFileAndLine() {
    LabenvException e = assertThrows(LabenvException.class,
        () -> IgnoreRules.parse("ok\n\n!\n", "ctx/.labenvignore"));
    assertEquals("ctx/.labenvignore:3: illegal exclusion pattern \"!\"", e.getMessage());
    assertEquals(2, e.exitCode());
    e = assertThrows(LabenvException.class, () -> IgnoreRules.parse("# c\nsrc/[a-\n", ".dockerignore"));
    assertEquals(".dockerignore:2: syntax error in pattern \"src/[a-\"", e.getMessage());
  }

  @Test
  void noneIgnoresNothing() {
    assertTrue(IgnoreRules.none().isEmpty());
    assertFalse(IgnoreRules.none().ignored("anything/at/all"));
    assertFalse(IgnoreRules.parse("# only comments\n\n", "x").ignored("a"));
    assertEquals(List.of(), List.of());
  }

  @Test
  void goCleanAsPathClean() {
    String[][] cases = {{"", "."}, {"abc", "abc"}, {"abc/def/", "abc/def"}, {"a//b", "a/b"}, {"./a", "a"},
        {"a/..", "."}, {"../a", "../a"}, {"a/../../b", "../b"}, {"/../a", "/a"}, {"/", "/"}, {"//a/./b/..", "/a"},
        {"..", ".."}, {"../../x/..", "../.."}};
    for (String[] c : cases) {
      assertEquals(c[1], GoPattern.clean(c[0]), c[0]);
    }
  }
}
