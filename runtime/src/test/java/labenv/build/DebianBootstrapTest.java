package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebianBootstrapTest {
  @TempDir Path apt;

  @Test
  void theDefaultMirrorIsTheHostsFirstDebianArchive() throws Exception {
    assertEquals(DebianBootstrap.DEFAULT_MIRROR, DebianBootstrap.defaultMirror(apt), "no sources at all");
    Files.createDirectories(apt.resolve("sources.list.d"));
    Files.writeString(apt.resolve("sources.list.d/nodesource.sources"),
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n");
    Files.writeString(apt.resolve("sources.list.d/zz.list.disabled"), "deb http://ignored.example/debian x main\n");
    assertEquals(DebianBootstrap.DEFAULT_MIRROR, DebianBootstrap.defaultMirror(apt), "no Debian archive");
    Files.writeString(apt.resolve("sources.list.d/debian.sources"), """
        Types: deb
        URIs: http://off.example/debian
        Suites: bookworm
        Enabled: no

        Types: deb-src
        URIs: http://src.example/debian

        Types: deb
        # a comment
        URIs: http://deb.debian.org/debian-security http://ftp.de.debian.org/debian/
        Suites: bookworm-security
        """);
    assertEquals("http://ftp.de.debian.org/debian/", DebianBootstrap.defaultMirror(apt));
    Files.writeString(apt.resolve("sources.list"),
        "# deb http://commented.example/debian bookworm main\n"
        + "deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://localhost:3142/deb.debian.org/debian bookworm main\n");
    assertEquals("http://localhost:3142/deb.debian.org/debian", DebianBootstrap.defaultMirror(apt),
        "sources.list comes first, as apt reads it");
  }

  @Test
  void theCommandIsReproducibleAndLeavesOutTheHostsFiles() {
    DebianBootstrap.Options o = new DebianBootstrap.Options("bookworm", "apt", List.of("zsh", "curl", "zsh"),
        List.of("http://m.example/debian", "deb http://m.example/debian-security bookworm-security main"), "arm64", 7);
    List<String> cmd = DebianBootstrap.command("/usr/bin/mmdebstrap", o, Path.of("/s/rootfs"), true);
    assertEquals(List.of("/usr/bin/mmdebstrap", "--mode=root", "--variant=apt", "--architectures=arm64",
        "--format=tar", "--skip=output/dev",
        "--customize-hook=rm -f \"$1/etc/hostname\"",
        "--customize-hook=rm -f \"$1/etc/resolv.conf\" && : > \"$1/etc/resolv.conf\" && chmod 0644 \"$1/etc/resolv.conf\"",
        "--include=curl,zsh", "--", "bookworm", "/s/rootfs", "http://m.example/debian",
        "deb http://m.example/debian-security bookworm-security main"), cmd);
    assertEquals("--mode=unshare", DebianBootstrap.command("mmdebstrap", o, Path.of("t"), false).get(1));
    assertEquals("labenv bootstrap debian:bookworm --variant apt --arch arm64 --include curl,zsh "
        + "--mirror http://m.example/debian --mirror 'deb http://m.example/debian-security bookworm-security main'",
        o.commandLine());
  }

  @Test
  void badOptionsAreBadInputBeforeAnythingRuns() {
    DebianBootstrap.Options ok = new DebianBootstrap.Options("bookworm", "minbase", List.of("python3=3.11.2-1+b1"),
        List.of("http://deb.debian.org/debian"), "amd64", 0);
    ok.check();
    for (DebianBootstrap.Options bad : List.of(ok.withVariant("buildd2"), ok.withInclude(List.of("rm -rf")),
        ok.withMirrors(List.of()), ok.withMirrors(List.of("deb.debian.org")), ok.withArchitecture("x86_64"),
        ok.withSourceDateEpoch(-1))) {
      LabenvException e = assertThrows(LabenvException.class, bad::check, bad.toString());
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    }
  }

  @Test
  void debianArchitecturesAreOciPlatforms() {
    assertEquals("linux/amd64", DebianBootstrap.platform("amd64").toString());
    assertEquals("linux/arm64/v8", DebianBootstrap.platform("arm64").toString());
    assertEquals("linux/arm/v7", DebianBootstrap.platform("armhf").toString());
    assertEquals("linux/ppc64le", DebianBootstrap.platform("ppc64el").toString());
    assertEquals(Platform.host().architecture(),
        DebianBootstrap.platform(DebianBootstrap.hostArchitecture()).architecture());
  }

  @Test
  void aFailureSaysAptsFirstErrorNotMmdebstrapsLast() {
    ArrayDeque<String> tail = new ArrayDeque<>(List.of("I: running apt-get update...",
        "E: The repository 'http://deb.debian.org/debian nosuch Release' does not have a Release file.",
        "E: apt-get update failed", "E: mmdebstrap failed to run"));
    assertEquals(": The repository 'http://deb.debian.org/debian nosuch Release' does not have a Release file.",
        DebianBootstrap.firstError(tail));
    assertEquals(": tar: broken", DebianBootstrap.firstError(new ArrayDeque<>(List.of("I: x", "tar: broken", ""))));
    assertTrue(DebianBootstrap.firstError(new ArrayDeque<>()).isEmpty());
  }
}
