package labenv.template;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;

/**
 * A starter analysis bundled with labenv: its name, one line on what it does, its files (paths in it), and the
 * artifacts of labenv's own build it needs beside them.
 */
public record Template(String name, String description, List<String> files, List<Artifact> artifacts) {
  /** The file every template has, whose {@code name:} line {@code labenv init} sets. */
  public static final String PROJECT_FILE = "labenv.yaml";

  public Template {
    files = List.copyOf(files);
    artifacts = List.copyOf(artifacts);
  }

  public Template(String name, String description, List<String> files) {
    this(name, description, files, List.of());
  }

  /**
   * A file labenv's build makes (too big, or too much labenv's own, to be a resource of its jar) that {@code labenv
   * init} copies into the project's folder, by its file name: for example the Java kernel the jupyter-jvm template's
   * Envfile installs.
   *
   * @param path where the build writes it in labenv's source tree, '/'-separated (e.g.
   *     {@code notebooks/target/labenv-kernel.jar})
   */
  public record Artifact(String path) {
    public Artifact {
      if (path.isBlank() || path.startsWith("/") || path.endsWith("/") || List.of(path.split("/")).contains("..")) {
        throw new IllegalArgumentException("not a path in labenv's source tree: " + path);
      }
    }

    /** Its file name: what it is called in the project, and beside labenv's jar in an installation. */
    public String file() {
      return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * The environment variable that names it when it is elsewhere: the file name in capitals, other characters as
     * '_', with a {@code LABENV_} prefix unless it has one ({@code labenv-kernel.jar}: {@code LABENV_KERNEL_JAR}).
     */
    public String variable() {
      String v = file().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
      return v.startsWith("LABENV_") ? v : "LABENV_" + v;
    }
  }

  /** The bytes of one of its {@link #files()}. */
  public byte[] read(String file) throws IOException {
    if (!files.contains(file)) {
      throw new IllegalArgumentException("template " + name + " has no file " + file);
    }
    String resource = Templates.ROOT + name + "/" + file;
    try (InputStream in = Template.class.getResourceAsStream(resource)) {
      if (in == null) {
        // the index names a file the jar lacks: a broken build of labenv, not the user's doing
        throw new IOException("template " + name + ": " + resource + " is missing from labenv's jar");
      }
      return in.readAllBytes();
    }
  }
}
