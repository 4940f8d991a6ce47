package labenv.project;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.linux.Libc;

/**
 * Copies of datasets' assembled trees whose directories list their entries in the reverse of the
 * original's order, for the listing-order variation of {@code labenv check}: on a tmpfs, whose order
 * is the order of creation (newest first, or oldest first, depending on the kernel) rather than the
 * name-hash order of ext4 or xfs. An analysis that concatenates files in the order the directory gives
 * them then sees another order. Needs root (a tmpfs mount);
 * the copies are in memory, so datasets above {@link #MAX_BYTES} in all are refused.
 */
final class ReorderedTrees implements AutoCloseable {
  static final long MAX_BYTES = 2L << 30;

  private final Path mountPoint;
  private long copied;
  private int count;

  private ReorderedTrees(Path mountPoint) {
    this.mountPoint = mountPoint;
  }

  static ReorderedTrees mount(Path mountPoint) throws IOException {
    Files.createDirectories(mountPoint);
    try {
      Libc.mount(c("tmpfs"), c(mountPoint.toString()), c("tmpfs"), 0, c("mode=0755,size=" + MAX_BYTES));
    } catch (LastErrorException e) {
      Files.deleteIfExists(mountPoint);
      throw LabenvException.failed("the listing-order variation needs a tmpfs (root): mount at " + mountPoint
          + " failed: " + Libc.errorText(e.getErrorCode()));
    }
    return new ReorderedTrees(mountPoint);
  }

  private static byte[] c(String s) {
    return labenv.linux.Syscalls.cstr(s);
  }

  /** A copy of {@code tree} in reverse order, read-only like the original. */
  Path copy(Path tree) throws IOException {
    Path target = mountPoint.resolve(String.valueOf(count++));
    Files.createDirectory(target);
    copyDir(tree, target);
    return target;
  }

  /**
   * Copies the entries of {@code from} in the order its directory lists them; if the copy lists them in the same
   * order (a tmpfs that lists in creation order), again in reverse. Either way the copy lists them in reverse.
   */
  private void copyDir(Path from, Path to) throws IOException {
    List<Path> children = list(from);
    for (Path c : children) {
      copyEntry(c, to.resolve(c.getFileName().toString()));
    }
    List<String> original = children.stream().map(c -> c.getFileName().toString()).toList();
    if (children.size() > 1 && names(list(to)).equals(original)) {
      for (Path c : list(to)) {
        labenv.project.ProjectRunner.removeTree(c);
      }
      List<Path> reversed = new ArrayList<>(children);
      java.util.Collections.reverse(reversed);
      for (Path c : reversed) {
        copyEntry(c, to.resolve(c.getFileName().toString()));
      }
    }
  }

  private static List<Path> list(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(out::add);
    }
    return out;
  }

  private static List<String> names(List<Path> paths) {
    return paths.stream().map(p -> p.getFileName().toString()).toList();
  }

  private void copyEntry(Path c, Path t) throws IOException {
    if (Files.isSymbolicLink(c)) {
      Files.createSymbolicLink(t, Files.readSymbolicLink(c));
    } else if (Files.isDirectory(c, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectory(t);
      copyDir(c, t);
      Files.setPosixFilePermissions(t, Files.getPosixFilePermissions(c));
    } else {
      copied += Files.size(c);
      if (copied > MAX_BYTES) {
        throw LabenvException.failed("the listing-order variation copies the datasets to memory: they are over "
            + (MAX_BYTES >> 30) + " GiB");
      }
      Files.copy(c, t, StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      Libc.umount2(c(mountPoint.toString()), Libc.MNT_DETACH);
    } catch (LastErrorException e) {
      // left mounted until the next reboot: a tmpfs holding copies, nothing else
    }
    Files.deleteIfExists(mountPoint);
  }
}
