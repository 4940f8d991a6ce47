package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which ignore file a context uses, and what a context that is not a directory says. */
class BuildContextTest {
  @TempDir Path dir;

  @Test
  void labenvIgnoreFirstThenTheEnvfilesOwnThenDockerignore() throws IOException {
    Path ctx = Files.createDirectory(dir.resolve("ctx"));
    Path envfile = Files.writeString(dir.resolve("Envfile"), "FROM scratch\n");
    assertTrue(BuildContext.open(ctx, envfile).ignore().isEmpty());
    assertNull(BuildContext.open(ctx, envfile).ignoreFile());

    Files.writeString(ctx.resolve(".dockerignore"), "from-dockerignore\n");
    assertTrue(BuildContext.open(ctx, envfile).ignore().ignored("from-dockerignore"));

    Files.writeString(dir.resolve("Envfile.dockerignore"), "from-envfile\n");
    BuildContext c = BuildContext.open(ctx, envfile);
    assertTrue(c.ignore().ignored("from-envfile"));
    assertFalse(c.ignore().ignored("from-dockerignore"));
    assertEquals(dir.resolve("Envfile.dockerignore"), c.ignoreFile());
    assertTrue(BuildContext.open(ctx, null).ignore().ignored("from-dockerignore"), "no Envfile: .dockerignore");

    Files.writeString(ctx.resolve(".labenvignore"), "from-labenv\n");
    c = BuildContext.open(ctx, envfile);
    assertTrue(c.ignore().ignored("from-labenv"));
    assertFalse(c.ignore().ignored("from-envfile"));
    assertEquals(".labenvignore", c.ignore().fileName());
    assertEquals(ctx.toAbsolutePath(), c.root());
  }

  @Test
  void aBadPatternNamesTheIgnoreFileAndLine() throws IOException {
    Files.writeString(dir.resolve(".dockerignore"), "ok\n[\n");
    LabenvException e = assertThrows(LabenvException.class, () -> BuildContext.open(dir, null));
    assertEquals(".dockerignore:2: syntax error in pattern \"[\"", e.getMessage());
  }

  @Test
  void aContextThatIsNotADirectoryIsBadInput() throws IOException {
    LabenvException e = assertThrows(LabenvException.class, () -> BuildContext.open(dir.resolve("nope"), null));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals("build context " + dir.resolve("nope") + " does not exist", e.getMessage());
    Path file = Files.writeString(dir.resolve("file"), "x");
    e = assertThrows(LabenvException.class, () -> BuildContext.open(file, null));
    assertEquals("build context " + file + " is not a directory", e.getMessage());
  }
}
