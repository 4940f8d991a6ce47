package labenv.layer;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;
import labenv.tar.TarPath;

/**
 * What a tree holds, path by path (names as bytes): type, mode, owner, size, content digest, symlink target,
 * device numbers, xattrs, mtime, and which paths share an inode. Two trees that extract the same archive the same
 * way have equal snapshots; a tree nothing touched has the same snapshot before and after.
 */
public final class TreeSnapshot {
  private TreeSnapshot() {}

  /** What to record. */
  public record Fields(boolean mtimes, boolean owners, boolean xattrs, Predicate<String> xattrFilter) {
    public static Fields all() {
      return new Fields(true, true, true, n -> true);
    }
  }

  public static TreeMap<TarPath, String> of(Path root) {
    return of(root, Fields.all(), Set.of());
  }

  /** Snapshot of {@code root}, leaving out the top-level names in {@code skip}. */
  public static TreeMap<TarPath, String> of(Path root, Fields fields, Set<String> skip) {
    TreeMap<TarPath, String> out = new TreeMap<>();
    Map<String, TarPath> firstByInode = new HashMap<>();
    int fd;
    try {
      fd = Libc.open(Syscalls.cstr(root.toString()), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw new IllegalStateException("open " + root + ": errno " + e.getErrorCode());
    }
    try {
      out.put(TarPath.of("."), describe(fd, new byte[] {'.'}, fields, null));
      walk(fd, TarPath.ofRaw(new byte[0]), fields, skip, out, firstByInode);
    } finally {
      Syscalls.close(fd);
    }
    return out;
  }

  private static void walk(int dirfd, TarPath dir, Fields fields, Set<String> skip, TreeMap<TarPath, String> out,
      Map<String, TarPath> firstByInode) {
    List<byte[]> names;
    try {
      names = new ArrayList<>(FileTree.list(dirfd));
    } catch (labenv.linux.ErrnoException e) {
      if (e.errno() != Libc.EACCES) {
        throw e;
      }
      out.put(dir.resolve(new byte[] {'?'}), "unreadable"); // a mode-0000 directory seen without root
      return;
    }
    names.sort(Arrays::compareUnsigned);
    for (byte[] name : names) {
      if (dir.isEmpty() && skip.contains(new String(name, StandardCharsets.UTF_8))) {
        continue;
      }
      TarPath path = dir.resolve(name);
      Stat st = Syscalls.lstat(dirfd, name);
      String link = null;
      if (!st.isDirectory() && st.nlink() > 1) {
        TarPath first = firstByInode.putIfAbsent(st.inodeKey(), path);
        link = first == null ? "" : first.toString();
      }
      out.put(path, describe(dirfd, name, fields, link));
      if (st.isDirectory()) {
        int child = Syscalls.openat(dirfd, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
        try {
          walk(child, path, fields, skip, out, firstByInode);
        } finally {
          Syscalls.close(child);
        }
      }
    }
  }

  private static String describe(int dirfd, byte[] name, Fields fields, String hardlinkOf) {
    Stat st = Syscalls.lstat(dirfd, name);
    StringBuilder sb = new StringBuilder();
    sb.append(switch (st.type()) {
      case Libc.S_IFDIR -> "dir";
      case Libc.S_IFREG -> "file";
      case Libc.S_IFLNK -> "symlink";
      case Libc.S_IFCHR -> "char";
      case Libc.S_IFBLK -> "block";
      case Libc.S_IFIFO -> "fifo";
      default -> "other";
    });
    if (!st.isSymlink()) {
      sb.append(String.format(" mode=%04o", st.permissions()));
    }
    if (fields.owners()) {
      sb.append(" owner=").append(st.uid()).append(':').append(st.gid());
    }
    if (st.isRegular()) {
      sb.append(" size=").append(st.size()).append(" sha256=").append(digest(dirfd, name));
    }
    if (st.isSymlink()) {
      sb.append(" -> ").append(HexFormat.of().formatHex(Syscalls.readlinkat(dirfd, name)));
    }
    if (st.type() == Libc.S_IFCHR || st.type() == Libc.S_IFBLK) {
      sb.append(" dev=").append(st.rdevMajor()).append(':').append(st.rdevMinor());
    }
    if (fields.mtimes()) {
      sb.append(" mtime=").append(st.mtimeSec());
    }
    if (hardlinkOf != null && !hardlinkOf.isEmpty()) {
      sb.append(" hardlink-of=").append(hardlinkOf);
    }
    if (fields.xattrs()) {
      sb.append(xattrs(dirfd, name, fields.xattrFilter()));
    }
    return sb.toString();
  }

  private static String digest(int dirfd, byte[] name) {
    int fd = Syscalls.openat(dirfd, name, Libc.O_RDONLY | Libc.O_NOFOLLOW, 0);
    try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
        InputStream in = Channels.newInputStream(ch)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } finally {
      Syscalls.close(fd);
    }
  }

  private static String xattrs(int dirfd, byte[] name, Predicate<String> filter) {
    byte[] path = proc(dirfd, name);
    byte[] list = new byte[64 * 1024];
    long n;
    try {
      n = Libc.llistxattr(Syscalls.cstr(path), list, list.length);
    } catch (LastErrorException e) {
      return " xattrs=?" + e.getErrorCode();
    }
    TreeMap<String, String> values = new TreeMap<>();
    int start = 0;
    for (int i = 0; i < n; i++) {
      if (list[i] == 0) {
        String key = new String(list, start, i - start, StandardCharsets.UTF_8);
        start = i + 1;
        if (!filter.test(key)) {
          continue;
        }
        byte[] value = new byte[64 * 1024];
        long len = Libc.lgetxattr(Syscalls.cstr(path), Syscalls.cstr(key), value, value.length);
        values.put(key, HexFormat.of().formatHex(value, 0, (int) len));
      }
    }
    return values.isEmpty() ? "" : " xattrs=" + values;
  }

  private static byte[] proc(int dirfd, byte[] name) {
    byte[] dir = ("/proc/self/fd/" + dirfd + "/").getBytes(StandardCharsets.US_ASCII);
    byte[] out = Arrays.copyOf(dir, dir.length + name.length);
    System.arraycopy(name, 0, out, dir.length, name.length);
    return out;
  }

  /** A readable list of the differences, for assertion messages; empty when equal. */
  public static String diff(Map<TarPath, String> expected, Map<TarPath, String> actual) {
    StringBuilder sb = new StringBuilder();
    TreeMap<TarPath, String> all = new TreeMap<>(expected);
    all.putAll(actual);
    for (TarPath p : all.keySet()) {
      String e = expected.get(p);
      String a = actual.get(p);
      if (e == null || !e.equals(a)) {
        sb.append("\n  ").append(p).append(": expected ").append(e).append("\n  ").append(" ".repeat(p.toString().length()))
            .append("  actual   ").append(a);
      }
    }
    return sb.toString();
  }
}
