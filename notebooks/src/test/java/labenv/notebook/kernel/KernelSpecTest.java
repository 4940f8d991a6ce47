package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelSpecTest {
  @Test
  void installCopiesTheJarAndWritesAKernelspecThatStartsIt(@TempDir Path dir) throws Exception {
    Path jar = Files.write(dir.resolve("built.jar"), new byte[] {'P', 'K', 3, 4});
    Path prefix = dir.resolve("usr/local");
    KernelSpec.Installed installed = KernelSpec.install(prefix, jar, "/usr/bin/java", List.of("/opt/lib/*"));

    assertEquals(prefix.resolve("share/jupyter/kernels/labenv-java/kernel.json").toAbsolutePath(),
        installed.kernelJson());
    assertEquals(prefix.resolve("share/labenv-kernel/labenv-kernel.jar").toAbsolutePath(), installed.jar());
    assertArrayEquals(Files.readAllBytes(jar), Files.readAllBytes(installed.jar()));

    JsonNode spec = new ObjectMapper().readTree(installed.kernelJson().toFile());
    List<String> argv = new ArrayList<>();
    spec.path("argv").forEach(a -> argv.add(a.asText()));
    assertEquals(List.of("/usr/bin/java", "-Dfile.encoding=UTF-8", "-jar", installed.jar().toString(),
        "--classpath", "/opt/lib/*", "{connection_file}"), argv);
    assertEquals("Java (labenv)", spec.path("display_name").asText());
    assertEquals("java", spec.path("language").asText());
    assertEquals("message", spec.path("interrupt_mode").asText());

    // Again, from the installed jar itself (an image's RUN that installs twice): the same files.
    KernelSpec.install(prefix, installed.jar(), "/usr/bin/java", List.of("/opt/lib/*"));
    assertArrayEquals(Files.readAllBytes(jar), Files.readAllBytes(installed.jar()));
  }

  @Test
  void installFromABuildsClassesSaysToUseTheJar(@TempDir Path dir) {
    LabenvException e = assertThrows(LabenvException.class,
        () -> Main.run(new String[] {"--install", dir.toString()}));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().contains("java -jar labenv-kernel.jar --install PREFIX"), e.getMessage());
  }

  @Test
  void badArgumentsAreBadInput() {
    for (String[] args : List.of(new String[] {"--bogus"}, new String[] {}, new String[] {"a.json", "b.json"},
        new String[] {"--install"}, new String[] {"--install", "/p", "conn.json"})) {
      LabenvException e = assertThrows(LabenvException.class, () -> Main.run(args), String.join(" ", args));
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
      assertTrue(e.getMessage().contains("usage: java -jar labenv-kernel.jar"), e.getMessage());
    }
  }
}
