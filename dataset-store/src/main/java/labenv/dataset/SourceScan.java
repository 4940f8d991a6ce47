package labenv.dataset;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import labenv.LabenvException;

/**
 * What {@code dataset add} will store: every entry below a source directory (or the one source
 * file), sorted by the bytes of its relative path, and every problem found on the way (unreadable
 * files and directories, special files, symlinks leaving the dataset), all of them, so one
 * error names everything to fix.
 */
final class SourceScan {
  /** One entry to store; {@code path} is where it is on the host. */
  record Entry(String rel, Path path, DatasetFile.Type type, int mode, long size, String target) {}

  private final Path root;
  private final List<Entry> entries = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();

  private SourceScan(Path root) {
    this.root = root;
  }

  /** Scans {@code source}; throws bad input for a missing source or any problem below it. */
  static List<Entry> scan(Path source) {
    Path real;
    try {
      real = source.toRealPath();
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(source + ": no such file or directory");
    } catch (AccessDeniedException e) {
      throw LabenvException.badInput(source + ": permission denied");
    } catch (IOException e) {
      throw LabenvException.badInput(source + ": " + e.getMessage());
    }
    SourceScan scan = new SourceScan(real);
    try {
      if (Files.isDirectory(real)) {
        Files.walkFileTree(real, scan.visitor());
      } else if (Files.isRegularFile(real)) {
        scan.file(real, real.getFileName().toString(), Files.readAttributes(real, PosixFileAttributes.class));
      } else {
        throw LabenvException.badInput(source + ": not a regular file or a directory");
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + source + ": " + e.getMessage(), e);
    }
    if (!scan.problems.isEmpty()) {
      List<String> shown = scan.problems.subList(0, Math.min(10, scan.problems.size()));
      throw LabenvException.badInput("cannot add " + source + ": " + scan.problems.size() + " problem"
          + (scan.problems.size() == 1 ? "" : "s") + ": " + String.join("; ", shown)
          + (scan.problems.size() > shown.size() ? "; and " + (scan.problems.size() - shown.size()) + " more" : "")
          + " (fix them, or add a directory without them)");
    }
    scan.entries.sort(Comparator.comparing(e -> e.rel().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
    return scan.entries;
  }

  private SimpleFileVisitor<Path> visitor() {
    return new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (!dir.equals(root)) {
          String rel = rel(dir);
          if (!Files.isReadable(dir) || !Files.isExecutable(dir)) {
            problems.add(rel + "/: permission denied");
            return FileVisitResult.SKIP_SUBTREE;
          }
          entries.add(new Entry(rel, dir, DatasetFile.Type.DIR, mode(dir), 0, null));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        String rel = rel(file);
        if (attrs.isSymbolicLink()) {
          String target = Files.readSymbolicLink(file).toString();
          String problem = DatasetFormat.symlinkProblem(rel, target);
          if (problem != null) {
            problems.add(rel + ": " + problem);
          } else {
            entries.add(new Entry(rel, file, DatasetFile.Type.SYMLINK, 0777, 0, target));
          }
        } else if (attrs.isRegularFile()) {
          file(file, rel, attrs);
        } else {
          problems.add(rel + ": not a regular file, directory or symlink");
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        String why = e instanceof AccessDeniedException ? "permission denied"
            : e instanceof NoSuchFileException ? "removed while being read" : e.getMessage();
        problems.add(rel(file) + ": " + why);
        return FileVisitResult.CONTINUE;
      }
    };
  }

  private void file(Path file, String rel, BasicFileAttributes attrs) throws IOException {
    if (!Files.isReadable(file)) {
      problems.add(rel + ": permission denied");
      return;
    }
    entries.add(new Entry(rel, file, DatasetFile.Type.FILE, mode(file), attrs.size(), null));
  }

  private String rel(Path p) {
    Path r = root.relativize(p);
    return r.toString().isEmpty() ? p.getFileName().toString() : r.toString().replace('\\', '/');
  }

  private static int mode(Path p) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
    int mode = 0;
    for (PosixFilePermission perm : perms) {
      mode |= 1 << (8 - perm.ordinal());
    }
    return mode;
  }
}
