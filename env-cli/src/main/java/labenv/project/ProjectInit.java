package labenv.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.template.Template;
import labenv.template.Templates;

/**
 * {@code labenv init}: a template's files written into a new or empty folder, the project named after the folder.
 * A folder with anything in it is refused (nothing of the user's is overwritten); a failure part way removes what
 * was written.
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

  /** Writes {@code template} into {@code dir} (made when missing; else it must be an empty folder). */
  public static Result init(Template template, Path dir) {
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
