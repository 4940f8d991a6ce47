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
    assertEquals(List.of("python-pandas", "r-base", "jvm-tablesaw", "jupyter-python"), Templates.names());
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
    }
  }

  @Test
  void aDamagedIndexIsRefusedWithItsLine() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> Templates.parse(List.of("# c", "a\tfine", "  ../escape")));
    assertTrue(e.getMessage().contains("index.txt:3"), e.getMessage());
    assertEquals(List.of(new Template("a", "one", List.of("x", "d/y"))),
        Templates.parse(List.of("a\tone", "  x", "  d/y", "")));
  }
}
