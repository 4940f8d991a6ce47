package labenv.build;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.layer.LayerApplier;

/**
 * What a RUN step leaves behind that records when or where it ran rather than what it did: removed from the step's
 * changes before they are packed, so that two builds of the same Envfile give the same layer. The rule (documented
 * in the README, "Reproducible builds"):
 *
 * <ul>
 *   <li>logs of apt, dpkg and debconf ({@code var/log/apt/*}, {@code var/log/dpkg.log},
 *       {@code var/log/alternatives.log}, {@code var/log/bootstrap.log}, {@code var/log/fontconfig.log});
 *   <li>caches that are rebuilt on demand and carry timestamps: apt's binary caches and downloaded archives
 *       ({@code var/cache/apt/*.bin}, {@code var/cache/apt/archives/*.deb}, {@code .../partial/*}), debconf's and
 *       dpkg's {@code *-old} backups, {@code var/cache/ldconfig/aux-cache}, {@code var/cache/man},
 *       {@code var/cache/fontconfig}, pip's {@code root/.cache/pip};
 *   <li>the mount points a RUN container needed that were not in the image ({@code proc}, {@code sys},
 *       {@code dev}, {@code etc/resolv.conf}, {@code etc/hosts}) when they are empty.
 * </ul>
 *
 * Removing a file from a step's changes leaves the lower layers' version visible, so a cache that existed before
 * the step keeps its old content. Timestamps of everything else are clamped to SOURCE_DATE_EPOCH by the layer
 * writer, and RUN steps see {@code SOURCE_DATE_EPOCH} in their environment, so Python writes hash-checked
 * {@code __pycache__} files and shadow's tools date accounts from it.
 */
final class Noise {
  private Noise() {}

  /** Paths (relative to the root; the last segment may be a glob) removed from every RUN step's changes. */
  static final List<String> RULES = List.of(
      "var/log/apt/*", "var/log/dpkg.log", "var/log/alternatives.log", "var/log/bootstrap.log",
      "var/log/fontconfig.log", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
      "var/cache/apt/archives/partial/*", "var/cache/debconf/*-old", "var/lib/dpkg/*-old",
      "var/cache/ldconfig/aux-cache", "var/cache/man", "var/cache/fontconfig", "root/.cache/pip");

  /** Mount points the container runtime makes when the image lacks them. */
  static final List<String> MOUNT_POINTS = List.of("proc", "sys", "dev", "etc/resolv.conf", "etc/hosts");

  /**
   * Removes the noise from {@code upper} (a RUN step's overlay upper directory), and the mount points that no
   * layer in {@code lowers} has and that are empty. Returns the paths removed, for the build's log.
   */
  static List<String> normalize(Path upper, List<Path> lowers) {
    List<String> removed = new ArrayList<>();
    LayerApplier remover = new LayerApplier();
    for (String rule : RULES) {
      int slash = rule.lastIndexOf('/');
      Path dir = slash < 0 ? upper : upper.resolve(rule.substring(0, slash));
      String pattern = rule.substring(slash + 1);
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      if (pattern.indexOf('*') < 0) {
        Path p = dir.resolve(pattern);
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !isWhiteout(p)) {
          remover.remove(p);
          removed.add(rule);
        }
        continue;
      }
      try (DirectoryStream<Path> matches = Files.newDirectoryStream(dir, pattern)) {
        for (Path p : matches) {
          if (!isWhiteout(p)) {
            remover.remove(p);
            removed.add(upper.relativize(p).toString());
          }
        }
      } catch (IOException e) {
        throw LabenvException.failed("cannot list " + dir + ": " + e.getMessage(), e);
      }
    }
    for (String m : MOUNT_POINTS) {
      Path p = upper.resolve(m);
      if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) || inAny(lowers, m) || !isEmpty(p)) {
        continue;
      }
      remover.remove(p);
      removed.add(m);
    }
    return removed;
  }

  /** overlayfs marks a deleted name with a character device 0:0: a deletion is a real change, never noise. */
  private static boolean isWhiteout(Path p) {
    try {
      Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return ((Integer) mode & 0170000) == 0020000;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static boolean inAny(List<Path> lowers, String relative) {
    for (Path l : lowers) {
      if (Files.exists(l.resolve(relative), LinkOption.NOFOLLOW_LINKS)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isEmpty(Path p) {
    try {
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
          return !s.iterator().hasNext();
        }
      }
      return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
