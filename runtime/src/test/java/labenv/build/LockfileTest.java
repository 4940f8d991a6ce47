package labenv.build;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.image.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockfileTest {
  @TempDir Path tmp;

  private static final Digest BOOKWORM = Digest.of("bookworm".getBytes(UTF_8));
  private static final Digest TEXT = Digest.of("text".getBytes(UTF_8));
  private static final Digest LANG = Digest.of("lang".getBytes(UTF_8));

  static Lockfile sample() {
    return Lockfile.of(
        List.of(new Lockfile.BaseImage("build", "debian:bookworm", BOOKWORM),
            new Lockfile.BaseImage("1", "scratch", Digest.of(new byte[0]))),
        new Lockfile.Debian("amd64", Map.of("libssl3", "3.0.11-1~deb12u1", "curl", "7.88.1-10+deb12u5",
            "libc6:i386", "2.36-9+deb12u4")),
        Map.of("numpy", "1.26.4", "pandas", "2.1.4"),
        Map.of("data.table", "1.14.8"),
        new Lockfile.Maven(List.of(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0")), List.of(
            new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0"), TEXT, 238400,
                MavenDependencies.CENTRAL),
            new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-lang3:3.12.0"), LANG, 587402,
                MavenDependencies.CENTRAL))));
  }

  @Test
  void roundTripsThroughTheFile() {
    Path file = tmp.resolve(Lockfile.FILE_NAME);
    Lockfile lock = sample();
    lock.write(file);
    Lockfile back = Lockfile.read(file);
    assertEquals(lock, back);
    assertEquals(List.of(), Lockfile.compare(lock, back));
    // Written again, byte for byte the same.
    assertEquals(lock.text(), back.text());
  }

  @Test
  void theTextIsSortedOnePackagePerLine() throws IOException {
    Path file = tmp.resolve(Lockfile.FILE_NAME);
    sample().write(file);
    String text = Files.readString(file);
    assertTrue(text.startsWith("{\n  \"lockfileVersion\": 1,\n"), text);
    assertTrue(text.endsWith("}\n"));
    List<String> lines = text.lines().toList();
    int curl = lines.indexOf("      \"curl\": \"7.88.1-10+deb12u5\",");
    assertTrue(curl > 0, text);
    assertEquals("      \"libc6:i386\": \"2.36-9+deb12u4\",", lines.get(curl + 1));
    assertEquals("      \"libssl3\": \"3.0.11-1~deb12u1\"", lines.get(curl + 2));
    // Maven artifacts stay in classpath order (text before lang3), not sorted.
    assertTrue(text.indexOf("commons-text:1.10.0\"") < text.indexOf("commons-lang3:3.12.0\""));
    assertTrue(text.contains("\"digest\": \"" + TEXT + "\""));
    assertTrue(text.contains("\"stage\": \"build\""));
  }

  @Test
  void aCorruptFileIsBadInputNamingIt() throws IOException {
    Path file = tmp.resolve(Lockfile.FILE_NAME);
    Files.writeString(file, "{\"lockfileVersion\": 1, \"debian\": {\"packages\": {\"a\": ");
    LabenvException e = assertThrows(LabenvException.class, () -> Lockfile.read(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(file + ": invalid JSON"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));

    Files.writeString(file, "{\"lockfileVersion\": 7}");
    e = assertThrows(LabenvException.class, () -> Lockfile.read(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("lockfileVersion 7"),
        e.getMessage());

    Files.writeString(file, "{\"name\": \"package.json perhaps\"}");
    e = assertThrows(LabenvException.class, () -> Lockfile.read(file));
    assertTrue(e.getMessage().contains("not a labenv lock file"), e.getMessage());

    Files.writeString(file, "{\"lockfileVersion\": 1, \"maven\": {\"artifacts\": [{\"coordinates\": \"a:b:1\","
        + " \"digest\": \"sha256:nothex\", \"size\": 1}]}}");
    e = assertThrows(LabenvException.class, () -> Lockfile.read(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("maven.artifacts[0].digest"),
        e.getMessage());

    Files.writeString(file, "{\"lockfileVersion\": 1, \"maven\": {\"requested\": [\"just-a-name\"]}}");
    e = assertThrows(LabenvException.class, () -> Lockfile.read(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().contains("just-a-name"), e.getMessage());

    LabenvException missing = assertThrows(LabenvException.class, () -> Lockfile.read(tmp.resolve("nope.lock")));
    assertEquals(LabenvException.Kind.BAD_INPUT, missing.kind());
    assertTrue(missing.getMessage().contains("labenv lock"), missing.getMessage());
  }

  @Test
  void compareFindsWhatChangedWasAddedOrRemoved() {
    Lockfile locked = sample();
    Lockfile actual = Lockfile.of(
        List.of(new Lockfile.BaseImage("build", "debian:bookworm", Digest.of("newer".getBytes(UTF_8))),
            new Lockfile.BaseImage("1", "scratch", Digest.of(new byte[0]))),
        new Lockfile.Debian("amd64", Map.of("libssl3", "3.0.13-1~deb12u1", "curl", "7.88.1-10+deb12u5",
            "wget", "1.21.3-1+b2")),
        Map.of("numpy", "1.26.4", "pandas", "2.1.4"),
        Map.of(),
        new Lockfile.Maven(List.of(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0")), List.of(
            new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0"),
                Digest.of("tampered".getBytes(UTF_8)), 238400, null),
            new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-lang3:3.13.0"), LANG, 587402,
                null))));
    List<Lockfile.Drift> drifts = Lockfile.compare(locked, actual);
    assertEquals(List.of(
        new Lockfile.Drift("base image", "build", "debian:bookworm@" + BOOKWORM,
            "debian:bookworm@" + Digest.of("newer".getBytes(UTF_8))),
        new Lockfile.Drift("debian", "libc6:i386", "2.36-9+deb12u4", null),
        new Lockfile.Drift("debian", "libssl3", "3.0.11-1~deb12u1", "3.0.13-1~deb12u1"),
        new Lockfile.Drift("debian", "wget", null, "1.21.3-1+b2"),
        new Lockfile.Drift("r", "data.table", "1.14.8", null),
        new Lockfile.Drift("maven", "org.apache.commons:commons-text", "1.10.0 (" + TEXT + ")",
            "1.10.0 (" + Digest.of("tampered".getBytes(UTF_8)) + ")"),
        new Lockfile.Drift("maven", "org.apache.commons:commons-lang3", "3.12.0", "3.13.0")), drifts);

    String report = Lockfile.report(drifts, "/work/analysis/labenv.lock");
    List<String> lines = report.lines().toList();
    assertEquals("/work/analysis/labenv.lock: the build differs from the lock in 7 places", lines.get(0));
    assertEquals("  debian package libssl3: 3.0.11-1~deb12u1 \u2192 3.0.13-1~deb12u1", lines.get(3));
    assertEquals("  debian package libc6:i386: removed (was 2.36-9+deb12u4)", lines.get(2));
    assertEquals("  debian package wget: added (1.21.3-1+b2)", lines.get(4));
    assertEquals("  R package data.table: removed (was 1.14.8)", lines.get(5));
    assertEquals("  maven artifact org.apache.commons:commons-lang3: 3.12.0 \u2192 3.13.0", lines.get(7));
    assertTrue(lines.get(1).startsWith("  base image of stage build: debian:bookworm@sha256:"), lines.get(1));
    assertTrue(lines.get(8).contains("run `labenv lock` again") && lines.get(8).contains("/work/analysis/labenv.lock"),
        lines.get(8));
  }

  @Test
  void compareSeesArchitectureRequestsAndClasspathOrder() {
    Lockfile locked = sample();
    Lockfile.Maven m = locked.maven();
    Lockfile actual = Lockfile.of(locked.baseImages(), new Lockfile.Debian("arm64", locked.debian().packages()),
        locked.python(), locked.r(),
        new Lockfile.Maven(List.of(MavenCoordinates.parse("org.apache.commons:commons-text:1.11.0")),
            List.of(m.artifacts().get(1), m.artifacts().get(0))));
    List<Lockfile.Drift> drifts = Lockfile.compare(locked, actual);
    assertEquals(List.of(
        new Lockfile.Drift("debian", Lockfile.ARCHITECTURE, "amd64", "arm64"),
        new Lockfile.Drift("maven request", "org.apache.commons:commons-text", "1.10.0", "1.11.0"),
        new Lockfile.Drift("maven", Lockfile.CLASSPATH_ORDER,
            "org.apache.commons:commons-text org.apache.commons:commons-lang3",
            "org.apache.commons:commons-lang3 org.apache.commons:commons-text")), drifts);
    String report = Lockfile.report(drifts, "labenv.lock");
    assertTrue(report.contains("\n  debian architecture: amd64 \u2192 arm64\n"), report);
    assertTrue(report.contains("\n  MAVEN instruction org.apache.commons:commons-text: 1.10.0 \u2192 1.11.0\n"), report);
  }

  @Test
  void theRepositoryIsANoteNotPartOfThePin() {
    Lockfile locked = sample();
    Lockfile.Maven m = locked.maven();
    List<Lockfile.MavenArtifact> mirrored = m.artifacts().stream()
        .map(a -> new Lockfile.MavenArtifact(a.coordinates(), a.digest(), a.size(), "https://mirror.example/maven2/"))
        .toList();
    Lockfile actual = Lockfile.of(locked.baseImages(), locked.debian(), locked.python(), locked.r(),
        new Lockfile.Maven(m.requested(), mirrored));
    assertEquals(List.of(), Lockfile.compare(locked, actual));
    assertEquals("labenv.lock: the build matches the lock\n", Lockfile.report(List.of(), "labenv.lock"));
  }

  @Test
  void fromAnInventory() throws IOException {
    Path root = tmp.resolve("root");
    Files.createDirectories(root.resolve("var/lib/dpkg"));
    Files.writeString(root.resolve("var/lib/dpkg/status"), "Package: dpkg\nStatus: install ok installed\n"
        + "Architecture: arm64\nVersion: 1.21.22\n");
    Lockfile lock = Lockfile.of(List.of(), Inventory.of(root), null);
    assertEquals(new Lockfile.Debian("arm64", Map.of("dpkg", "1.21.22")), lock.debian());
    assertEquals(Lockfile.read(write(lock)), lock);
  }

  @Test
  void coordinates() {
    assertEquals("g:a:1", MavenCoordinates.parse("g:a:1").toString());
    assertEquals("g:a:jar:sources:1", MavenCoordinates.parse("g:a:jar:sources:1").toString());
    assertEquals("g:a:pom:1", MavenCoordinates.parse("g:a:pom:1").toString());
    assertEquals("g:a:1", MavenCoordinates.parse("g:a:jar:1").toString());
    assertEquals("org/apache/commons/commons-text/1.10.0", MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0")
        .directory());
    assertEquals("a-1-linux.so", MavenCoordinates.parse("g:a:so:linux:1").fileName());
    for (String bad : List.of("g:a", "g::1", "g:a:b:c:d:1", "g:a:../..", "g/x:a:1", "g:a: 1")) {
      LabenvException e = assertThrows(LabenvException.class, () -> MavenCoordinates.parse(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    }
  }

  private Path write(Lockfile lock) {
    Path file = tmp.resolve(Lockfile.FILE_NAME);
    lock.write(file);
    return file;
  }
}
