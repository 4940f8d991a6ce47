package labenv.project;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.build.BuildContext;
import labenv.template.Template;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * init of a template that needs an artifact of labenv's build (jupyter-jvm: labenv-kernel.jar): where it is found,
 * in which order, and the one line when it is nowhere, with nothing written. The jars here are stand-ins: init
 * copies bytes, it does not open them.
 */
class ProjectInitTest {
  @TempDir Path tmp;

  static final Template JVM = ProjectInit.template("jupyter-jvm");

  /** A labenv source tree's layout: env-cli/target (labenv.jar's folder) and notebooks/target. */
  private Path jarFolder() throws Exception {
    return Files.createDirectories(tmp.resolve("labenv/env-cli/target"));
  }

  private static byte[] kernel(String which) {
    return ("a stand-in for labenv-kernel.jar: " + which).getBytes();
  }

  @Test
  void aMissingKernelJarIsOneLineSayingHowToBuildItAndNothingIsWritten() throws Exception {
    Path dir = tmp.resolve("study");
    LabenvException e = assertThrows(LabenvException.class,
        () -> ProjectInit.init(JVM, dir, Map.of(), jarFolder()));
    assertEquals(LabenvException.Kind.FAILED, e.kind(), "exit 1");
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    assertTrue(e.getMessage().startsWith("labenv-kernel.jar, which the jupyter-jvm template needs, is not built: "
        + "build it in labenv's source tree with mvn -q -pl notebooks -am package -DskipTests (bin/labenv builds it "
        + "too), or set LABENV_KERNEL_JAR to it (looked in " + jarFolder() + " and at "
        + tmp.resolve("labenv/notebooks/target/labenv-kernel.jar") + ")"), e.getMessage());
    assertFalse(Files.exists(dir), "no half project");

    // into an existing empty folder: it stays empty
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertThrows(LabenvException.class, () -> ProjectInit.init(JVM, empty, Map.of(), jarFolder()));
    try (Stream<Path> s = Files.list(empty)) {
      assertEquals(0, s.count());
    }

    // a variable naming a file that is not there is named, not passed over
    Path gone = tmp.resolve("gone/labenv-kernel.jar");
    LabenvException named = assertThrows(LabenvException.class,
        () -> ProjectInit.init(JVM, dir, Map.of("LABENV_KERNEL_JAR", gone.toString()), jarFolder()));
    assertEquals("LABENV_KERNEL_JAR=" + gone + ": no such file (it names labenv-kernel.jar, which the jupyter-jvm "
        + "template needs)", named.getMessage());
    assertFalse(Files.exists(dir));
  }

  @Test
  void theKernelJarIsTakenFromTheVariableThenBesideLabenvThenTheSourceTree() throws Exception {
    Path folder = jarFolder();
    Path built = Files.createDirectories(tmp.resolve("labenv/notebooks/target")).resolve("labenv-kernel.jar");
    Files.write(built, kernel("source tree"));
    assertArrayEquals(kernel("source tree"), initialised("tree", Map.of(), folder));

    Files.write(folder.resolve("labenv-kernel.jar"), kernel("beside labenv.jar"));
    assertArrayEquals(kernel("beside labenv.jar"), initialised("beside", Map.of(), folder));

    Path elsewhere = Files.write(tmp.resolve("my-kernel.jar"), kernel("variable"));
    assertArrayEquals(kernel("variable"),
        initialised("variable", Map.of("LABENV_KERNEL_JAR", elsewhere.toString()), folder));
  }

  /** The kernel jar init put in a new project, after checking the rest of the project around it. */
  private byte[] initialised(String name, Map<String, String> env, Path jarFolder) throws Exception {
    Path dir = tmp.resolve(name);
    ProjectInit.Result r = ProjectInit.init(JVM, dir, env, jarFolder);
    List<String> expected = new java.util.ArrayList<>(JVM.files());
    expected.add("labenv-kernel.jar");
    assertEquals(expected, r.files());
    assertEquals(name, ProjectFile.read(dir).name());
    // in the build context (the Envfile COPYs it), out of git
    assertFalse(BuildContext.open(dir, dir.resolve("Envfile")).ignore().ignored("labenv-kernel.jar"));
    assertTrue(Files.readAllLines(dir.resolve(".gitignore")).contains("labenv-kernel.jar"));
    return Files.readAllBytes(dir.resolve("labenv-kernel.jar"));
  }

  @Test
  void templatesWithoutArtifactsNeedNoBuildOutput() throws Exception {
    Path dir = tmp.resolve("plain");
    ProjectInit.Result r = ProjectInit.init(ProjectInit.template("python-pandas"), dir, Map.of(), null);
    assertFalse(r.files().contains("labenv-kernel.jar"));
    assertTrue(Files.isRegularFile(dir.resolve("analysis.py")));
  }
}
