package labenv.notebook.kernel;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;

/**
 * What a notebook's cells can use, beyond the JDK. One rule, in this order:
 * <ol>
 *   <li>the kernel's own jar: tablesaw (core and plotly figures) and {@code display};</li>
 *   <li>the image's pinned jars: the files listed in {@value #MAVEN_CLASSPATH} (one per line, classpath order), which
 *       an Envfile's {@code MAVEN group:artifact:version ...} writes; skipped when the file does not exist;</li>
 *   <li>the kernel's {@code --classpath} entries, in order, each as {@code java -cp} reads them: jars and class
 *       directories separated by ':', and {@code DIR/*} for every jar in DIR.</li>
 * </ol>
 * Classes are looked up in that order too, so a jar cannot replace the kernel's tablesaw.
 */
final class KernelClasspath {
  /** The classpath file of the image's Maven layer (labenv.build.MavenDependencies). */
  static final String MAVEN_CLASSPATH = "/opt/labenv/maven/classpath";

  private KernelClasspath() {}

  /**
   * The entries to add to the cells' classpath, each an existing jar or directory.
   *
   * @throws LabenvException (bad input) naming the entry that does not exist, and where it was listed
   */
  static List<Path> resolve(Path mavenClasspath, List<String> classpathFlags) {
    List<Path> entries = new ArrayList<>();
    if (Files.isRegularFile(mavenClasspath)) {
      List<String> lines;
      try {
        lines = Files.readAllLines(mavenClasspath);
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + mavenClasspath + ": " + e.getMessage());
      }
      for (String line : lines) {
        if (!line.isBlank()) {
          entries.add(existing(Path.of(line.strip()), mavenClasspath.toString()));
        }
      }
    }
    for (String flag : classpathFlags) {
      for (String entry : flag.split(File.pathSeparator)) {
        if (entry.isEmpty()) {
          continue;
        }
        if (entry.endsWith("/*")) {
          entries.addAll(jarsIn(existing(Path.of(entry.substring(0, entry.length() - 2)), "--classpath")));
        } else {
          entries.add(existing(Path.of(entry), "--classpath"));
        }
      }
    }
    return entries;
  }

  private static Path existing(Path entry, String source) {
    if (!Files.exists(entry)) {
      throw LabenvException.badInput("the kernel's classpath entry " + entry + " (from " + source
          + ") does not exist: fix the path, or rebuild the image if a MAVEN jar is missing");
    }
    return entry.toAbsolutePath();
  }

  private static List<Path> jarsIn(Path dir) {
    List<Path> jars = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.{jar,JAR}")) {
      stream.forEach(jars::add);
    } catch (IOException e) {
      throw LabenvException.badInput("cannot list the jars in " + dir + " (from --classpath): " + e.getMessage());
    }
    jars.sort(null);
    return jars;
  }
}
