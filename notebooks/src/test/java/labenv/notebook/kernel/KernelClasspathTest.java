package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelClasspathTest {
  @Test
  void theImagesMavenJarsComeFirstThenTheFlagsInOrder(@TempDir Path dir) throws Exception {
    Path maven = Files.createDirectories(dir.resolve("maven"));
    Path a = Files.createFile(maven.resolve("a.jar"));
    Path b = Files.createFile(maven.resolve("b.jar"));
    Path classpathFile = Files.writeString(maven.resolve("classpath"), b + "\n" + a + "\n\n");
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Path z = Files.createFile(lib.resolve("z.jar"));
    Path y = Files.createFile(lib.resolve("y.jar"));
    Files.createFile(lib.resolve("notes.txt"));
    Path classes = Files.createDirectories(dir.resolve("classes"));

    List<Path> entries = KernelClasspath.resolve(classpathFile, List.of(classes + ":" + lib + "/*"));
    assertEquals(List.of(b, a, classes, y, z), entries);
  }

  @Test
  void withoutTheImagesClasspathFileOnlyTheFlagsCount(@TempDir Path dir) throws Exception {
    Path jar = Files.createFile(dir.resolve("one.jar"));
    assertEquals(List.of(jar), KernelClasspath.resolve(dir.resolve("missing"), List.of(jar.toString())));
    assertEquals(List.of(), KernelClasspath.resolve(dir.resolve("missing"), List.of()));
  }

  @Test
  void aMissingEntryIsBadInputNamingItsSource(@TempDir Path dir) throws Exception {
    Path classpathFile = Files.writeString(dir.resolve("classpath"), dir.resolve("gone.jar") + "\n");
    LabenvException e = assertThrows(LabenvException.class, () -> KernelClasspath.resolve(classpathFile, List.of()));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().contains(dir.resolve("gone.jar") + " (from " + classpathFile + ")"), e.getMessage());

    e = assertThrows(LabenvException.class,
        () -> KernelClasspath.resolve(dir.resolve("none"), List.of("/nowhere/x.jar")));
    assertTrue(e.getMessage().contains("/nowhere/x.jar (from --classpath)"), e.getMessage());
  }
}
