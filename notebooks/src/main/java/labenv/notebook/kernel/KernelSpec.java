package labenv.notebook.kernel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import labenv.store.AtomicFile;

/**
 * The kernel's installation, as Jupyter finds kernels: {@code PREFIX/share/jupyter/kernels/labenv-java/kernel.json}
 * (Jupyter looks under /usr/local/share and /usr/share, and in JUPYTER_PATH), which starts the jar copied to
 * {@code PREFIX/share/labenv-kernel/labenv-kernel.jar}. The kernel.json comes from the template beside this class,
 * with the argv of this installation.
 */
final class KernelSpec {
  static final String NAME = "labenv-java";
  static final String JAR_NAME = "labenv-kernel.jar";

  /** What an installation wrote. */
  record Installed(Path kernelJson, Path jar) {}

  private KernelSpec() {}

  /**
   * Copies {@code jar} under {@code prefix} and writes the kernelspec that starts it with {@code java}, with each of
   * {@code classpathFlags} as a {@code --classpath} of the kernel. Both files are replaced atomically, so a notebook
   * server never sees half of one.
   */
  static Installed install(Path prefix, Path jar, String java, List<String> classpathFlags) {
    if (!Files.isRegularFile(jar)) {
      throw LabenvException.badInput("--install copies the kernel's jar, and " + jar
          + " is not a jar: run java -jar labenv-kernel.jar --install PREFIX");
    }
    Path jarTarget = prefix.resolve("share/labenv-kernel").resolve(JAR_NAME).toAbsolutePath();
    Path specDir = prefix.resolve("share/jupyter/kernels").resolve(NAME).toAbsolutePath();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    byte[] kernelJson;
    try {
      kernelJson = (json.writeValueAsString(kernelJson(json, jarTarget, java, classpathFlags)) + "\n")
          .getBytes(StandardCharsets.UTF_8);
      Files.createDirectories(jarTarget.getParent());
      Files.createDirectories(specDir);
      // Installing again from the installed jar: it is already there.
      if (!(Files.exists(jarTarget) && Files.isSameFile(jar, jarTarget))) {
        AtomicFile.write(jarTarget, Files.readAllBytes(jar));
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot install the kernel under " + prefix + ": " + e.getMessage());
    }
    Path target = specDir.resolve("kernel.json");
    AtomicFile.write(target, kernelJson);
    return new Installed(target, jarTarget);
  }

  static ObjectNode kernelJson(ObjectMapper json, Path jar, String java, List<String> classpathFlags)
      throws IOException {
    ObjectNode spec;
    try (InputStream template = KernelSpec.class.getResourceAsStream("kernel.json")) {
      spec = (ObjectNode) json.readTree(template);
    }
    ArrayNode argv = spec.putArray("argv");
    argv.add(java).add("-Dfile.encoding=UTF-8").add("-jar").add(jar.toString());
    for (String flag : classpathFlags) {
      argv.add("--classpath").add(flag);
    }
    argv.add("{connection_file}");
    return spec;
  }

  /** The jar this class was loaded from (a directory when run from a build's classes). */
  static Path runningJar() {
    try {
      return Path.of(KernelSpec.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw LabenvException.failed("cannot tell where the kernel's jar is: " + e.getMessage());
    }
  }
}
