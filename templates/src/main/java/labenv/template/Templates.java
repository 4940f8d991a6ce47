package labenv.template;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The templates in labenv's jar, as {@value #INDEX} lists them. */
public final class Templates {
  private Templates() {}

  /** Where the templates are among the class path's resources. */
  static final String ROOT = "/templates/";

  /** The index: the templates and their files (a jar's directories cannot be listed). */
  public static final String INDEX = ROOT + "index.txt";

  /** The template {@code labenv init} uses when none is named. */
  public static final String DEFAULT = "python-pandas";

  /** Every template, in the index's order. */
  public static List<Template> list() {
    try (InputStream in = Templates.class.getResourceAsStream(INDEX)) {
      if (in == null) {
        throw new IllegalStateException(INDEX + " is missing from labenv's jar");
      }
      return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The template named {@code name}, if there is one. */
  public static Optional<Template> find(String name) {
    return list().stream().filter(t -> t.name().equals(name)).findFirst();
  }

  /** The names of every template, in order. */
  public static List<String> names() {
    return list().stream().map(Template::name).toList();
  }

  /** An index line (indented) naming one of a template's {@link Template.Artifact artifacts}, not a file. */
  static final String ARTIFACT = "artifact: ";

  static List<Template> parse(List<String> lines) {
    List<Template> out = new ArrayList<>();
    String name = null;
    String description = null;
    List<String> files = new ArrayList<>();
    List<Template.Artifact> artifacts = new ArrayList<>();
    int n = 0;
    for (String line : lines) {
      n++;
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("  ")) {
        String file = line.strip();
        if (name != null && file.startsWith(ARTIFACT)) {
          try {
            artifacts.add(new Template.Artifact(file.substring(ARTIFACT.length()).strip()));
          } catch (IllegalArgumentException e) {
            throw new IllegalStateException(INDEX + ":" + n + ": " + e.getMessage());
          }
          continue;
        }
        if (name == null || file.startsWith("/") || List.of(file.split("/")).contains("..")) {
          throw new IllegalStateException(INDEX + ":" + n + ": not a file of a template: " + line);
        }
        files.add(file);
        continue;
      }
      int tab = line.indexOf('\t');
      if (tab <= 0) {
        throw new IllegalStateException(INDEX + ":" + n + ": expected NAME<TAB>description: " + line);
      }
      if (name != null) {
        out.add(new Template(name, description, files, artifacts));
      }
      name = line.substring(0, tab);
      description = line.substring(tab + 1).strip();
      files = new ArrayList<>();
      artifacts = new ArrayList<>();
    }
    if (name != null) {
      out.add(new Template(name, description, files, artifacts));
    }
    return out;
  }
}
