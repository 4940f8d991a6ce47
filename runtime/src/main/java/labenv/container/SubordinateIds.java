package labenv.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The ranges of subordinate uids and gids an ordinary user may map into a user namespace ({@code /etc/subuid},
 * {@code /etc/subgid}, lines {@code NAME-OR-ID:START:COUNT}) through the setuid helpers newuidmap and newgidmap.
 * With them, a rootless container has ids 1..COUNT besides root, so images with other users work; without them,
 * only root (the caller) is mapped.
 */
record SubordinateIds(long uidStart, long uidCount, long gidStart, long gidCount) {

  /** The caller's first uid and gid ranges, when both files have one and both helpers are installed. */
  static Optional<SubordinateIds> of(String user, int uid, int gid) {
    if (!executable("newuidmap") || !executable("newgidmap")) {
      return Optional.empty();
    }
    long[] u = range(Path.of("/etc/subuid"), user, uid);
    long[] g = range(Path.of("/etc/subgid"), user, uid);
    if (g == null) {
      g = range(Path.of("/etc/subgid"), groupName(gid), gid);
    }
    return u == null || g == null ? Optional.empty() : Optional.of(new SubordinateIds(u[0], u[1], g[0], g[1]));
  }

  /** unshare's options that map root to the caller and 1..COUNT to the range (it runs the helpers). */
  List<String> unshareOptions() {
    return List.of("--user", "--map-user=0", "--map-group=0", "--map-users=" + uidStart + ",1," + uidCount,
        "--map-groups=" + gidStart + ",1," + gidCount);
  }

  private static long[] range(Path file, String name, long id) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      return null;
    }
    for (String line : lines) {
      String[] f = line.trim().split(":");
      if (f.length == 3 && (f[0].equals(name) || f[0].equals(Long.toString(id)))) {
        try {
          long start = Long.parseLong(f[1]);
          long count = Long.parseLong(f[2]);
          if (start > 0 && count > 0) {
            return new long[] {start, count};
          }
        } catch (NumberFormatException e) {
          // a malformed line is skipped, as shadow-utils does
        }
      }
    }
    return null;
  }

  private static String groupName(int gid) {
    try {
      for (String line : Files.readAllLines(Path.of("/etc/group"))) {
        String[] f = line.split(":");
        if (f.length >= 3 && f[2].equals(Integer.toString(gid))) {
          return f[0];
        }
      }
    } catch (IOException e) {
      // no name: the gid alone is looked up
    }
    return Integer.toString(gid);
  }

  private static boolean executable(String helper) {
    return Files.isExecutable(Path.of("/usr/bin", helper)) || Files.isExecutable(Path.of("/bin", helper));
  }
}
