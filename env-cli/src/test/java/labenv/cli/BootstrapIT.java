package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv bootstrap} as a user runs it: the packaged CLI in separate processes, each bootstrap into its own
 * fresh store, the image then run by {@code labenv run}.
 */
class BootstrapIT {
  @TempDir Path tmp;

  static CliProcessIT.Proc labenv(Path home, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", CliProcessIT.JAR.toString()));
    cmd.addAll(List.of(args));
    return CliProcessIT.exec(cmd, home);
  }

  /** The digest of "NAME DIGEST", what bootstrap prints. */
  static String digest(CliProcessIT.Proc p, String name) {
    assertEquals(0, p.code(), p::toString);
    String[] words = p.out().trim().split(" ");
    assertEquals(name, words[0], p::toString);
    assertTrue(words[1].matches("sha256:[0-9a-f]{64}"), p::toString);
    return words[1];
  }

  static boolean mmdebstrapInstalled() {
    return Files.isExecutable(Path.of("/usr/bin/mmdebstrap"));
  }

  @Test
  void busyboxTwiceIsOneDigestAndRuns() throws Exception {
    assumeTrue(Files.isRegularFile(Path.of("/bin/busybox")), "busybox-static is not installed");
    Path one = tmp.resolve("one");
    Path two = tmp.resolve("two");
    String a = digest(labenv(one, "bootstrap", "busybox"), "busybox:latest");
    String b = digest(labenv(two, "bootstrap", "busybox"), "busybox:latest");
    assertEquals(a, b, "the same busybox and epoch");
    CliProcessIT.Proc hi = labenv(one, "run", "--rm", "busybox", "echo", "hi");
    assertEquals(new CliProcessIT.Proc(0, "hi\n", ""), hi);
    // the image's own command is sh: with no input it ends at once, successfully
    CliProcessIT.Proc cmd = labenv(one, "run", "--rm", "busybox");
    assertEquals(0, cmd.code(), cmd::toString);
    CliProcessIT.Proc tools = labenv(one, "run", "--rm", "busybox", "sh", "-c", "wget --help 2>&1 | head -1; "
        + "stat -c %a /tmp; id nobody");
    assertEquals(0, tools.code(), tools::toString);
    assertTrue(tools.out().lines().anyMatch(l -> l.startsWith("BusyBox v")), tools::toString);
    assertTrue(tools.out().contains("1777\n"), tools::toString);
    assertTrue(tools.out().contains("uid=65534(nobody)"), tools::toString);

    String tagged = digest(labenv(one, "bootstrap", "busybox", "-t", "bb:1", "--source-date-epoch", "1700000000"),
        "bb:1");
    assertFalse(tagged.equals(a), "another epoch, another image");
    CliProcessIT.Proc json = labenv(two, "bootstrap", "busybox", "--format", "json");
    assertEquals(0, json.code(), json::toString);
    assertTrue(json.out().contains("\"digest\" : \"" + a + "\""), json::toString);
  }

  @Test
  void whatCannotBeBootstrappedIsBadInputOnOneLine() throws Exception {
    Path home = tmp.resolve("home");
    for (String[] args : List.of(new String[] {"bootstrap", "ubuntu:jammy"},
        new String[] {"bootstrap", "debian:stable"},
        new String[] {"bootstrap", "busybox", "--variant", "apt"},
        new String[] {"bootstrap", "debian:bookworm", "--variant", "huge"},
        new String[] {"bootstrap", "debian:bookworm", "--include", "a b"},
        new String[] {"bootstrap", "debian:bookworm", "-t", "Bad Name"})) {
      CliProcessIT.Proc p = labenv(home, args);
      assertEquals(2, p.code(), String.join(" ", args) + ": " + p);
      assertEquals(1, p.err().lines().count(), p::toString);
      assertTrue(p.err().startsWith("labenv: "), p::toString);
    }
  }

  @Test
  void aFailingMmdebstrapShowsItsLastLinesAndLeavesNothingInTheStore() throws Exception {
    assumeTrue(mmdebstrapInstalled(), "mmdebstrap is not installed");
    Path home = tmp.resolve("home");
    digest(labenv(home, "bootstrap", "busybox"), "busybox:latest");
    // nothing listens on the discard port: apt fails at once, without the network
    CliProcessIT.Proc p = labenv(home, "bootstrap", "debian:bookworm", "--mirror", "http://127.0.0.1:9/debian");
    assertEquals(1, p.code(), p::toString);
    List<String> lines = p.err().lines().toList();
    assertTrue(lines.size() > 3 && lines.size() <= BootstrapCommand.TAIL_LINES + 1, p::toString);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("E: ") && l.contains("127.0.0.1:9")), p::toString);
    String last = lines.get(lines.size() - 1);
    assertTrue(last.startsWith("labenv: bootstrap debian:bookworm: mmdebstrap failed (exit "), last);
    assertTrue(last.contains("127.0.0.1"), "the cause, apt's, not mmdebstrap's last word: " + last);
    assertFalse(Files.exists(home.resolve("ingest")), "no staging directory left");
    CliProcessIT.Proc images = labenv(home, "images", "--format", "json");
    assertFalse(images.out().contains("debian"), images::toString);
  }

  /** Needs a Debian mirror (the host's) and about a minute: {@code -Dit.excludedGroups=slow} leaves it out. */
  @Test
  @Tag("slow")
  void debianMinbaseTwiceWithOneEpochIsOneDigestAndRuns() throws Exception {
    assumeTrue(mmdebstrapInstalled(), "mmdebstrap is not installed");
    Path one = tmp.resolve("one");
    Path two = tmp.resolve("two");
    long start = System.nanoTime();
    String a = digest(labenv(one, "bootstrap", "debian:bookworm", "--variant", "minbase", "--source-date-epoch",
        "0"), "debian:bookworm");
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    String b = digest(labenv(two, "bootstrap", "debian:bookworm", "--variant", "minbase", "--source-date-epoch",
        "0"), "debian:bookworm");
    assertEquals(a, b, "the same mirror state and epoch");
    CliProcessIT.Proc version = labenv(one, "run", "--rm", "debian:bookworm", "cat", "/etc/debian_version");
    assertEquals(0, version.code(), version::toString);
    assertTrue(version.out().trim().matches("12\\.[0-9]+"), version::toString);
    CliProcessIT.Proc shell = labenv(one, "run", "--rm", "debian:bookworm", "sh", "-c",
        "test ! -e /etc/hostname && test ! -s /etc/resolv.conf && ! ls /var/lib/apt/lists/*_Packages 2>/dev/null"
            + " && dpkg-query -W -f '${Package}\\n' apt bash");
    assertEquals(new CliProcessIT.Proc(0, "apt\nbash\n", ""), shell);
    CliProcessIT.Proc images = labenv(one, "images", "--format", "json");
    System.out.println("BootstrapIT: debian:bookworm minbase in " + seconds + " s; " + images.out());
  }
}
