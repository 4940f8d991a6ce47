package labenv.template;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** A starter analysis bundled with labenv: its name, one line on what it does, and its files (paths in it). */
public record Template(String name, String description, List<String> files) {
  /** The file every template has, whose {@code name:} line {@code labenv init} sets. */
  public static final String PROJECT_FILE = "labenv.yaml";

  public Template {
    files = List.copyOf(files);
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
