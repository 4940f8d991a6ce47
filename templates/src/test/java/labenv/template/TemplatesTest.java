package labenv.template;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The index against the templates' folders: a file added to a template and not to the index would not be copied. */
class TemplatesTest {
  static final Path TREE = Path.of("src/main/resources/templates");

  @Test
  void theIndexListsEveryTemplateWithExactlyItsFiles() throws Exception {
    List<Template> all = Templates.list();
    assertEquals(List.of("python-pandas", "r-base", "jvm-tablesaw", "jupyter-python", "jupyter-jvm"),
        Templates.names());
    List<String> folders;
    try (Stream<Path> s = Files.list(TREE)) {
      folders = s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertEquals(folders, all.stream().map(Template::name).sorted().toList());
    for (Template t : all) {
      Path dir = TREE.resolve(t.name());
      List<String> files;
      try (Stream<Path> s = Files.walk(dir)) {
        files = s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
      }
      assertEquals(files, t.files().stream().sorted().toList(), t.name());
      assertTrue(t.files().contains(Template.PROJECT_FILE), t.name());
      assertTrue(!t.description().isBlank() && t.description().length() <= 110, t.name());
      for (String f : t.files()) {
        assertArrayEquals(Files.readAllBytes(dir.resolve(f)), t.read(f), t.name() + "/" + f);
      }
      String yaml = new String(t.read(Template.PROJECT_FILE), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(yaml.lines().anyMatch(l -> l.equals("name: " + t.name())), t.name() + ": its name: line");
      for (Template.Artifact a : t.artifacts()) {
        // a build output, not a resource; the Envfile uses it, or init would copy it for nothing
        assertTrue(!t.files().contains(a.file()), t.name() + ": " + a.file() + " is both a file and an artifact");
        String envfile = new String(t.read("Envfile"), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(envfile.lines().anyMatch(l -> l.startsWith("COPY " + a.file() + " ")), t.name() + ": " + envfile);
      }
    }
    // the one artifact so far: the Java kernel the notebooks module builds
    Template jvm = Templates.find("jupyter-jvm").orElseThrow();
    assertEquals(List.of(new Template.Artifact("notebooks/target/labenv-kernel.jar")), jvm.artifacts());
    assertEquals("labenv-kernel.jar", jvm.artifacts().get(0).file());
    assertEquals("LABENV_KERNEL_JAR", jvm.artifacts().get(0).variable());
    assertTrue(all.stream().filter(t -> !t.name().equals(jvm.name())).allMatch(t -> t.artifacts().isEmpty()));
  }

  @Test
  void theJupyterJvmNotebookRunsOnTheJavaKernelAndTheHeadlessCommandNamesIt() throws Exception {
    Template t = Templates.find("jupyter-jvm").orElseThrow();
    String nb = new String(t.read("analysis.ipynb"), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(nb.contains("\"name\": \"labenv-java\"") && nb.contains("\"language\": \"java\""), nb);
    assertTrue(nb.contains("\"outputs\": []") && !nb.contains("\"output_type\""), "shipped without outputs");
    String yaml = new String(t.read(Template.PROJECT_FILE), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(yaml.contains("--ExecutePreprocessor.kernel_name=labenv-java"), yaml);
    assertTrue(yaml.contains("--ExecutePreprocessor.record_timing=False"), yaml);
    assertTrue(yaml.contains("outputs: [results]"), yaml);
    String ignore = new String(t.read(".labenvignore"), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(ignore.lines().noneMatch(l -> !l.startsWith("#") && l.contains("labenv-kernel")), ignore);
    String git = new String(t.read(".gitignore"), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(git.lines().anyMatch(l -> l.equals("labenv-kernel.jar")), git);
  }

  @Test
  void aDamagedIndexIsRefusedWithItsLine() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> Templates.parse(List.of("# c", "a\tfine", "  ../escape")));
    assertTrue(e.getMessage().contains("index.txt:3"), e.getMessage());
    assertEquals(List.of(new Template("a", "one", List.of("x", "d/y"))),
        Templates.parse(List.of("a\tone", "  x", "  d/y", "")));
    assertEquals(List.of(new Template("a", "one", List.of("x"), List.of(new Template.Artifact("m/target/k.jar"))),
        new Template("b", "two", List.of("y"))),
        Templates.parse(List.of("a\tone", "  x", "  artifact: m/target/k.jar", "b\ttwo", "  y")));
    var outside = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> Templates.parse(List.of("a\tone", "  x", "  artifact: ../k.jar")));
    assertTrue(outside.getMessage().contains("index.txt:3"), outside.getMessage());
  }
}
