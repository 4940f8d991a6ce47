package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import labenv.LabenvException;
import labenv.build.Instruction.Arg;
import labenv.build.Instruction.Cmd;
import labenv.build.Instruction.Command;
import labenv.build.Instruction.Copy;
import labenv.build.Instruction.Entrypoint;
import labenv.build.Instruction.Env;
import labenv.build.Instruction.Expose;
import labenv.build.Instruction.From;
import labenv.build.Instruction.Healthcheck;
import labenv.build.Instruction.Heredoc;
import labenv.build.Instruction.KeyValue;
import labenv.build.Instruction.Label;
import labenv.build.Instruction.Maintainer;
import labenv.build.Instruction.Maven;
import labenv.build.Instruction.Run;
import labenv.build.Instruction.ShellForm;
import labenv.build.Instruction.StopSignal;
import labenv.build.Instruction.User;
import labenv.build.Instruction.Volume;
import labenv.build.Instruction.Workdir;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Envfile parser against the Dockerfile reference and BuildKit's parser tests (parser_test.go,
 * parser_heredoc_test.go, instructions/parse_test.go): what each instruction becomes, and the one-line error, with its
 * line, for what it cannot take.
 */
class EnvfileTest {
  private static final String F = "Envfile";

  private static Envfile parse(String... lines) {
    return Envfile.parse(String.join("\n", lines) + "\n", F);
  }

  private static List<Instruction> instructions(String... lines) {
    return parse(lines).instructions();
  }

  /** The single instruction after {@code FROM base}. */
  private static <T extends Instruction> T after(Class<T> type, String... lines) {
    String[] all = new String[lines.length + 1];
    all[0] = "FROM base";
    System.arraycopy(lines, 0, all, 1, lines.length);
    List<Instruction> list = instructions(all);
    assertEquals(2, list.size(), list.toString());
    return assertInstanceOf(type, list.get(1));
  }

  /** The message of the error that parsing these lines gives. */
  private static String error(String... lines) {
    EnvfileException e = assertThrows(EnvfileException.class, () -> parse(lines));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals(2, e.exitCode());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertEquals(F, e.fileName());
    assertEquals(e.line() > 0 ? F + ":" + e.line() + ": " + e.problem() : F + ": " + e.problem(), e.getMessage());
    return e.getMessage();
  }

  @Nested
  class Lines {
    @Test
    void instructionsKeepTheirFirstLineAndJoinedText() {
      List<Instruction> list = instructions(
          "# comment",
          "",
          "FROM debian:bookworm",
          "",
          "RUN apt-get update \\",
          "    && apt-get install -y x",
          "  WORKDIR /app");
      assertEquals(3, list.size());
      assertEquals(3, list.get(0).line());
      assertEquals(5, list.get(1).line());
      assertEquals("RUN apt-get update     && apt-get install -y x", list.get(1).text());
      assertEquals(Command.shell("apt-get update     && apt-get install -y x"), ((Run) list.get(1)).command());
      assertEquals(7, list.get(2).line());
      assertEquals("WORKDIR /app", list.get(2).text());
    }

    @Test
    void instructionsAreCaseInsensitive() {
      List<Instruction> list = instructions("from base", "Run echo hi", "wOrKdIr /x");
      assertInstanceOf(From.class, list.get(0));
      assertEquals(Command.shell("echo hi"), ((Run) list.get(1)).command());
      assertEquals("/x", ((Workdir) list.get(2)).path());
      assertEquals("Run echo hi", list.get(1).text());
    }

    @Test
    void commentsAndBlankLinesInsideAContinuationAreSkipped() {
      Run run = after(Run.class,
          "RUN apt-get update && \\",
          "  # install the tools",
          "",
          "    # more comment \\",
          "   ",
          "  apt-get install -y \\",
          "#",
          "  curl");
      assertEquals(Command.shell("apt-get update &&   apt-get install -y   curl"), run.command());
      assertEquals(2, run.line());
    }

    @Test
    void whitespaceAfterTheContinuationStillContinues() {
      Run run = after(Run.class, "RUN a \\   \t", "b");
      assertEquals(Command.shell("a b"), run.command());
    }

    @Test
    void anEscapedEscapeAtTheEndDoesNotContinue() {
      List<Instruction> list = instructions("FROM base", "RUN echo a\\\\", "RUN echo b");
      assertEquals(3, list.size());
      assertEquals(Command.shell("echo a\\\\"), ((Run) list.get(1)).command());
    }

    @Test
    void aLoneEscapeLineContinues() {
      Run run = after(Run.class, "RUN a \\", "\\", "b");
      assertEquals(Command.shell("a b"), run.command());
    }

    @Test
    void continuationAtTheEndOfTheFileEndsTheInstruction() {
      List<Instruction> list = Envfile.parse("FROM base\nRUN echo hi \\", F).instructions();
      assertEquals(Command.shell("echo hi"), ((Run) list.get(1)).command());
    }

    @Test
    void hashInsideAnInstructionIsNotAComment() {
      Run run = after(Run.class, "RUN echo a # not a comment");
      assertEquals(Command.shell("echo a # not a comment"), run.command());
    }

    @Test
    void crlfAndByteOrderMark() {
      Envfile envfile = Envfile.parse("\uFEFF# escape=`\r\nFROM base\r\nRUN a `\r\n  b\r\nCOPY <<EOF /f\r\nx\r\nEOF\r\n", F);
      assertEquals('`', envfile.escape());
      List<Instruction> list = envfile.instructions();
      assertEquals(Command.shell("a   b"), ((Run) list.get(1)).command());
      assertEquals(3, list.get(1).line());
      Copy copy = (Copy) list.get(2);
      assertEquals(List.of(new Heredoc("EOF", "x\n", true, false)), copy.heredocs());
      assertEquals(5, copy.line());
    }

    @Test
    void noTrailingNewline() {
      List<Instruction> list = Envfile.parse("FROM base\nUSER me", F).instructions();
      assertEquals("me", ((User) list.get(1)).user());
    }

    @Test
    void fileNameAndDefaultEscape() {
      Envfile envfile = Envfile.parse("FROM a\n", "sub/Dockerfile");
      assertEquals("sub/Dockerfile", envfile.fileName());
      assertEquals('\\', envfile.escape());
    }
  }

  @Nested
  class Directives {
    @Test
    void escapeDirectiveChangesContinuationAndEscaping() {
      Envfile envfile = parse(
          "# escape=`",
          "FROM windows",
          "COPY testfile.txt c:\\",
          "RUN dir c:\\ `",
          "    && echo done",
          "ENV A=`\"quoted`\" B=\"x y\"");
      assertEquals('`', envfile.escape());
      List<Instruction> list = envfile.instructions();
      assertEquals(4, list.size());
      Copy copy = (Copy) list.get(1);
      assertEquals("c:\\", copy.destination());
      assertEquals(Command.shell("dir c:\\     && echo done"), ((Run) list.get(2)).command());
      assertEquals(List.of(new KeyValue("A", "`\"quoted`\""), new KeyValue("B", "\"x y\"")),
          ((Env) list.get(3)).vars());
    }

    @Test
    void withoutTheDirectiveBackslashContinues() {
      // The reference's example of why the directive exists: c:\ continues the line into the next.
      List<Instruction> list = instructions("FROM windows", "COPY testfile.txt c:\\", "RUN dir c:\\");
      assertEquals(2, list.size());
      Copy copy = (Copy) list.get(1);
      assertEquals("COPY testfile.txt c:RUN dir c:", copy.text());
      assertEquals(List.of("testfile.txt", "c:RUN", "dir"), copy.sources());
      assertEquals("c:", copy.destination());
      // BuildKit no longer takes an escaped escape (c:\\) for a continuation, unlike the reference's old example.
      List<Instruction> escaped = instructions("FROM windows", "COPY testfile.txt c:\\\\", "RUN dir c:");
      assertEquals(3, escaped.size());
      assertEquals("c:\\\\", ((Copy) escaped.get(1)).destination());
    }

    @ParameterizedTest
    @ValueSource(strings = {"# escape=`", "#escape=`", "#  ESCAPE =  `  ", "  # Escape=`"})
    void directiveSpellings(String directive) {
      assertEquals('`', parse(directive, "FROM a").escape());
    }

    @Test
    void syntaxAndCheckAreReadAndIgnored() {
      Envfile envfile = parse("# syntax=docker/dockerfile:1", "# check=skip=all", "# escape=`", "FROM a");
      assertEquals('`', envfile.escape());
      assertEquals(1, envfile.instructions().size());
    }

    @Test
    void directivesOnlyAtTheTop() {
      assertEquals('\\', parse("# a comment", "# escape=`", "FROM a", "RUN a \\", "b").escape());
      assertEquals('\\', parse("", "# escape=`", "FROM a").escape());
      assertEquals('\\', parse("FROM a", "# escape=`").escape());
      // An unknown directive ends the directives and is a comment.
      assertEquals('\\', parse("# foo=bar", "# escape=`", "FROM a").escape());
    }

    @Test
    void repeatedDirective() {
      assertEquals("Envfile:2: the escape directive is given twice", error("# escape=`", "# escape=\\", "FROM a"));
      assertEquals("Envfile:3: the syntax directive is given twice",
          error("# syntax=a", "# escape=`", "# SYNTAX=b", "FROM a"));
    }

    @Test
    void badEscapeValue() {
      assertEquals("Envfile:1: the escape directive must be \\ or `, not \"x\"", error("# escape=x", "FROM a"));
    }
  }

  @Nested
  class From_ {
    @Test
    void imageAliasPlatform() {
      List<Instruction> list = instructions(
          "ARG VERSION=12",
          "FROM --platform=$BUILDPLATFORM debian:${VERSION} AS Build",
          "FROM scratch",
          "from build as final",
          "FROM busybox@sha256:" + "a".repeat(64));
      assertEquals(new From(2, "FROM --platform=$BUILDPLATFORM debian:${VERSION} AS Build", "debian:${VERSION}",
          "build", "$BUILDPLATFORM"), list.get(1));
      assertEquals(new From(3, "FROM scratch", "scratch", null, null), list.get(2));
      assertEquals("final", ((From) list.get(3)).alias());
      assertEquals("build", ((From) list.get(3)).image());
      assertEquals("busybox@sha256:" + "a".repeat(64), ((From) list.get(4)).image());
    }

    @Test
    void errors() {
      assertEquals("Envfile:1: FROM needs an image", error("FROM"));
      assertEquals("Envfile:1: FROM needs an image", error("FROM --platform=linux/amd64"));
      assertEquals("Envfile:1: FROM takes an image and optionally AS name, e.g. FROM debian:bookworm AS build",
          error("FROM a b"));
      assertEquals("Envfile:1: FROM takes an image and optionally AS name, e.g. FROM debian:bookworm AS build",
          error("FROM a AS"));
      assertEquals("Envfile:1: FROM takes an image and optionally AS name, e.g. FROM debian:bookworm AS build",
          error("FROM a AS b c"));
      assertEquals("Envfile:1: invalid stage name \"1st\": it must start with a letter and hold only letters, "
          + "digits, '-', '_' and '.'", error("FROM a AS 1st"));
      assertEquals("Envfile:1: invalid stage name \"a/b\": it must start with a letter and hold only letters, "
          + "digits, '-', '_' and '.'", error("FROM a AS a/b"));
      assertEquals("Envfile:3: duplicate stage name \"build\" (first used on line 1)",
          error("FROM a AS build", "RUN x", "FROM b AS BUILD"));
      assertEquals("Envfile:1: unknown flag --foo for FROM", error("FROM --foo=bar a"));
    }

    @Test
    void validStageNames() {
      assertEquals("a-b_c.d9", ((From) instructions("FROM x AS a-b_c.d9").get(0)).alias());
    }

    @Test
    void onlyArgBeforeTheFirstFrom() {
      assertEquals(List.of(new KeyValue("A", "1"), new KeyValue("B", null)),
          ((Arg) instructions("ARG A=1 B", "FROM a").get(0)).args());
      assertEquals("Envfile:2: RUN comes before the first FROM (only ARG may come before FROM)",
          error("ARG A", "RUN x", "FROM a"));
      assertEquals("Envfile:1: ENV comes before the first FROM (only ARG may come before FROM)",
          error("ENV A=1", "FROM a"));
      assertEquals("Envfile:1: SHELL comes before the first FROM (only ARG may come before FROM)",
          error("SHELL [\"sh\"]", "FROM a"));
      assertEquals("Envfile:1: ADD comes before the first FROM (only ARG may come before FROM)",
          error("ADD a b", "FROM a"));
    }

    @Test
    void noFrom() {
      assertEquals("Envfile: no FROM instruction", error(""));
      assertEquals("Envfile: no FROM instruction", error("# just a comment"));
      assertEquals("Envfile: no FROM instruction", error("ARG A=1"));
      EnvfileException e = assertThrows(EnvfileException.class, () -> Envfile.parse("", F));
      assertEquals(0, e.line());
      assertEquals("no FROM instruction", e.problem());
    }
  }

  @Nested
  class Run_ {
    @Test
    void shellAndExecForms() {
      assertEquals(new Run(2, "RUN echo \"$HOME\" 'x'", Command.shell("echo \"$HOME\" 'x'"), List.of(), null),
          after(Run.class, "RUN echo \"$HOME\" 'x'"));
      assertEquals(Command.exec(List.of("/bin/echo", "a b", "$HOME")),
          after(Run.class, "RUN [\"/bin/echo\", \"a b\", \"$HOME\"]").command());
      assertEquals(Command.exec(List.of("a", "\u00e9\"\n")), after(Run.class, "RUN  [ \"a\" , \"\\u00e9\\\"\\n\" ]")
          .command());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[\"a\", 'b']", "[a]", "[\"a\",]", "[ -f /x ] && echo y", "[\"a\"", "[", "[\"a\" \"b\"]"})
    void invalidJsonIsTheShellForm(String args) {
      assertEquals(Command.shell(args), after(Run.class, "RUN " + args).command());
    }

    @Test
    void jsonOfNonStringsIsAnError() {
      assertEquals("Envfile:2: RUN in JSON form must be an array of strings only",
          error("FROM a", "RUN [\"echo\", 1]"));
      assertEquals("Envfile:2: CMD in JSON form must be an array of strings only", error("FROM a", "CMD [null]"));
    }

    @Test
    void textAfterTheJsonArrayMakesItTheShellForm() {
      // As BuildKit since Docker 27.1 (json.Unmarshal); older versions ran ["true"] and dropped the rest.
      assertEquals(Command.shell("[\"true\"] && echo hi"), after(Run.class, "RUN [\"true\"] && echo hi").command());
      assertEquals(Command.shell("[ \"$A\" ] && echo set"), after(Run.class, "RUN [ \"$A\" ] && echo set").command());
      assertEquals(Command.shell("[\"a\", 1] x"), after(Cmd.class, "CMD [\"a\", 1] x").command());
    }

    @Test
    void network() {
      assertEquals("none", after(Run.class, "RUN --network=none curl x").network());
      assertEquals("host", after(Run.class, "RUN --network=host curl x").network());
      assertEquals("default", after(Run.class, "RUN --network=default curl x").network());
      assertNull(after(Run.class, "RUN curl x").network());
      Run quoted = after(Run.class, "RUN --network=\"none\" [\"curl\"]");
      assertEquals("none", quoted.network());
      assertEquals(Command.exec(List.of("curl")), quoted.command());
      assertEquals("Envfile:2: RUN --network must be default, none or host, not \"bridge\"",
          error("FROM a", "RUN --network=bridge x"));
      assertEquals("Envfile:2: RUN --network needs a value (--network=...)", error("FROM a", "RUN --network x"));
      assertEquals("Envfile:2: RUN --network is given twice",
          error("FROM a", "RUN --network=none --network=none x"));
    }

    @Test
    void doubleDashEndsTheFlags() {
      assertEquals(Command.shell("--network=none"), after(Run.class, "RUN -- --network=none").command());
    }

    @ParameterizedTest
    @CsvSource({"mount, 'RUN --mount=type=cache,target=/root/.cache pip install x'",
        "security, RUN --security=insecure x", "device, RUN --device=/dev/fuse x"})
    void unsupportedFlags(String flag, String line) {
      assertEquals("Envfile:2: RUN --" + flag + " is not supported", error("FROM a", line));
    }

    @Test
    void unknownFlag() {
      assertEquals("Envfile:2: unknown flag --foo for RUN", error("FROM a", "RUN --foo=1 x"));
      assertEquals("Envfile:2: unknown flag --help for CMD", error("FROM a", "CMD --help"));
    }

    @Test
    void needsACommand() {
      assertEquals("Envfile:2: RUN needs a command", error("FROM a", "RUN"));
      assertEquals("Envfile:2: RUN needs a command", error("FROM a", "RUN --network=none"));
      assertEquals("Envfile:2: RUN needs a command", error("FROM a", "RUN []"));
    }
  }

  @Nested
  class Heredocs {
    @Test
    void simple() {
      List<Instruction> list = instructions(
          "FROM a",
          "RUN <<EOF",
          "apt-get update",
          "  # not a comment \\",
          "",
          "echo done",
          "EOF",
          "USER me");
      Run run = (Run) list.get(1);
      assertEquals("RUN <<EOF", run.text());
      assertEquals(Command.shell("<<EOF"), run.command());
      assertEquals(List.of(new Heredoc("EOF", "apt-get update\n  # not a comment \\\n\necho done\n", true, false)),
          run.heredocs());
      assertEquals(new User(8, "USER me", "me"), list.get(2));
    }

    @Test
    void commandBeforeTheHeredoc() {
      Run run = after(Run.class, "RUN python3 <<EOF", "print('hi')", "EOF");
      assertEquals(Command.shell("python3 <<EOF"), run.command());
      assertEquals(List.of(new Heredoc("EOF", "print('hi')\n", true, false)), run.heredocs());
      Run redirect = after(Run.class, "RUN --network=none cat <<EOF > /f", "x=$y", "EOF");
      assertEquals(Command.shell("cat <<EOF > /f"), redirect.command());
      assertEquals("none", redirect.network());
      assertEquals("RUN --network=none cat <<EOF > /f", redirect.text());
    }

    @Test
    void chompStripsLeadingTabsAndFindsATabbedDelimiter() {
      Run run = after(Run.class, "RUN <<-EOF", "\techo a", "\t\t echo b", "  \tc", "\tEOF");
      assertEquals(List.of(new Heredoc("EOF", "echo a\n echo b\n  \tc\n", true, true)), run.heredocs());
      Run plain = after(Run.class, "RUN <<EOF", "\techo a", "\tEOF", "EOF");
      assertEquals(List.of(new Heredoc("EOF", "\techo a\n\tEOF\n", true, false)), plain.heredocs());
    }

    @ParameterizedTest
    @ValueSource(strings = {"<<'EOF'", "<<\"EOF\"", "<<-'EOF'", "<<E'O'F", "<<\"E\"OF"})
    void quotedDelimiterMeansNoExpansion(String marker) {
      Run run = after(Run.class, "RUN " + marker, "\techo $HOME", "EOF");
      Heredoc heredoc = run.heredocs().get(0);
      assertEquals("EOF", heredoc.name());
      assertFalse(heredoc.expand());
      assertEquals(marker.startsWith("<<-"), heredoc.chomp());
      assertEquals(Command.shell(marker), run.command());
    }

    @Test
    void severalOnOneLineAreReadInOrder() {
      Run run = after(Run.class, "RUN <<A <<-B cat", "a", "A", "\tb", "\tB");
      assertEquals(List.of(new Heredoc("A", "a\n", true, false), new Heredoc("B", "b\n", true, true)),
          run.heredocs());
    }

    @Test
    void fileDescriptorAndEmptyBody() {
      Run run = after(Run.class, "RUN 3<<EMPTY cat <&3", "EMPTY");
      assertEquals(List.of(new Heredoc("EMPTY", "", true, false)), run.heredocs());
    }

    @Test
    void markersInQuotesOrEscapedAreNotHeredocs() {
      assertEquals(List.of(), after(Run.class, "RUN echo '<<EOF'").heredocs());
      assertEquals(List.of(), after(Run.class, "RUN echo \"<<EOF\"").heredocs());
      assertEquals(List.of(), after(Run.class, "RUN echo \\<<EOF").heredocs());
      assertEquals(List.of(), after(Run.class, "RUN echo a<<EOF").heredocs());
      assertEquals(List.of(), after(Run.class, "RUN echo <<<EOF").heredocs());
      assertEquals(List.of(), after(Run.class, "RUN [\"<<EOF\"]").heredocs());
    }

    @Test
    void onlyRunCopyAndAddTakeHeredocs() {
      // As in BuildKit, the next line is then an instruction of its own.
      assertEquals("Envfile:3: unknown instruction \"INVALID\"", error("FROM a", "USER <<INVALID", "INVALID"));
    }

    @Test
    void continuedLineThenBody() {
      Run run = after(Run.class, "RUN <<EOF \\", "  bash -e", "echo $A", "EOF");
      assertEquals(Command.shell("<<EOF   bash -e"), run.command());
      assertEquals(List.of(new Heredoc("EOF", "echo $A\n", true, false)), run.heredocs());
    }

    @Test
    void copy() {
      List<Instruction> list = instructions(
          "FROM a",
          "COPY <<EOF /usr/share/index.html",
          "<html>$TITLE</html>",
          "EOF",
          "COPY --chmod=755 <<robots.txt <<-'humans.txt' /srv/",
          "User-agent: *",
          "robots.txt",
          "\tme",
          "\thumans.txt",
          "ADD <<X <<Y /dest",
          "Y",
          "X",
          "X",
          "Y");
      assertEquals(new Copy(2, "COPY <<EOF /usr/share/index.html", false, List.of("<<EOF"), "/usr/share/index.html",
          null, null, null, List.of(new Heredoc("EOF", "<html>$TITLE</html>\n", true, false))), list.get(1));
      Copy two = (Copy) list.get(2);
      assertEquals(List.of("<<robots.txt", "<<humans.txt"), two.sources());
      assertEquals("755", two.chmod());
      assertEquals(List.of(new Heredoc("robots.txt", "User-agent: *\n", true, false),
          new Heredoc("humans.txt", "me\n", false, true)), two.heredocs());
      Copy crossed = (Copy) list.get(3);
      assertTrue(crossed.add());
      assertEquals(List.of(new Heredoc("X", "Y\n", true, false), new Heredoc("Y", "X\n", true, false)),
          crossed.heredocs());
    }

    @Test
    void copyMixesFilesAndHeredocs() {
      Copy copy = after(Copy.class, "COPY a.txt <<EOF b.txt /dir/", "inline", "EOF");
      assertEquals(List.of("a.txt", "<<EOF", "b.txt"), copy.sources());
      assertEquals("/dir/", copy.destination());
    }

    @Test
    void heredocAsDestination() {
      assertEquals("Envfile:2: COPY cannot take a heredoc as its destination",
          error("FROM a", "COPY a <<EOF", "x", "EOF"));
    }

    @Test
    void unterminatedHeredocIsReportedAtTheInstruction() {
      assertEquals("Envfile:3: unterminated heredoc <<EOF: no line \"EOF\" ends it",
          error("FROM a", "", "RUN <<EOF", "echo a", "EOF ", " EOF"));
      assertEquals("Envfile:2: unterminated heredoc <<B: no line \"B\" ends it",
          error("FROM a", "RUN <<A <<B", "A"));
    }

    @Test
    void delimiterWithCarriageReturn() {
      Run run = (Run) Envfile.parse("FROM a\nRUN <<EOF\r\necho\r\nEOF\r\n", F).instructions().get(1);
      assertEquals("echo\n", run.heredocs().get(0).content());
    }
  }

  @Nested
  class CmdEntrypointShell {
    @Test
    void forms() {
      assertEquals(Command.exec(List.of("python3", "-m", "http.server")),
          after(Cmd.class, "CMD [\"python3\", \"-m\", \"http.server\"]").command());
      assertEquals(Command.shell("python3 app.py"), after(Cmd.class, "CMD python3 app.py").command());
      assertEquals(Command.exec(List.of()), after(Cmd.class, "CMD []").command());
      assertEquals(Command.exec(List.of()), after(Entrypoint.class, "ENTRYPOINT []").command());
      assertEquals(Command.shell("exec top -b"), after(Entrypoint.class, "ENTRYPOINT exec top -b").command());
      assertEquals(Command.shell("[\"a\", 'b']"), after(Entrypoint.class, "ENTRYPOINT [\"a\", 'b']").command());
      assertEquals("Envfile:2: CMD needs a command", error("FROM a", "CMD"));
      assertEquals("Envfile:2: ENTRYPOINT needs a command", error("FROM a", "ENTRYPOINT"));
    }

    @Test
    void shell() {
      assertEquals(new ShellForm(2, "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]",
          List.of("/bin/bash", "-eo", "pipefail", "-c")), after(ShellForm.class,
          "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]"));
      assertEquals("Envfile:2: SHELL must be a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]",
          error("FROM a", "SHELL /bin/bash -c"));
      assertEquals("Envfile:2: SHELL must be a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]",
          error("FROM a", "SHELL"));
      assertEquals("Envfile:2: SHELL needs at least an executable, e.g. SHELL [\"/bin/bash\", \"-c\"]",
          error("FROM a", "SHELL []"));
    }
  }

  @Nested
  class CopyAdd {
    @Test
    void flagsAndForms() {
      assertEquals(new Copy(2, "COPY --from=build --chown=app:app --chmod=0644 a b /dst/", false, List.of("a", "b"),
          "/dst/", "build", "app:app", "0644", List.of()),
          after(Copy.class, "COPY --from=build --chown=app:app --chmod=0644 a b /dst/"));
      Copy json = after(Copy.class, "COPY [\"my file.txt\", \"<<EOF\", \"/dest dir/\"]");
      assertEquals(List.of("my file.txt", "<<EOF"), json.sources());
      assertEquals("/dest dir/", json.destination());
      assertEquals(List.of(), json.heredocs());
      Copy add = after(Copy.class, "ADD --chown=1000 data.tar.gz /data");
      assertTrue(add.add());
      assertEquals(List.of("data.tar.gz"), add.sources());
      assertEquals("1000", add.chown());
      assertNull(add.from());
      // Quotes are not special in the plain form: words split at spaces (use JSON for spaces).
      assertEquals(List.of("\"my", "file\""), after(Copy.class, "COPY \"my file\" /d").sources());
      assertEquals(List.of("${SRC}", "*.py"), after(Copy.class, "COPY ${SRC} *.py $DEST").sources());
    }

    @Test
    void quotedFlagValue() {
      assertEquals("a b", after(Copy.class, "COPY --chown=\"a b\" x y").chown());
    }

    @Test
    void errors() {
      assertEquals("Envfile:2: COPY needs a source and a destination", error("FROM a", "COPY onlyone"));
      assertEquals("Envfile:2: ADD needs a source and a destination", error("FROM a", "ADD"));
      assertEquals("Envfile:2: COPY needs a source and a destination", error("FROM a", "COPY [\"a\"]"));
      assertEquals("Envfile:2: unknown flag --from for ADD", error("FROM a", "ADD --from=x a b"));
      assertEquals("Envfile:2: unknown flag --frm for COPY", error("FROM a", "COPY --frm=x a b"));
      assertEquals("Envfile:2: COPY --from needs a value (--from=...)", error("FROM a", "COPY --from a b"));
      assertEquals("Envfile:2: COPY --from needs a value (--from=...)", error("FROM a", "COPY --from= a b"));
      assertEquals("Envfile:2: COPY --chown is given twice", error("FROM a", "COPY --chown=a --chown=b a b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"link", "parents", "exclude=*.tmp"})
    void unsupportedCopyFlags(String flag) {
      String name = flag.replaceAll("=.*", "");
      assertEquals("Envfile:2: COPY --" + name + " is not supported", error("FROM a", "COPY --" + flag + " a b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"link", "exclude=x", "checksum=sha256:abc", "keep-git-dir=true", "unpack"})
    void unsupportedAddFlags(String flag) {
      String name = flag.replaceAll("=.*", "");
      assertEquals("Envfile:2: ADD --" + name + " is not supported", error("FROM a", "ADD --" + flag + " a b"));
    }
  }

  @Nested
  class EnvLabelArg {
    @Test
    void envForms() {
      assertEquals(List.of(new KeyValue("A", "1"), new KeyValue("B", "\"x y\""), new KeyValue("C", ""),
          new KeyValue("D", "a\\ b"), new KeyValue("E", "'$HOME'"), new KeyValue("F", "x=y")),
          after(Env.class, "ENV A=1 B=\"x y\" C= D=a\\ b E='$HOME' F=x=y").vars());
      // The old form: the value is the rest of the line, raw.
      assertEquals(List.of(new KeyValue("PATH", "/opt/bin:$PATH  and \"more\"")),
          after(Env.class, "ENV PATH /opt/bin:$PATH  and \"more\"").vars());
      assertEquals(List.of(new KeyValue("A", "\"x\\\" y\"")), after(Env.class, "ENV A=\"x\\\" y\"").vars());
      assertEquals(List.of(new KeyValue("A", "1"), new KeyValue("B", "2")),
          after(Env.class, "ENV A=1 \\", "    B=2").vars());
    }

    @Test
    void envErrors() {
      assertEquals("Envfile:2: ENV needs NAME=VALUE", error("FROM a", "ENV"));
      assertEquals("Envfile:2: ENV A needs a value (ENV NAME=VALUE)", error("FROM a", "ENV A"));
      assertEquals("Envfile:2: ENV expects NAME=VALUE, not \"B\"", error("FROM a", "ENV A=1 B"));
      assertEquals("Envfile:2: ENV needs a name before '=' in \"=1\"", error("FROM a", "ENV =1"));
      assertEquals("Envfile:2: unknown flag --x for ENV", error("FROM a", "ENV --x=1 A=1"));
    }

    @Test
    void label() {
      assertEquals(new Label(2, "LABEL org.opencontainers.image.title=\"My lab\" version=1.0",
          List.of(new KeyValue("org.opencontainers.image.title", "\"My lab\""), new KeyValue("version", "1.0"))),
          after(Label.class, "LABEL org.opencontainers.image.title=\"My lab\" version=1.0"));
      assertEquals(List.of(new KeyValue("\"a b\"", "c")), after(Label.class, "LABEL \"a b\"=c").labels());
      assertEquals(List.of(new KeyValue("description", "a long one")),
          after(Label.class, "LABEL description a long one").labels());
      assertEquals("Envfile:2: LABEL needs NAME=VALUE", error("FROM a", "LABEL"));
    }

    @Test
    void arg() {
      assertEquals(List.of(new KeyValue("A", null), new KeyValue("B", "1"), new KeyValue("C", ""),
          new KeyValue("D", "\"x y\""), new KeyValue("E", "${A:-z}")),
          after(Arg.class, "ARG A B=1 C= D=\"x y\" E=${A:-z}").args());
      assertEquals("Envfile:2: ARG needs a name (ARG NAME or ARG NAME=DEFAULT)", error("FROM a", "ARG"));
      assertEquals("Envfile:2: ARG needs a name before '=' in \"=x\"", error("FROM a", "ARG =x"));
    }
  }

  @Nested
  class Simple {
    @Test
    void workdirUserStopsignalMaintainerExposeVolume() {
      assertEquals(new Workdir(2, "WORKDIR /my dir", "/my dir"), after(Workdir.class, "WORKDIR /my dir"));
      assertEquals("app:staff", after(User.class, "USER app:staff").user());
      assertEquals(new StopSignal(2, "STOPSIGNAL SIGTERM", "SIGTERM"), after(StopSignal.class, "STOPSIGNAL SIGTERM"));
      assertEquals(new Maintainer(2, "MAINTAINER Ada <ada@example.org>", "Ada <ada@example.org>"),
          after(Maintainer.class, "MAINTAINER Ada <ada@example.org>"));
      assertEquals(List.of("80", "443/tcp", "${PORT}/udp"),
          after(Expose.class, "EXPOSE 80 443/tcp ${PORT}/udp").ports());
      assertEquals(List.of("/data", "/out"), after(Volume.class, "VOLUME /data /out").paths());
      assertEquals(List.of("/my data", "/out"), after(Volume.class, "VOLUME [\"/my data\", \" /out \"]").paths());
    }

    @Test
    void needArguments() {
      assertEquals("Envfile:2: WORKDIR needs a path", error("FROM a", "WORKDIR"));
      assertEquals("Envfile:2: USER needs a user (USER name[:group])", error("FROM a", "USER   "));
      assertEquals("Envfile:2: STOPSIGNAL needs a signal", error("FROM a", "STOPSIGNAL"));
      assertEquals("Envfile:2: MAINTAINER needs a name", error("FROM a", "MAINTAINER"));
      assertEquals("Envfile:2: EXPOSE needs a port", error("FROM a", "EXPOSE"));
      assertEquals("Envfile:2: VOLUME needs a path", error("FROM a", "VOLUME"));
      assertEquals("Envfile:2: VOLUME needs a path", error("FROM a", "VOLUME []"));
      assertEquals("Envfile:2: VOLUME paths cannot be empty", error("FROM a", "VOLUME [\"/a\", \" \"]"));
      assertEquals("Envfile:2: unknown flag --p for EXPOSE", error("FROM a", "EXPOSE --p=1 80"));
    }
  }

  @Nested
  class Healthchecks {
    @Test
    void none() {
      assertEquals(new Healthcheck(2, "HEALTHCHECK NONE", null, 0, 0, 0, 0, 0),
          after(Healthcheck.class, "HEALTHCHECK NONE"));
      assertNull(after(Healthcheck.class, "healthcheck none").command());
      assertEquals("Envfile:2: HEALTHCHECK NONE takes no arguments or options",
          error("FROM a", "HEALTHCHECK NONE x"));
      assertEquals("Envfile:2: HEALTHCHECK NONE takes no arguments or options",
          error("FROM a", "HEALTHCHECK --interval=1s NONE"));
    }

    @Test
    void cmdWithOptions() {
      Healthcheck h = after(Healthcheck.class, "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2.5s "
          + "--start-interval=1h --retries=3 CMD curl -f http://localhost/ || exit 1");
      assertEquals(Command.shell("curl -f http://localhost/ || exit 1"), h.command());
      assertEquals(90_000_000_000L, h.interval());
      assertEquals(500_000_000L, h.timeout());
      assertEquals(2_500_000_000L, h.startPeriod());
      assertEquals(3_600_000_000_000L, h.startInterval());
      assertEquals(3, h.retries());
      Healthcheck exec = after(Healthcheck.class, "HEALTHCHECK cmd [\"/bin/check\", \"-q\"]");
      assertEquals(Command.exec(List.of("/bin/check", "-q")), exec.command());
      assertEquals(0, exec.interval());
      assertEquals(0, exec.retries());
      assertEquals(0, after(Healthcheck.class, "HEALTHCHECK --interval=0s --retries=0 CMD true").interval());
    }

    @Test
    void errors() {
      assertEquals("Envfile:2: HEALTHCHECK needs NONE, or CMD and a command", error("FROM a", "HEALTHCHECK"));
      assertEquals("Envfile:2: HEALTHCHECK needs NONE or CMD, not \"RUN\"", error("FROM a", "HEALTHCHECK RUN x"));
      assertEquals("Envfile:2: HEALTHCHECK CMD needs a command", error("FROM a", "HEALTHCHECK CMD"));
      assertEquals("Envfile:2: unknown flag --every for HEALTHCHECK",
          error("FROM a", "HEALTHCHECK --every=1s CMD x"));
      assertEquals("Envfile:2: HEALTHCHECK --interval is not a duration like 30s, 1m30s or 500ms: \"30\"",
          error("FROM a", "HEALTHCHECK --interval=30 CMD x"));
      assertEquals("Envfile:2: HEALTHCHECK --timeout is not a duration like 30s, 1m30s or 500ms: \"5 s\"",
          error("FROM a", "HEALTHCHECK --timeout=\"5 s\" CMD x"));
      assertEquals("Envfile:2: HEALTHCHECK --timeout must be at least 1ms, not \"10us\"",
          error("FROM a", "HEALTHCHECK --timeout=10us CMD x"));
      assertEquals("Envfile:2: HEALTHCHECK --timeout must be at least 1ms, not \"-1s\"",
          error("FROM a", "HEALTHCHECK --timeout=-1s CMD x"));
      assertEquals("Envfile:2: HEALTHCHECK --retries must be a whole number of at least 0, not \"-1\"",
          error("FROM a", "HEALTHCHECK --retries=-1 CMD x"));
      assertEquals("Envfile:2: HEALTHCHECK --retries must be a whole number of at least 0, not \"two\"",
          error("FROM a", "HEALTHCHECK --retries=two CMD x"));
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "1ns, 1", "1us, 1000", "1µs, 1000", "1.5ms, 1500000", "2s, 2000000000",
        "1m30s, 90000000000", "1h1m1s, 3661000000000", ".5s, 500000000", "1.s, 1000000000", "+3s, 3000000000",
        "-2ms, -2000000", "1h0.5m, 3630000000000"})
    void goDurations(String text, long nanos) {
      assertEquals(nanos, EnvfileWords.duration(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1", "s", "1x", "1.2.3s", ".s", "1s2", "-", "9999999999h", "1 s"})
    void notGoDurations(String text) {
      assertEquals(Long.MIN_VALUE, EnvfileWords.duration(text));
    }
  }

  @Nested
  class MavenCoordinates {
    @Test
    void coordinates() {
      assertEquals(new Maven(2, "MAVEN org.apache.commons:commons-csv:1.10.0 tech.tablesaw:tablesaw-core:jar:0.43.1",
          List.of("org.apache.commons:commons-csv:1.10.0", "tech.tablesaw:tablesaw-core:jar:0.43.1")),
          after(Maven.class, "MAVEN org.apache.commons:commons-csv:1.10.0 tech.tablesaw:tablesaw-core:jar:0.43.1"));
      assertEquals(List.of("org.x:y:jar:linux-x86_64:1.0", "org.x:y:${V:-1.0}", "${G}:y:2"),
          after(Maven.class, "MAVEN org.x:y:jar:linux-x86_64:1.0 org.x:y:${V:-1.0} ${G}:y:2").coordinates());
    }

    @ParameterizedTest
    @ValueSource(strings = {"junit", "junit:junit", "a::1", "a:b:", ":b:1", "a:b:c:d:e:1", "a b:c:1", "a:b:1/2",
        "a:b:[1.0,2.0)"})
    void badCoordinates(String c) {
      assertFalse(EnvfileWords.isMavenCoordinate(c), c);
    }

    @Test
    void errors() {
      assertEquals("Envfile:2: MAVEN needs at least one coordinate (group:artifact:version)", error("FROM a", "MAVEN"));
      assertEquals("Envfile:2: MAVEN coordinate \"junit:junit\" is not group:artifact:version "
          + "(or group:artifact:extension[:classifier]:version)", error("FROM a", "MAVEN a:b:1 junit:junit"));
    }
  }

  @Nested
  class Unknown {
    @Test
    void unknownInstructions() {
      assertEquals("Envfile:2: unknown instruction \"FOO\"", error("FROM a", "FOO bar"));
      assertEquals("Envfile:3: unknown instruction \"COPPY\" (did you mean COPY?)", error("FROM a", "", "COPPY a b"));
      assertEquals("Envfile:2: unknown instruction \"wrkdir\" (did you mean WORKDIR?)", error("FROM a", "wrkdir /a"));
      assertEquals("Envfile:1: unknown instruction \"FORM\" (did you mean FROM?)", error("FORM a"));
      assertEquals("Envfile:2: ONBUILD is not supported", error("FROM a", "ONBUILD RUN make"));
      assertEquals("Envfile:2: ONBUILD is not supported", error("FROM a", "onbuild ADD . /app"));
    }

    @Test
    void theFirstErrorWins() {
      assertEquals("Envfile:3: unknown instruction \"BAD\"", error("FROM a", "RUN ok", "BAD", "WORSE"));
    }
  }

  @Test
  void aTypicalEnvfile() {
    Envfile envfile = parse(
        "# syntax=docker/dockerfile:1",
        "ARG DEBIAN=bookworm",
        "FROM debian:${DEBIAN} AS base",
        "ENV LANG=C.UTF-8 \\",
        "    PIP_NO_CACHE_DIR=1",
        "RUN <<EOF",
        "set -eux",
        "apt-get update",
        "apt-get install -y --no-install-recommends python3 python3-pip",
        "EOF",
        "WORKDIR /lab",
        "COPY --chown=1000:1000 requirements.txt .",
        "RUN --network=default pip install -r requirements.txt",
        "MAVEN org.apache.commons:commons-math3:3.6.1",
        "",
        "FROM base AS final",
        "COPY --from=base /lab /lab",
        "USER 1000",
        "EXPOSE 8888",
        "HEALTHCHECK --interval=30s CMD [\"curl\", \"-f\", \"localhost:8888\"]",
        "CMD [\"python3\", \"analysis.py\"]");
    List<Instruction> list = envfile.instructions();
    assertEquals(List.of(2, 3, 4, 6, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21),
        list.stream().map(Instruction::line).toList());
    assertEquals(List.of("ARG", "FROM", "ENV", "RUN", "WORKDIR", "COPY", "RUN", "MAVEN", "FROM", "COPY", "USER",
        "EXPOSE", "HEALTHCHECK", "CMD"), list.stream().map(i -> i.text().split(" ")[0]).toList());
  }
}
