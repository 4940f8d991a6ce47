package labenv.container;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;

/**
 * Resolves {@code -u} against the image's /etc/passwd and /etc/group, read with the root filesystem
 * as "/" (openat2 RESOLVE_IN_ROOT): an image's symlinks cannot make us read the host's files.
 */
final class Users {
  private Users() {}

  record Identity(ContainerSpec.User user, String home) {}

  static Identity resolve(Path rootfs, String spec) {
    int colon = spec.indexOf(':');
    String userPart = colon < 0 ? spec : spec.substring(0, colon);
    String groupPart = colon < 0 ? null : spec.substring(colon + 1);
    List<String[]> passwd = null;
    String[] entry = null;
    Integer uid = number(userPart);
    if (uid == null || groupPart == null) {
      passwd = table(rootfs, "etc/passwd");
      for (String[] e : passwd) {
        if (e.length >= 4 && (uid == null ? e[0].equals(userPart) : e[2].equals(userPart))) {
          entry = e;
          break;
        }
      }
      if (uid == null && entry == null) {
        throw LabenvException.badInput("user \"" + userPart + "\": not in the image's /etc/passwd");
      }
    }
    if (uid == null) {
      uid = number(entry[2]);
    }
    Integer gid = groupPart == null ? (entry != null ? number(entry[3]) : Integer.valueOf(0)) : number(groupPart);
    List<String[]> groups = null;
    if (gid == null) {
      groups = table(rootfs, "etc/group");
      for (String[] g : groups) {
        if (g.length >= 3 && g[0].equals(groupPart)) {
          gid = number(g[2]);
        }
      }
      if (gid == null) {
        throw LabenvException.badInput("group \"" + groupPart + "\": not in the image's /etc/group");
      }
    }
    if (uid == null || uid < 0) {
      throw LabenvException.badInput("user \"" + spec + "\": bad uid");
    }
    // As initgroups(3) does: the primary group first, then every group that lists the user.
    List<Integer> additional = new ArrayList<>(List.of(gid));
    if (entry != null && groupPart == null) {
      if (groups == null) {
        groups = table(rootfs, "etc/group");
      }
      for (String[] g : groups) {
        if (g.length >= 4 && List.of(g[3].split(",")).contains(entry[0])) {
          Integer n = number(g[2]);
          if (n != null && !n.equals(gid) && !additional.contains(n)) {
            additional.add(n);
          }
        }
      }
    }
    String home = entry != null && entry.length >= 6 && !entry[5].isEmpty() ? entry[5] : "/";
    return new Identity(new ContainerSpec.User(uid, gid, additional), home);
  }

  private static Integer number(String s) {
    if (s == null || s.isEmpty() || s.length() > 10 || !s.chars().allMatch(Character::isDigit)) {
      return null;
    }
    long n = Long.parseLong(s);
    return n > 0xFFFF_FFFEL ? null : (int) n;
  }

  /** The colon-separated lines of a file in the image; empty when it is missing. */
  private static List<String[]> table(Path rootfs, String name) {
    List<String[]> rows = new ArrayList<>();
    int root = Syscalls.openat(Libc.AT_FDCWD, rootfs.toString().getBytes(StandardCharsets.UTF_8),
        Libc.O_PATH | Libc.O_DIRECTORY, 0);
    try {
      int fd;
      try {
        fd = Syscalls.openat2(root, name.getBytes(StandardCharsets.UTF_8), Libc.O_RDONLY, 0, Libc.RESOLVE_IN_ROOT);
      } catch (ErrnoException e) {
        if (e.errno() == Libc.ENOENT) {
          return rows;
        }
        throw e;
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try {
        byte[] buf = new byte[8192];
        long n;
        while ((n = Libc.read(fd, buf, buf.length)) > 0 && bytes.size() < (1 << 20)) {
          bytes.write(buf, 0, (int) n);
        }
      } finally {
        Syscalls.close(fd);
      }
      for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          rows.add(line.split(":", -1));
        }
      }
      return rows;
    } finally {
      Syscalls.close(root);
    }
  }
}
