package labenv.dataset;

import com.sun.jna.LastErrorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import labenv.LabenvException;
import labenv.build.StatCache;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.layer.FileTree;

/**
 * What {@code dataset add} will store: every entry below a source directory (or the one source
 * file), sorted by the bytes of its relative path, and every problem found on the way (unreadable
 * directories, names that are not UTF-8, special files, symlinks leaving the dataset), all of them,
 * so one error names everything to fix.
 *
 * <p>One statx per entry, relative to its directory's descriptor: it gives the type and mode and the
 * stat-cache key, so that a file the cache knows is never opened. (Files that cannot be read are
 * found when they are read; the add names them all together too.)
 */
final class SourceScan {
  /**
   * One entry to store: {@code hostPath} is where it is on the host (bytes, as the kernel has it),
   * {@code key} what the stat cache knows it by (files only).
   */
  record Entry(String rel, byte[] hostPath, DatasetFile.Type type, int mode, long size, String target,
      StatCache.Key key) {
    String display() {
      return Syscalls.display(hostPath);
    }
  }

  private final List<Entry> entries = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final byte[] statx = new byte[256];

  private SourceScan() {}

  /** Scans {@code source}; throws bad input for a missing source or any problem below it. */
  static List<Entry> scan(java.nio.file.Path source) {
    byte[] path = source.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8);
    SourceScan scan = new SourceScan();
    int mode;
    try {
      Libc.statx(Libc.AT_FDCWD, Syscalls.cstr(path), 0, Libc.STATX_BASIC_STATS, scan.statx);
      mode = mode(scan.statx);
    } catch (LastErrorException e) {
      throw LabenvException.badInput(source + ": " + (e.getErrorCode() == Libc.ENOENT ? "no such file or directory"
          : Libc.errorText(e.getErrorCode())));
    }
    if ((mode & Libc.S_IFMT) == Libc.S_IFDIR) {
      int fd;
      try {
        fd = Syscalls.openat(Libc.AT_FDCWD, path, Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
      } catch (ErrnoException e) {
        throw LabenvException.badInput(source + ": " + (e.errno() == Libc.EACCES ? "permission denied"
            : Libc.errorText(e.errno())));
      }
      try {
        scan.directory(fd, path, "");
      } finally {
        Syscalls.close(fd);
      }
    } else if ((mode & Libc.S_IFMT) == Libc.S_IFREG) {
      String name = source.toAbsolutePath().normalize().getFileName().toString();
      scan.entries.add(new Entry(name, path, DatasetFile.Type.FILE, mode & 07777, size(scan.statx), null,
          StatCache.keyOfStatx(scan.statx)));
    } else {
      throw LabenvException.badInput(source + ": not a regular file or a directory");
    }
    if (!scan.problems.isEmpty()) {
      throw problems(source, scan.problems);
    }
    scan.entries.sort(Comparator.comparing(e -> e.rel().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
    return scan.entries;
  }

  /** The error for {@code problems} found in {@code source}: the first ten, and how many more. */
  static LabenvException problems(java.nio.file.Path source, List<String> problems) {
    List<String> shown = problems.subList(0, Math.min(10, problems.size()));
    return LabenvException.badInput("cannot add " + source + ": " + problems.size() + " problem"
        + (problems.size() == 1 ? "" : "s") + ": " + String.join("; ", shown)
        + (problems.size() > shown.size() ? "; and " + (problems.size() - shown.size()) + " more" : "")
        + " (fix them, or add a directory without them)");
  }

  /** Every entry below the open directory {@code dirfd}, at {@code path} on the host and {@code rel} in the dataset. */
  private void directory(int dirfd, byte[] path, String rel) {
    List<byte[]> names;
    try {
      names = FileTree.list(dirfd);
    } catch (ErrnoException e) {
      problems.add((rel.isEmpty() ? "." : rel) + "/: " + Libc.errorText(e.errno()));
      return;
    }
    for (byte[] name : names) {
      String n = utf8(name);
      byte[] childPath = join(path, name);
      String childRel = n == null ? null : rel.isEmpty() ? n : rel + "/" + n;
      if (n == null) {
        problems.add(Syscalls.display(join(rel.getBytes(StandardCharsets.UTF_8), name)) + ": name is not UTF-8");
        continue;
      }
      try {
        Libc.statx(dirfd, Syscalls.cstr(name), Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, statx);
      } catch (LastErrorException e) {
        problems.add(childRel + ": " + (e.getErrorCode() == Libc.ENOENT ? "removed while being read"
            : e.getErrorCode() == Libc.EACCES ? "permission denied" : Libc.errorText(e.getErrorCode())));
        continue;
      }
      int mode = mode(statx);
      switch (mode & Libc.S_IFMT) {
        case Libc.S_IFREG -> entries.add(new Entry(childRel, childPath, DatasetFile.Type.FILE, mode & 07777,
            size(statx), null, StatCache.keyOfStatx(statx)));
        case Libc.S_IFDIR -> {
          int fd;
          try {
            fd = Syscalls.openat(dirfd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
          } catch (ErrnoException e) {
            problems.add(childRel + "/: " + (e.errno() == Libc.EACCES ? "permission denied"
                : Libc.errorText(e.errno())));
            continue;
          }
          try {
            entries.add(new Entry(childRel, childPath, DatasetFile.Type.DIR, mode & 07777, 0, null, null));
            directory(fd, childPath, childRel);
          } finally {
            Syscalls.close(fd);
          }
        }
        case Libc.S_IFLNK -> {
          String target = utf8(Syscalls.readlinkat(dirfd, name));
          String problem = target == null ? "symlink target is not UTF-8"
              : DatasetFormat.symlinkProblem(childRel, target);
          if (problem != null) {
            problems.add(childRel + ": " + problem);
          } else {
            entries.add(new Entry(childRel, childPath, DatasetFile.Type.SYMLINK, 0777, 0, target, null));
          }
        }
        default -> problems.add(childRel + ": not a regular file, directory or symlink");
      }
    }
  }

  private static int mode(byte[] statx) {
    return Short.toUnsignedInt(ByteBuffer.wrap(statx).order(ByteOrder.nativeOrder()).getShort(28));
  }

  private static long size(byte[] statx) {
    return ByteBuffer.wrap(statx).order(ByteOrder.nativeOrder()).getLong(40);
  }

  private static byte[] join(byte[] dir, byte[] name) {
    byte[] out = Arrays.copyOf(dir, dir.length + 1 + name.length);
    out[dir.length] = '/';
    System.arraycopy(name, 0, out, dir.length + 1, name.length);
    return out;
  }

  /** {@code bytes} as UTF-8, or null when they are not valid UTF-8. */
  private static String utf8(byte[] bytes) {
    try {
      CharBuffer c = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
      return c.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
