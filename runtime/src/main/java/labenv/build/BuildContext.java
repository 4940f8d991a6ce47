package labenv.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;

/**
 * The directory a build reads COPY and ADD sources from, with its ignore rules. The rules come from the first of
 * {@code .labenvignore} in the context, {@code <Envfile name>.dockerignore} beside the Envfile (BuildKit's
 * per-Dockerfile ignore file), and {@code .dockerignore} in the context.
 */
public final class BuildContext {
  /** labenv's own ignore file name, read before Docker's. */
  public static final String LABENV_IGNORE = ".labenvignore";
  public static final String DOCKER_IGNORE = ".dockerignore";

  private final Path root;
  private final IgnoreRules ignore;
  private final Path ignoreFile;

  private BuildContext(Path root, IgnoreRules ignore, Path ignoreFile) {
    this.root = root;
    this.ignore = ignore;
    this.ignoreFile = ignoreFile;
  }

  /**
   * Opens the context {@code dir} for a build of {@code envfile} (may be null).
   *
   * @throws LabenvException BAD_INPUT when dir is not a directory or an ignore file has a bad pattern
   */
  public static BuildContext open(Path dir, Path envfile) {
    return open(dir, envfile, List.of());
  }

  /**
   * Like {@link #open(Path, Path)}, with {@code ignored} patterns (the ignore file's syntax) applied after the
   * ignore file's: what a project run keeps out of its image (its outputs, receipt and work directory).
   */
  public static BuildContext open(Path dir, Path envfile, List<String> ignored) {
    BuildContext c = openFile(dir, envfile);
    if (ignored.isEmpty()) {
      return c;
    }
    String content = c.ignoreFile == null ? "" : read(c.ignoreFile);
    return new BuildContext(c.root, IgnoreRules.parse(content + "\n" + String.join("\n", ignored),
        c.ignoreFile == null ? "the project's outputs" : display(c.root, c.ignoreFile)), c.ignoreFile);
  }

  private static String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static BuildContext openFile(Path dir, Path envfile) {
    Path root = dir.toAbsolutePath().normalize();
    if (!Files.exists(root)) {
      throw LabenvException.badInput("build context " + dir + " does not exist");
    }
    if (!Files.isDirectory(root)) {
      throw LabenvException.badInput("build context " + dir + " is not a directory");
    }
    Path file = root.resolve(LABENV_IGNORE);
    if (!Files.isRegularFile(file) && envfile != null && envfile.getFileName() != null) {
      Path abs = envfile.toAbsolutePath().normalize();
      file = abs.resolveSibling(abs.getFileName() + DOCKER_IGNORE);
    }
    if (!Files.isRegularFile(file)) {
      file = root.resolve(DOCKER_IGNORE);
    }
    if (!Files.isRegularFile(file)) {
      return new BuildContext(root, IgnoreRules.none(), null);
    }
    return new BuildContext(root, IgnoreRules.parse(read(file), display(root, file)), file);
  }

  /** The name errors give the ignore file: relative to the context when inside it. */
  private static String display(Path root, Path file) {
    return file.startsWith(root) ? root.relativize(file).toString() : file.toString();
  }

  /** The context directory, absolute. */
  public Path root() {
    return root;
  }

  public IgnoreRules ignore() {
    return ignore;
  }

  /** The ignore file the rules were read from, or null when there was none. */
  public Path ignoreFile() {
    return ignoreFile;
  }

  /** Where COPY reads when it has no --from. */
  public CopySource source() {
    return CopySource.context(this);
  }
}
