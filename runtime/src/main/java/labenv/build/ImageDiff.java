package labenv.build;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.layer.Decompression;
import labenv.linux.Names;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.tar.TarEntry;
import labenv.tar.TarReader;

/**
 * How two images' file systems differ: what {@code labenv build --check} shows when two builds of the same input
 * give two digests.
 *
 * <p>Each image's final file system is worked out from its layers as an unpacker would make it, without unpacking:
 * layers in order, OCI whiteouts ({@code .wh.NAME} removes NAME and what is below it in lower layers, {@code
 * .wh..wh..opq} empties its directory of lower layers' content; neither touches what its own layer adds), a
 * non-directory replacing a directory takes what was below it. Layers are read streaming from the store; file
 * contents are hashed as they pass and never held; the metadata of every path is. A hard link is its target's file
 * (same content, mode, owner, time) plus the note of what it links to, so a file that became a copy instead of a link
 * shows. The root directory is left out: layer writers disagree on whether it is an entry at all.
 *
 * <p>Paths are shown absolute, "/etc/passwd"; names that are not UTF-8 with \xNN escapes.
 */
public final class ImageDiff {
  private ImageDiff() {}

  /** The kinds, in the order one path's differences are listed. */
  public static final List<String> KINDS = List.of("only-in-a", "only-in-b", "type", "content", "link-target",
      "mode", "owner", "mtime", "xattrs");

  /**
   * One way one path differs.
   *
   * @param path absolute, in the image
   * @param kind one of {@link #KINDS}
   * @param detail a's value then b's, as people read them: {@code 0644 vs 0755}, {@code sha256 1a2b… vs 3c4d…}
   */
  public record FileDifference(String path, String kind, String detail) {}

  /** A path of the final file system, as far as comparing goes. */
  private record Node(TarEntry.Type type, int mode, long uid, long gid, long mtime, long size, String sha256,
      String linkTarget, String hardlinkTo, int devMajor, int devMinor, SortedMap<String, String> xattrs) {

    String describe() {
      return switch (type) {
        case FILE, HARDLINK -> "file, " + size + " bytes" + (hardlinkTo != null ? ", hard link to " + hardlinkTo : "");
        case DIRECTORY -> "directory";
        case SYMLINK -> "symlink to " + linkTarget;
        case CHAR_DEVICE -> "char device " + devMajor + ":" + devMinor;
        case BLOCK_DEVICE -> "block device " + devMajor + ":" + devMinor;
        case FIFO -> "fifo";
      };
    }
  }

  /**
   * The differences between {@code a}'s and {@code b}'s final file systems, sorted by path, each path's in the order
   * of {@link #KINDS}. Empty when they hold the same files with the same metadata (the images may still differ in
   * their configs, or in how the same files are packed).
   *
   * @throws LabenvException failed when a layer cannot be read; bad input for a corrupt layer
   */
  public static List<FileDifference> compare(ContentStore store, Image a, Image b) {
    List<Descriptor> la = a.manifest().layers();
    List<Descriptor> lb = b.manifest().layers();
    int common = 0;
    while (common < la.size() && common < lb.size() && la.get(common).digest().equals(lb.get(common).digest())) {
      common++;
    }
    if (common == la.size() && common == lb.size()) {
      return List.of();
    }
    // The shared lower layers are read once.
    TreeMap<String, Node> base = new TreeMap<>();
    for (int i = 0; i < common; i++) {
      apply(store, la.get(i), base);
    }
    TreeMap<String, Node> fa = new TreeMap<>(base);
    for (int i = common; i < la.size(); i++) {
      apply(store, la.get(i), fa);
    }
    TreeMap<String, Node> fb = base;
    for (int i = common; i < lb.size(); i++) {
      apply(store, lb.get(i), fb);
    }
    return differences(fa, fb);
  }

  private static List<FileDifference> differences(SortedMap<String, Node> fa, SortedMap<String, Node> fb) {
    TreeSet<String> paths = new TreeSet<>(fa.keySet());
    paths.addAll(fb.keySet());
    List<FileDifference> out = new ArrayList<>();
    for (String path : paths) {
      Node x = fa.get(path);
      Node y = fb.get(path);
      String shown = "/" + path;
      if (y == null) {
        out.add(new FileDifference(shown, "only-in-a", x.describe()));
        continue;
      }
      if (x == null) {
        out.add(new FileDifference(shown, "only-in-b", y.describe()));
        continue;
      }
      if (kindOf(x.type()) != kindOf(y.type())) {
        out.add(new FileDifference(shown, "type", x.describe() + " vs " + y.describe()));
        continue;
      }
      switch (kindOf(x.type())) {
        case FILE -> {
          if (!x.sha256().equals(y.sha256())) {
            String sizes = x.size() == y.size() ? "" : x.size() + " vs " + y.size() + " bytes, ";
            out.add(new FileDifference(shown, "content", sizes + "sha256 " + shortHash(x.sha256()) + " vs "
                + shortHash(y.sha256())));
          }
          if (!Objects.equals(x.hardlinkTo(), y.hardlinkTo())) {
            out.add(new FileDifference(shown, "link-target", hardlink(x) + " vs " + hardlink(y)));
          }
        }
        case SYMLINK -> {
          if (!x.linkTarget().equals(y.linkTarget())) {
            out.add(new FileDifference(shown, "link-target", x.linkTarget() + " vs " + y.linkTarget()));
          }
        }
        case CHAR_DEVICE, BLOCK_DEVICE -> {
          if (x.devMajor() != y.devMajor() || x.devMinor() != y.devMinor()) {
            out.add(new FileDifference(shown, "content", "device " + x.devMajor() + ":" + x.devMinor() + " vs "
                + y.devMajor() + ":" + y.devMinor()));
          }
        }
        default -> { }
      }
      if (x.mode() != y.mode()) {
        out.add(new FileDifference(shown, "mode", octal(x.mode()) + " vs " + octal(y.mode())));
      }
      if (x.uid() != y.uid() || x.gid() != y.gid()) {
        out.add(new FileDifference(shown, "owner", x.uid() + ":" + x.gid() + " vs " + y.uid() + ":" + y.gid()));
      }
      if (x.mtime() != y.mtime()) {
        out.add(new FileDifference(shown, "mtime", x.mtime() + " vs " + y.mtime()));
      }
      if (!x.xattrs().equals(y.xattrs())) {
        out.add(new FileDifference(shown, "xattrs", xattrs(x.xattrs(), y.xattrs())));
      }
    }
    return out;
  }

  /** A hard link is a file for comparing; only what it links to is its own. */
  private static TarEntry.Type kindOf(TarEntry.Type t) {
    return t == TarEntry.Type.HARDLINK ? TarEntry.Type.FILE : t;
  }

  private static String hardlink(Node n) {
    return n.hardlinkTo() == null ? "not a hard link" : "hard link to /" + n.hardlinkTo();
  }

  private static String xattrs(SortedMap<String, String> x, SortedMap<String, String> y) {
    TreeSet<String> names = new TreeSet<>(x.keySet());
    names.addAll(y.keySet());
    List<String> parts = new ArrayList<>();
    for (String n : names) {
      if (!y.containsKey(n)) {
        parts.add(n + " only in a");
      } else if (!x.containsKey(n)) {
        parts.add(n + " only in b");
      } else if (!x.get(n).equals(y.get(n))) {
        parts.add(n + " differs");
      }
    }
    return String.join(", ", parts);
  }

  private static String octal(int mode) {
    return String.format("%04o", mode & 07777);
  }

  private static String shortHash(String hex) {
    return hex.substring(0, 12) + "…";
  }

  /**
   * A readable report of at most {@code limit} paths, one line each with all of its differences:
   * {@code /etc/x: content differs (sha256 1a2b… vs 3c4d…), mode 0644 vs 0755}; a last line counts the paths left
   * out. No differences: a line saying so.
   */
  public static String describe(List<FileDifference> differences, int limit) {
    Map<String, List<FileDifference>> byPath = new LinkedHashMap<>();
    for (FileDifference d : differences) {
      byPath.computeIfAbsent(d.path(), p -> new ArrayList<>()).add(d);
    }
    if (byPath.isEmpty()) {
      return "the file systems are the same";
    }
    StringBuilder b = new StringBuilder();
    b.append(byPath.size()).append(byPath.size() == 1 ? " path differs" : " paths differ").append(":\n");
    int shown = 0;
    for (Map.Entry<String, List<FileDifference>> e : byPath.entrySet()) {
      if (shown == limit) {
        int rest = byPath.size() - shown;
        b.append("  … and ").append(rest).append(rest == 1 ? " more path\n" : " more paths\n");
        break;
      }
      List<String> parts = new ArrayList<>();
      for (FileDifference d : e.getValue()) {
        parts.add(switch (d.kind()) {
          case "only-in-a" -> "only in a (" + d.detail() + ")";
          case "only-in-b" -> "only in b (" + d.detail() + ")";
          case "type" -> "type " + d.detail();
          case "content" -> "content differs (" + d.detail() + ")";
          case "link-target" -> "link target " + d.detail();
          case "xattrs" -> "xattrs differ (" + d.detail() + ")";
          default -> d.kind() + " " + d.detail();
        });
      }
      b.append("  ").append(e.getKey()).append(": ").append(String.join(", ", parts)).append('\n');
      shown++;
    }
    return b.toString();
  }

  // --- the final file system

  private static final String WHITEOUT = ".wh.";
  private static final String OPAQUE = ".wh..wh..opq";

  /** Applies one layer to {@code fs}: its whiteouts to the lower layers' paths, then its own entries. */
  private static void apply(ContentStore store, Descriptor layer, TreeMap<String, Node> fs) {
    Map<String, Node> added = new LinkedHashMap<>();
    List<String> whiteouts = new ArrayList<>();
    List<String> opaque = new ArrayList<>();
    MessageDigest sha = Digest.newSha256();
    byte[] buf = new byte[64 * 1024];
    try (InputStream blob = store.open(layer);
         InputStream plain = Decompression.open(new BufferedInputStream(blob, 256 * 1024))) {
      TarReader reader = new TarReader(plain);
      TarEntry e;
      while ((e = reader.next()) != null) {
        String path = normalize(e.path().bytes());
        if (path.isEmpty()) {
          continue;
        }
        int slash = path.lastIndexOf('/');
        String dir = slash < 0 ? "" : path.substring(0, slash);
        String base = path.substring(slash + 1);
        if (base.equals(OPAQUE)) {
          opaque.add(dir);
          continue;
        }
        if (base.startsWith(WHITEOUT)) {
          whiteouts.add(dir.isEmpty() ? base.substring(WHITEOUT.length())
              : dir + "/" + base.substring(WHITEOUT.length()));
          continue;
        }
        Node node;
        if (e.type() == TarEntry.Type.HARDLINK) {
          String target = normalize(e.linkTarget());
          Node t = added.containsKey(target) ? added.get(target) : fs.get(target);
          node = t == null || kindOf(t.type()) != TarEntry.Type.FILE
              ? new Node(TarEntry.Type.HARDLINK, e.mode() & 07777, e.uid(), e.gid(), e.mtime(), 0, "", null, target, 0, 0,
                  xattrs(e))
              // one inode: the target's metadata is the link's
              : new Node(TarEntry.Type.HARDLINK, t.mode(), t.uid(), t.gid(), t.mtime(), t.size(), t.sha256(), null,
                  target, 0, 0, t.xattrs());
        } else {
          String hash = null;
          if (e.type() == TarEntry.Type.FILE) {
            sha.reset();
            InputStream content = reader.content();
            int n;
            while ((n = content.read(buf)) >= 0) {
              sha.update(buf, 0, n);
            }
            hash = HexFormat.of().formatHex(sha.digest());
          }
          String link = e.type() == TarEntry.Type.SYMLINK ? Names.display(e.linkTarget()) : null;
          node = new Node(e.type(), e.mode() & 07777, e.uid(), e.gid(), e.mtime(), e.size(), hash, link, null,
              e.devMajor(), e.devMinor(), xattrs(e));
        }
        // a later entry for the same path in one layer replaces the earlier one, as unpacking does
        added.remove(path);
        added.put(path, node);
      }
    } catch (IOException x) {
      throw LabenvException.failed("cannot read layer " + layer.digest() + ": " + x.getMessage(), x);
    } catch (LabenvException x) {
      throw x.withContext("layer " + layer.digest());
    }
    for (String w : whiteouts) {
      fs.remove(w);
      below(fs, w).clear();
    }
    for (String d : opaque) {
      below(fs, d).clear();
    }
    Set<String> own = new HashSet<>();
    for (Map.Entry<String, Node> x : added.entrySet()) {
      String path = x.getKey();
      Node n = x.getValue();
      Node lower = fs.put(path, n);
      own.add(path);
      if (lower != null && lower.type() == TarEntry.Type.DIRECTORY && n.type() != TarEntry.Type.DIRECTORY) {
        below(fs, path).keySet().removeIf(p -> !own.contains(p));
      }
      // parents the layer does not list are made by the unpacker: 0755, root's, time unknown (0)
      for (int s = path.lastIndexOf('/'); s > 0; s = path.lastIndexOf('/', s - 1)) {
        String parent = path.substring(0, s);
        if (fs.containsKey(parent) || added.containsKey(parent)) {
          break;
        }
        fs.put(parent, new Node(TarEntry.Type.DIRECTORY, 0755, 0, 0, 0, 0, null, null, null, 0, 0,
            new TreeMap<>()));
      }
    }
  }

  /** Everything below {@code dir} ("" for the root), as a view: clearing it removes them. */
  private static SortedMap<String, Node> below(TreeMap<String, Node> fs, String dir) {
    if (dir.isEmpty()) {
      return fs;
    }
    // '0' follows '/': the range holds exactly the paths that start with "dir/"
    return fs.subMap(dir + "/", dir + "0");
  }

  /** The entry's path without "./", leading or trailing "/", or "." components. */
  private static String normalize(byte[] raw) {
    List<String> parts = new ArrayList<>();
    for (String c : Names.display(raw).split("/")) {
      if (!c.isEmpty() && !c.equals(".")) {
        parts.add(c);
      }
    }
    return String.join("/", parts);
  }

  /** The xattrs by name, their values as hex (compared, never shown). */
  private static SortedMap<String, String> xattrs(TarEntry e) {
    SortedMap<String, String> out = new TreeMap<>();
    for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
      out.put(x.getKey(), HexFormat.of().formatHex(x.getValue()));
    }
    return out;
  }
}
