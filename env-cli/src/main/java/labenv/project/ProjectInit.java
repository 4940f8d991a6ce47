package labenv.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.template.Template;
import labenv.template.Templates;

/**
 * {@code labenv init}: a template's files written into a new or empty folder, the project named after the folder,
 * with the artifacts of labenv's build the template needs ({@link #artifact where they are found}). A folder with
 * anything in it is refused (nothing of the user's is overwritten); a failure part way removes what was written.
 */
public final class ProjectInit {
  private ProjectInit() {}

  /** What init made: the project folder, the template it came from, the project's name, the files written. */
  public record Result(Path dir, Template template, String name, List<String> files, String base) {}

  private static final Pattern PLAIN = Pattern.compile("[A-Za-z][A-Za-z0-9._-]*");
  // Words YAML 1.1 (SnakeYAML) reads as booleans or null: a project named "yes" needs quotes to stay a string.
  private static final Set<String> YAML_WORDS = Set.of("y", "n", "yes", "no", "on", "off", "true", "false", "null");

  /** The template named {@code name}, or bad input naming the known ones. */
  public static Template template(String name) {
    return Templates.find(name).orElseThrow(() -> LabenvException.badInput("unknown template \"" + name
        + "\" (known: " + String.join(", ", Templates.names()) + "; labenv templates describes them)"));
  }

  /**
   * Writes {@code template} into {@code dir} (made when missing; else it must be an empty folder), its artifacts
   * found through {@code env} and beside this labenv's jar.
   */
  public static Result init(Template template, Path dir, Map<String, String> env) {
    return init(template, dir, env, jarFolder());
  }

  /** {@link #init(Template, Path, Map)} with the artifacts looked for beside {@code jarFolder} (may be null). */
  static Result init(Template template, Path dir, Map<String, String> env, Path jarFolder) {
    Path abs = dir.toAbsolutePath().normalize();
    boolean made = !Files.exists(abs, LinkOption.NOFOLLOW_LINKS);
    if (!made) {
      if (!Files.isDirectory(abs)) {
        throw LabenvException.badInput(dir + ": not a folder (labenv init writes a project into a new or empty folder)");
      }
      try (Stream<Path> entries = Files.list(abs)) {
        if (entries.findAny().isPresent()) {
          throw LabenvException.badInput(dir + ": not empty (labenv init writes a project only into a new or empty"
              + " folder, so nothing of yours is overwritten)");
        }
      } catch (IOException e) {
        throw LabenvException.failed(dir + ": " + e.getMessage(), e);
      }
    }
    // before anything is written: a missing artifact leaves no half project behind
    Map<Template.Artifact, Path> artifacts = new LinkedHashMap<>();
    for (Template.Artifact a : template.artifacts()) {
      artifacts.put(a, artifact(template, a, env, jarFolder));
    }
    String name = abs.getFileName() == null ? "project" : abs.getFileName().toString();
    List<String> written = new ArrayList<>();
    try {
      Files.createDirectories(abs);
      for (String file : template.files()) {
        byte[] bytes = template.read(file);
        if (file.equals(Template.PROJECT_FILE)) {
          bytes = named(new String(bytes, StandardCharsets.UTF_8), template.name(), name)
              .getBytes(StandardCharsets.UTF_8);
        }
        Path target = abs.resolve(file);
        Files.createDirectories(target.getParent());
        Files.write(target, bytes);
        written.add(file);
      }
      for (Map.Entry<Template.Artifact, Path> a : artifacts.entrySet()) {
        Files.copy(a.getValue(), abs.resolve(a.getKey().file()));
        written.add(a.getKey().file());
      }
      // what labenv run will read: the name came through as written
      ProjectFile project = ProjectFile.read(abs);
      if (!project.name().equals(name)) {
        throw new IOException("the project file names " + project.name() + ", not " + name);
      }
    } catch (IOException | LabenvException e) {
      undo(abs, made, written);
      throw LabenvException.failed("labenv init " + dir + ": " + e.getMessage(), e);
    }
    return new Result(abs, template, name, written, base(template));
  }

  /**
   * Where {@code artifact} is, looked for in this order: the file its {@linkplain Template.Artifact#variable()
   * variable} names (which must then exist), beside labenv's jar (an installation), and at its path in the source
   * tree labenv's jar was built in ({@code bin/labenv} runs {@code env-cli/target/labenv.jar}); else a failure
   * saying how to build it.
   */
  static Path artifact(Template template, Template.Artifact artifact, Map<String, String> env, Path jarFolder) {
    String variable = artifact.variable();
    String named = env.get(variable);
    if (named != null && !named.isEmpty()) {
      Path file = Path.of(named);
      if (!Files.isRegularFile(file)) {
        throw LabenvException.failed(variable + "=" + named + ": no such file (it names " + artifact.file()
            + ", which the " + template.name() + " template needs)");
      }
      return file;
    }
    List<Path> candidates = new ArrayList<>();
    if (jarFolder != null) {
      candidates.add(jarFolder.resolve(artifact.file()));
      candidates.add(jarFolder.resolve("../..").resolve(artifact.path()).normalize());
    }
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    int slash = artifact.path().indexOf('/');
    String build = "mvn -q" + (slash < 0 ? "" : " -pl " + artifact.path().substring(0, slash) + " -am")
        + " package -DskipTests";
    throw LabenvException.failed(artifact.file() + ", which the " + template.name() + " template needs, is not built:"
        + " build it in labenv's source tree with " + build + " (bin/labenv builds it too), or set " + variable
        + " to it" + (jarFolder == null ? "" : " (looked in " + candidates.get(0).getParent() + " and at "
        + candidates.get(1) + ")"));
  }

  /** The folder of the jar (or class folder) labenv runs from, or null when the JVM does not say. */
  static Path jarFolder() {
    try {
      var source = ProjectInit.class.getProtectionDomain().getCodeSource();
      return source == null ? null : Path.of(source.getLocation().toURI()).toAbsolutePath().getParent();
    } catch (java.net.URISyntaxException | IllegalArgumentException | SecurityException e) {
      return null;
    }
  }

  /** The template's project file with its {@code name:} line naming the project {@code name}. */
  static String named(String yaml, String template, String name) {
    String line = "name: " + template;
    List<String> lines = new ArrayList<>(yaml.lines().toList());
    int at = lines.indexOf(line);
    if (at < 0) {
      throw new IllegalStateException("template " + template + ": its " + Template.PROJECT_FILE + " has no line \""
          + line + "\"");
    }
    lines.set(at, "name: " + scalar(name));
    return String.join("\n", lines) + (yaml.endsWith("\n") ? "\n" : "");
  }

  /** {@code s} as a YAML string: plain when YAML reads it back as that string, else double-quoted (JSON's rules). */
  static String scalar(String s) {
    if (PLAIN.matcher(s).matches() && !YAML_WORDS.contains(s.toLowerCase(Locale.ROOT))) {
      return s;
    }
    try {
      return Json.mapper().writeValueAsString(s);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The image the template's Envfile starts FROM (for init's hint to bootstrap it), or null. */
  static String base(Template template) {
    if (!template.files().contains("Envfile")) {
      return null;
    }
    try {
      for (String line : new String(template.read("Envfile"), StandardCharsets.UTF_8).lines().toList()) {
        String[] words = line.strip().split("\\s+");
        if (words.length >= 2 && words[0].equalsIgnoreCase("FROM")) {
          return words[1];
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  private static void undo(Path dir, boolean made, List<String> written) {
    try {
      if (made) {
        ProjectRunner.removeTree(dir);
        return;
      }
      for (String file : written) {
        Files.deleteIfExists(dir.resolve(file));
      }
      // the template's subfolders, deepest first, when init made them empty
      List<Path> folders = new ArrayList<>();
      for (String file : written) {
        for (Path p = dir.resolve(file).getParent(); !p.equals(dir); p = p.getParent()) {
          folders.add(p);
        }
      }
      folders.stream().distinct().sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // not empty: something else is there now; leave it
        }
      });
    } catch (IOException | LabenvException e) {
      // best effort: the failure being reported matters more
    }
  }
}
