package labenv.build;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.layer.LayerApplier;

/**
 * What a RUN step leaves behind that records when or where it ran rather than what it did: removed from the step's
 * changes before they are packed, so that two builds of the same Envfile give the same layer; and the environment
 * that keeps the tools a step runs from writing such things in the first place. The rules (the README's
 * "Reproducible builds" has the short list):
 *
 * <ul>
 *   <li>logs of apt, dpkg and debconf ({@code var/log/apt/*}, {@code var/log/dpkg.log},
 *       {@code var/log/alternatives.log}, {@code var/log/bootstrap.log}, {@code var/log/fontconfig.log}): each line
 *       carries the wall-clock time of the install;
 *   <li>caches that are rebuilt on demand and carry timestamps: apt's binary caches and downloaded archives
 *       ({@code var/cache/apt/*.bin}, {@code var/cache/apt/archives/*.deb}, {@code .../partial/*}), debconf's and
 *       dpkg's {@code *-old} backups, {@code var/cache/ldconfig/aux-cache}, {@code var/cache/man},
 *       {@code var/cache/fontconfig}, pip's {@code root/.cache/pip} and {@code home/USER/.cache/pip};
 *   <li>Python bytecode that can never be used: a {@code __pycache__/*.pyc} written by the import system (not by
 *       compileall, py_compile, pip or Debian's py3compile, which write hash-checked ones because SOURCE_DATE_EPOCH
 *       is set) records its source's mtime, and when that is later than the source date epoch it is the time the
 *       step made the source: different in every build, and stale once the layer writer clamps the source's mtime
 *       to the epoch, so Python would recompile it anyway. Timestamp pycs of sources no later than the epoch (from
 *       a package, or a lower layer) match their source in the image and are kept;
 *   <li>the mount points a RUN container needed that were not in the image ({@code proc}, {@code sys},
 *       {@code dev}, {@code etc/resolv.conf}, {@code etc/hosts}) when they are empty.
 * </ul>
 *
 * Removing a file from a step's changes leaves the lower layers' version visible, so a cache that existed before
 * the step keeps its old content. Timestamps of everything else are clamped to SOURCE_DATE_EPOCH by the layer
 * writer. RUN steps see {@link #runEnvironment}: {@code SOURCE_DATE_EPOCH}, so that Python writes hash-checked
 * {@code .pyc} files, shadow's tools date accounts ({@code /etc/shadow}'s last change) from it rather than from
 * today (at epoch 0 useradd leaves the field empty, no password aging, rather than 0, a forced change), and the
 * many tools that honour it stamp it instead of the clock; and {@code PYTHONHASHSEED=0}, because Python randomises
 * string hashes per process, so a set of names a step writes out comes out in another order every build
 * (matplotlib's font list cache, {@code ~/.cache/matplotlib/fontlist-*.json}, written on its first import, was one).
 */
final class Noise {
  private Noise() {}

  /** Paths (relative to the root; the last segment may be a glob) removed from every RUN step's changes. */
  static final List<String> RULES = List.of(
      "var/log/apt/*", "var/log/dpkg.log", "var/log/alternatives.log", "var/log/bootstrap.log",
      "var/log/fontconfig.log", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
      "var/cache/apt/archives/partial/*", "var/cache/debconf/*-old", "var/lib/dpkg/*-old",
      "var/cache/ldconfig/aux-cache", "var/cache/man", "var/cache/fontconfig", "root/.cache/pip",
      "home/*/.cache/pip");

  /**
   * The variables every RUN step gets unless the stage's ENV or an ARG sets them (not kept in the image's config):
   * see the class comment for why each.
   */
  static Map<String, String> runEnvironment(long sourceDateEpoch) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(labenv.SourceDateEpoch.VARIABLE, Long.toString(sourceDateEpoch));
    env.put("PYTHONHASHSEED", "0");
    return env;
  }

  /** Mount points the container runtime makes when the image lacks them. */
  static final List<String> MOUNT_POINTS = List.of("proc", "sys", "dev", "etc/resolv.conf", "etc/hosts");

  /**
   * Removes the noise from {@code upper} (a RUN step's overlay upper directory, to be packed with mtimes clamped to
   * {@code sourceDateEpoch}), and the mount points that no layer in {@code lowers} has and that are empty. Returns
   * the paths removed, for the build's log.
   */
  static List<String> normalize(Path upper, List<Path> lowers, long sourceDateEpoch) {
    List<String> removed = new ArrayList<>();
    LayerApplier remover = new LayerApplier();
    for (String rule : RULES) {
      for (Path p : matches(upper, rule.split("/"), 0)) {
        if (!isWhiteout(p)) {
          remover.remove(p);
          removed.add(upper.relativize(p).toString());
        }
      }
    }
    for (Path pyc : stalePycs(upper, sourceDateEpoch)) {
      remover.remove(pyc);
      removed.add(upper.relativize(pyc).toString());
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

  /**
   * The {@code __pycache__/*.pyc} files below {@code upper} that are timestamp-based (PEP 552 flags 0) and record a
   * source mtime later than the epoch: the ones the class comment explains.
   */
  static List<Path> stalePycs(Path upper, long sourceDateEpoch) {
    List<Path> stale = new ArrayList<>();
    try {
      Files.walkFileTree(upper, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          if (attrs.isRegularFile() && attrs.size() >= PYC_HEADER && file.getFileName().toString().endsWith(".pyc")
              && file.getParent().getFileName().toString().equals("__pycache__")
              && isStaleTimestampPyc(file, sourceDateEpoch)) {
            stale.add(file);
          }
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + upper + ": " + e.getMessage(), e);
    }
    return stale;
  }

  /** A pyc's header: magic (2 bytes of version, then \r\n), flags, then the source's mtime and size or its hash. */
  private static final int PYC_HEADER = 16;

  static boolean isStaleTimestampPyc(Path file, long sourceDateEpoch) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(PYC_HEADER).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      while (header.hasRemaining() && ch.read(header) > 0) {
        // a pyc header is read in one go; the loop is for the contract
      }
    }
    if (header.hasRemaining() || header.get(2) != '\r' || header.get(3) != '\n' || header.getInt(4) != 0) {
      return false; // not a pyc (of Python 3.7 or later), or hash-based
    }
    long sourceMtime = Integer.toUnsignedLong(header.getInt(8));
    // 32 bits of seconds: an epoch beyond 2106 wraps, as Python's own comparison does
    return sourceMtime > (sourceDateEpoch & 0xFFFFFFFFL);
  }

  /** The paths below {@code dir} that {@code segments} (from {@code i}; each a name or a glob) name, links not followed. */
  private static List<Path> matches(Path dir, String[] segments, int i) {
    List<Path> out = new ArrayList<>();
    boolean last = i == segments.length - 1;
    String segment = segments[i];
    List<Path> here = new ArrayList<>();
    if (segment.indexOf('*') < 0) {
      Path p = dir.resolve(segment);
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        here.add(p);
      }
    } else if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, segment)) {
        found.forEach(here::add);
      } catch (IOException e) {
        throw LabenvException.failed("cannot list " + dir + ": " + e.getMessage(), e);
      }
    }
    for (Path p : here) {
      if (last) {
        out.add(p);
      } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        out.addAll(matches(p, segments, i + 1));
      }
    }
    return out;
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
