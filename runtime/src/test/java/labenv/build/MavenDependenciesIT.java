package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Digest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against Maven Central itself: a small artifact with one transitive dependency. */
@Tag("network")
class MavenDependenciesIT {
  private static final List<String> REQUESTED = List.of("org.apache.commons:commons-text:1.10.0");
  // What Central serves for these releases, which never change once published.
  private static final Digest TEXT =
      Digest.parse("sha256:770cd903fa7b604d1f7ef7ba17f84108667294b2b478be8ed1af3bffb4ae0018");
  private static final Digest LANG3 =
      Digest.parse("sha256:d919d904486c037f8d193412da0c92e22a9fa24230b9d67a57855c5c31c7e94e");

  @TempDir Path tmp;

  @Test
  void resolvesPinsAndRebuildsOfflineFromTheLocalRepository() throws IOException {
    Path local = tmp.resolve("store/maven");
    MavenDependencies central = new MavenDependencies(local, MavenDependencies.CENTRAL);
    List<MavenDependencies.ResolvedArtifact> first = central.resolve(REQUESTED);
    assertEquals(List.of(
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0"), TEXT, 238400,
            MavenDependencies.CENTRAL),
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-lang3:3.12.0"), LANG3, 587402,
            MavenDependencies.CENTRAL)),
        first.stream().map(MavenDependencies.ResolvedArtifact::pin).toList());
    Lockfile.Maven pins = MavenDependencies.pins(REQUESTED, first);

    // The second build has no network at all: a repository URL nothing listens on.
    List<MavenDependencies.ResolvedArtifact> offline = new MavenDependencies(local, closedPort()).resolvePinned(
        REQUESTED, pins);
    assertEquals(first.stream().map(a -> a.coordinates() + " " + a.digest() + " " + a.file()).toList(),
        offline.stream().map(a -> a.coordinates() + " " + a.digest() + " " + a.file()).toList());

    // A tampered jar in the local repository is caught against the pin and fetched again from Central.
    Path lang3 = first.get(1).file();
    byte[] good = Files.readAllBytes(lang3);
    Files.write(lang3, new byte[] {'P', 'K', 3, 4});
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, closedPort()).resolvePinned(REQUESTED, pins));
    assertTrue(e.getMessage().startsWith("cannot reach Maven repository"), e.getMessage());
    List<MavenDependencies.ResolvedArtifact> healed = central.resolvePinned(REQUESTED, pins);
    assertEquals(LANG3, healed.get(1).digest());
    assertEquals(Digest.of(good), Digest.of(Files.readAllBytes(lang3)));
  }

  @Test
  void aPinThatCentralDoesNotServeFailsNamingTheArtifactAndBothDigests() {
    Path local = tmp.resolve("store/maven");
    Digest wrong = Digest.of("not commons-lang3".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Lockfile.Maven pins = new Lockfile.Maven(List.of(MavenCoordinates.parse(REQUESTED.get(0))), List.of(
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0"), TEXT, 238400,
            MavenDependencies.CENTRAL),
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-lang3:3.12.0"), wrong, 587402,
            MavenDependencies.CENTRAL)));
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, MavenDependencies.CENTRAL).resolvePinned(REQUESTED, pins));
    assertEquals(LabenvException.Kind.FAILED, e.kind());
    assertEquals("maven artifact org.apache.commons:commons-lang3:3.12.0: labenv.lock pins " + wrong
        + " but Maven Central (https://repo.maven.apache.org/maven2/) served " + LANG3
        + "; if the new bytes are trusted, run `labenv lock` to accept them", e.getMessage());
    // commons-text matched its pin and stays; the refused bytes do not.
    assertTrue(Files.exists(local.resolve("org/apache/commons/commons-text/1.10.0/commons-text-1.10.0.jar")));
    assertFalse(Files.exists(local.resolve("org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar")));
  }

  @Test
  void anArtifactCentralDoesNotHaveIsBadInput() {
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(tmp.resolve("m2"), MavenDependencies.CENTRAL)
            .resolve(List.of("org.apache.commons:commons-text:0.0.0-no-such-release")));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith("maven artifact org.apache.commons:commons-text:0.0.0-no-such-release: not"
        + " found in Maven Central"), e.getMessage());
  }

  private static String closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "http://127.0.0.1:" + s.getLocalPort() + "/maven2/";
    }
  }
}
