package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cases from the Dockerfile reference ("Environment replacement") and from BuildKit's
 * frontend/dockerfile/shell/envVarTest and wordsTest, with this environment.
 */
class ShellTest {
  private static final Map<String, String> ENV = new HashMap<>();

  static {
    ENV.put("PWD", "/home");
    ENV.put("SHELL", "bash");
    ENV.put("KOREAN", "한국어");
    ENV.put("EMPTY", "");
    ENV.put("TWO", "one two");
    ENV.put("QUOTED", "'a b' \"c\"");
    ENV.put("DOLLAR", "$PWD");
    ENV.put("FILE", "archive.tar.gz");
    ENV.put("PATHV", "/usr/local/bin:/usr/bin:/bin");
    ENV.put("STARS", "a*b*c");
    ENV.put("1", "positional");
  }

  private static final Function<String, String> LOOKUP = ENV::get;

  private static String word(String raw) {
    return Shell.word(raw, LOOKUP, '\\');
  }

  private static List<String> words(String raw) {
    return Shell.words(raw, LOOKUP, '\\');
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      // plain
      "hello|hello",
      "he llo|he llo",
      "  two  spaces  |  two  spaces  ",
      // $VAR and ${VAR}
      "$PWD|/home",
      "${PWD}|/home",
      "x$PWD/y|x/home/y",
      "x${PWD}y|x/homey",
      "$PWDy|",
      "$KOREAN|한국어",
      "${KOREAN}!|한국어!",
      "$UNSET|",
      "a${UNSET}b|ab",
      "$1|positional",
      "$|$",
      "a$|a$",
      "$ x|$ x",
      "$/x|$/x",
      "${EMPTY}|",
      // values are not re-lexed
      "$DOLLAR|$PWD",
      "$QUOTED|'a b' \"c\"",
      // default and alternative
      "${UNSET:-default}|default",
      "${UNSET-default}|default",
      "${EMPTY:-default}|default",
      "${EMPTY-default}|",
      "${PWD:-default}|/home",
      "${PWD-default}|/home",
      "${UNSET:+alt}|",
      "${UNSET+alt}|",
      "${EMPTY:+alt}|",
      "${EMPTY+alt}|alt",
      "${PWD:+alt}|alt",
      "${PWD+alt}|alt",
      "${UNSET:-}|",
      "${UNSET:-a b}|a b",
      "${UNSET:-'a b'}|a b",
      "${UNSET:-\"$PWD\"}|/home",
      // nested
      "${UNSET:-${PWD}}|/home",
      "${UNSET:-${ALSO_UNSET:-deep}}|deep",
      "${PWD:+${SHELL}-${PWD}}|bash-/home",
      "${UNSET:-x${PWD}y}|x/homey",
      "${UNSET:-\\}}|}",
      // quotes
      "'$PWD'|$PWD",
      "\"$PWD\"|/home",
      "\"${PWD}\"'${PWD}'|/home${PWD}",
      "'a\"b'|a\"b",
      "\"a'b\"|a'b",
      "\"\"|",
      "''|",
      "a''b|ab",
      "\"a b\"|a b",
      "'\\'|\\",
      // escapes outside quotes: the next character is literal, the escape removed
      "\\$PWD|$PWD",
      "\\${PWD}|${PWD}",
      "\\'a\\'|'a'",
      "\\\"a\\\"|\"a\"",
      "a\\ b|a b",
      "\\\\|\\",
      "a\\|a",
      "\\a|a",
      // escapes inside double quotes: only \" \$ and \\ escape, others stay
      "\"\\\"\"|\"",
      "\"\\$PWD\"|$PWD",
      "\"\\\\\"|\\",
      "\"\\a\"|\\a",
      "\"\\n\"|\\n",
      // patterns
      "${FILE#*.}|tar.gz",
      "${FILE##*.}|gz",
      "${FILE%.*}|archive.tar",
      "${FILE%%.*}|archive",
      "${FILE#archive}|.tar.gz",
      "${FILE%gz}|archive.tar.",
      "${FILE#nomatch}|archive.tar.gz",
      "${FILE#}|archive.tar.gz",
      "${FILE#?}|rchive.tar.gz",
      "${PATHV%%:*}|/usr/local/bin",
      "${PATHV##*:}|/bin",
      "${STARS#*\\*}|b*c",
      "${STARS%\\**}|a*b",
      "${UNSET#x}|",
      "${KOREAN#한}|국어",
      // replacement
      "${FILE/.//}|archive/tar.gz",
      "${FILE//./_}|archive_tar_gz",
      "${FILE/a*/X}|X",
      "${FILE/nomatch/X}|archive.tar.gz",
      "${PATHV//:/ }|/usr/local/bin /usr/bin /bin",
      "${FILE/tar/$SHELL}|archive.bash.gz",
  })
  void expands(String raw, String expected) {
    assertEquals(expected == null ? "" : expected, word(raw)); // CSV reads an empty column as null
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      "a b c|[a, b, c]",
      "  a   b  |[a, b]",
      "\"a b\" c|[a b, c]",
      "'a b' c|[a b, c]",
      "a\\ b c|[a b, c]",
      "$TWO|[one, two]",
      "x$TWO|[xone, two]",
      "\"$TWO\"|[one two]",
      "'$TWO'|[$TWO]",
      "${UNSET:-a b}|[a, b]",
      "\"${UNSET:-a b}\"|[a b]",
      "$QUOTED|['a, b', \"c\"]",
      "\"\" a|[a]",
      "$EMPTY a|[a]",
      "a\"b c\"d e|[ab cd, e]",
  })
  void splitsWords(String raw, String expected) {
    assertEquals(expected, words(raw).toString());
  }

  @Test
  void wordsOfNothingIsEmpty() {
    assertEquals(List.of(), words(""));
    assertEquals(List.of(), words("   "));
    assertEquals(List.of(), words("$UNSET"));
  }

  @Test
  void wordKeepsWhitespaceFromValuesAndQuotes() {
    assertEquals("one two", word("$TWO"));
    assertEquals(" a  b ", word("\" a  b \""));
  }

  @Test
  void backtickEscapeDirective() {
    Function<String, String> lookup = LOOKUP;
    assertEquals("$PWD", Shell.word("`$PWD", lookup, '`'));
    assertEquals("c:\\dir\\file", Shell.word("c:\\dir\\file", lookup, '`'));
    assertEquals("\"", Shell.word("\"`\"\"", lookup, '`'));
    assertEquals("a`b", Shell.word("\"a`b\"", lookup, '`'));
    assertEquals(List.of("a b", "c"), Shell.words("a` b c", lookup, '`'));
    assertEquals("\\/home", Shell.word("\\$PWD", lookup, '`'));
  }

  @Test
  void heredocBodiesKeepTheirQuotes() {
    assertEquals("echo '/home' \"bash\" it's\n$PWD\n", Shell.heredoc("echo '$PWD' \"$SHELL\" it's\n\\$PWD\n", LOOKUP));
    assertEquals("'d'", Shell.heredoc("${UNSET:-'d'}", LOOKUP));
    assertEquals("unterminated quotes are text: '", Shell.heredoc("unterminated quotes are text: '", LOOKUP));
  }

  @Test
  void unsetMeansNullNotEmpty() {
    Map<String, String> env = new HashMap<>();
    env.put("SET_EMPTY", "");
    assertEquals("", Shell.word("${SET_EMPTY-d}", env::get, '\\'));
    assertEquals("d", Shell.word("${NOT_SET-d}", env::get, '\\'));
  }

  @Test
  void requiredVariables() {
    assertEquals("/home", word("${PWD:?must be set}"));
    assertEquals("/home", word("${PWD?must be set}"));
    assertEquals("", word("${EMPTY?must be set}"));
    assertEquals("UNSET: must be set", bad("${UNSET:?must be set}"));
    assertEquals("UNSET: must be set", bad("${UNSET?must be set}"));
    assertEquals("UNSET: is not set", bad("${UNSET?}"));
    assertEquals("EMPTY: is empty", bad("${EMPTY:?}"));
    assertEquals("EMPTY: need /home", bad("${EMPTY:?need $PWD}"));
  }

  @ParameterizedTest(name = "[{index}] {0}: {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      "${PWD|missing \"}\" in \"${PWD\"",
      "${|missing \"}\" in \"${\"",
      "x${UNSET:-abc|missing \"}\" in \"x${UNSET:-abc\"",
      "${UNSET:-${PWD}|missing \"}\" in \"${UNSET:-${PWD}\"",
      "${UNSET:-\"a}\"|missing \"}\" in \"${UNSET:-\\\"a}\\\"\"",
      "${}|bad substitution in \"${}\"",
      "${:-x}|bad substitution in \"${:-x}\"",
      "${{PWD}}|bad substitution in \"${{PWD}}\"",
      "${PWD:}|bad substitution in \"${PWD:}\"",
      "${PWD:x}|unsupported modifier \":x\" in \"${PWD:x}\"",
      "${PWD!}|unsupported modifier \"!\" in \"${PWD!}\"",
      "${PWD x}|unsupported modifier \" \" in \"${PWD x}\"",
      "${PWD/x|missing \"/\" in \"${PWD/x\"",
      "${PWD/x/y|missing \"}\" in \"${PWD/x/y\"",
      "'abc|unterminated single quote in \"'abc\"",
      "\"abc|unterminated double quote in \"\\\"abc\"",
      "\"abc\\\"|unterminated double quote in \"\\\"abc\\\\\"\"",
      "${FILE#\\a}|invalid escape in pattern \"\\a\" in \"${FILE#\\a}\"",
  })
  void badSyntaxIsBadInput(String raw, String message) {
    assertEquals(message, bad(raw));
  }

  @Test
  void badSyntaxFailsWordsToo() {
    LabenvException e = assertThrows(LabenvException.class, () -> words("a 'b"));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
  }

  @Test
  void whatLookupThrowsPassesThrough() {
    LabenvException undeclared = LabenvException.badInput("ARG VERSION is used before it is declared");
    Function<String, String> lookup = name -> {
      if (name.equals("VERSION")) {
        throw undeclared;
      }
      return ENV.get(name);
    };
    assertSame(undeclared, assertThrows(LabenvException.class, () -> Shell.word("v$VERSION", lookup, '\\')));
    assertSame(undeclared,
        assertThrows(LabenvException.class, () -> Shell.word("${PWD:-${VERSION}}", lookup, '\\')));
    assertSame(undeclared, assertThrows(LabenvException.class, () -> Shell.words("\"$VERSION\"", lookup, '\\')));
    // Not looked up where it is not used.
    assertEquals("$VERSION", Shell.word("'$VERSION'", lookup, '\\'));
    assertEquals("$VERSION", Shell.word("\\$VERSION", lookup, '\\'));
  }

  @Test
  void looksUpOnlyWhatTheWordNames() {
    List<String> asked = new ArrayList<>();
    Shell.word("$PWD ${SHELL:-x} ${1} ${UNSET#y} \"$KOREAN\" '$NOT' \\$NOT2", name -> {
      asked.add(name);
      return ENV.get(name);
    }, '\\');
    assertEquals(List.of("PWD", "SHELL", "1", "UNSET", "KOREAN"), asked);
  }

  @Test
  void specialParametersAreNames() {
    Map<String, String> env = Map.of("@", "all", "$", "pid", "?", "status");
    assertEquals("all pid status", Shell.word("$@ $$ ${?}", env::get, '\\'));
  }

  @Test
  void rawWordsKeepQuotesEscapesAndVariables() {
    assertEquals(List.of("RUN", "cat", "<<EOF", ">", "$HOME/f"), Shell.rawWords("RUN cat <<EOF > $HOME/f"));
    assertEquals(List.of("RUN", "'<<EOF'", "\"a b\"", "\\<<X"), Shell.rawWords("RUN '<<EOF' \"a b\" \\<<X"));
    assertEquals(List.of("${A:-x}", "${B}"), Shell.rawWords("${A:-x} ${B}"));
    assertTrue(Shell.rawWords("RUN echo 'unterminated <<EOF").isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {" ", "\t", "\u00a0", "\u2003", "\u3000", "\n"})
  void unicodeSpacesSplitWords(String space) {
    assertEquals(List.of("a", "b"), words("a" + space + "b"));
  }

  @Test
  void nonSpacesDoNotSplit() {
    assertFalse(Shell.isSpace('\u200b')); // zero-width space is not White_Space in Go either
    assertEquals(List.of("a\u200bb"), words("a\u200bb"));
  }

  private static String bad(String raw) {
    LabenvException e = assertThrows(LabenvException.class, () -> word(raw));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertFalse(e.getMessage().contains("\n"));
    return e.getMessage();
  }
}
