package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherFastStartTest {
  @TempDir Path dir;

  private Path jar() throws Exception {
    Path jar = Files.writeString(dir.resolve("labenv.jar"), "jar");
    Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2026-01-01T00:00:00Z")));
    return jar;
  }

  /** JNA's library is looked for under its version: one of another version would not load. */
  private Path jna() {
    return dir.resolve("labenv-jna-" + com.sun.jna.Native.VERSION);
  }

  private void besideTheJar(Instant made) throws Exception {
    Files.setLastModifiedTime(Files.writeString(dir.resolve("labenv-init.jsa"), "archive"), FileTime.from(made));
    Files.createDirectories(jna());
    Files.setLastModifiedTime(Files.writeString(jna().resolve("libjnidispatch.so"), "so"), FileTime.from(made));
  }

  @Test
  void theArchiveAndJnasLibraryMadeForTheJarAreUsed() throws Exception {
    Path jar = jar();
    besideTheJar(Instant.parse("2026-01-01T00:00:01Z"));
    assertEquals(List.of("-XX:SharedArchiveFile=" + dir.resolve("labenv-init.jsa"),
        "-Djna.boot.library.path=" + jna()), Launcher.fastStart(jar.toString()));
  }

  @Test
  void filesOlderThanTheJarAreLeftAlone() throws Exception {
    Path jar = jar();
    besideTheJar(Instant.parse("2025-12-31T23:59:59Z"));
    assertEquals(List.of(), Launcher.fastStart(jar.toString()));
  }

  @Test
  void nothingBesideTheJarOrNoSingleJarMeansNoFlags() throws Exception {
    Path jar = jar();
    assertEquals(List.of(), Launcher.fastStart(jar.toString()));
    besideTheJar(Instant.parse("2026-01-01T00:00:01Z"));
    assertEquals(List.of(), Launcher.fastStart(jar + java.io.File.pathSeparator + dir.resolve("other.jar")));
    assertEquals(List.of(), Launcher.fastStart(dir.resolve("classes").toString()));
  }
}
