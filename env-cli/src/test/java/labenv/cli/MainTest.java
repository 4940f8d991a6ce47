package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir Path home;

  @Test
  void helpListsTheVerbsAndTheExitCodes() {
    var r = new Cli(home).run("--help");
    assertEquals(0, r.exitCode(), r::toString);
    assertTrue(r.out().contains("completion"), r::toString);
    assertTrue(r.out().contains("bad usage or bad input"), r::toString);
  }

  @Test
  void everyVerbHasHelpThatExitsZero() {
    var cl = Main.commandLine(new java.io.PrintWriter(new java.io.StringWriter()),
        new java.io.PrintWriter(new java.io.StringWriter()), java.util.Map.of());
    assertTrue(cl.getSubcommands().size() >= 12, cl.getSubcommands().keySet()::toString);
    for (String verb : cl.getSubcommands().keySet()) {
      var r = new Cli(home).run(verb, "--help");
      assertEquals(0, r.exitCode(), verb + ": " + r);
      assertTrue(r.out().startsWith("Usage: labenv " + cl.getSubcommands().get(verb).getCommandName()), r::toString);
    }
  }

  @Test
  void versionNamesTheProjectVersion() {
    var r = new Cli(home).run("--version");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().matches("(?s)labenv \\d+\\.\\d+\\.\\d+.*"), r::toString);
  }

  @Test
  void anUnknownVerbIsBadUsageWithOneLineAndAHint() {
    var r = new Cli(home).run("imagez");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().startsWith("labenv: Unmatched argument at index 0: 'imagez'"), r::toString);
    assertTrue(r.err().contains("Try 'labenv --help'"), r::toString);
    assertTrue(!r.err().contains("Exception"), r::toString);
  }

  @Test
  void completionPrintsABashScriptThatNamesTheVerbs() {
    var r = new Cli(home).run("completion");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().contains("complete -F"), r::toString);
    for (String verb : List.of("images", "run", "ps", "logs", "exec", "rm", "volume", "runtime", "completion")) {
      assertTrue(r.out().contains(" " + verb + " ") || r.out().contains(" " + verb + "\""), verb + ": " + r.out());
    }
  }
}
