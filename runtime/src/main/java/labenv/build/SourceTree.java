package labenv.build;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import labenv.LabenvException;
import labenv.layer.FileTree;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Names;
import labenv.linux.Stat;
import labenv.linux.Syscalls;

/**
 * A directory tree read as if it were a root file system: paths are resolved with symlinks followed but never out
 * of it (a symlink to /etc/x means root/etc/x, ".." stops at the root), and, for a build context, what the ignore
 * rules exclude is invisible, as if BuildKit had sent only the rest.
 *
 * <p>Files are reached by their path without symlinks, opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS):
 * a symlink swapped in after we resolved a path fails the open instead of leading elsewhere. Names are bytes.
 */
final class SourceTree implements AutoCloseable {
  private static final byte[] EMPTY = {};
  private static final int MAX_SYMLINKS = 40;
  private static final long BENEATH = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS;

  /** A file of the tree: its path without symlinks ("" for the root; '/'-separated bytes) and its lstat. */
  record Node(byte[] path, Stat stat) {
    String pathString() {
      return new String(path, StandardCharsets.UTF_8);
    }

    /** The last component ("" for the root). */
    byte[] name() {
      int slash = lastSlash(path);
      return Arrays.copyOfRange(path, slash + 1, path.length);
    }

    String display() {
      return path.length == 0 ? "." : Names.display(path);
    }
  }

  /** How a lookup ended: found, absent, or there but excluded by the ignore rules. */
  enum Found { FOUND, MISSING, IGNORED }

  /**
   * The end of a lookup. {@code node} is set when found; {@code components} is the path without symlinks, and for
   * a lenient lookup of a missing path, what exists of it followed by the rest taken literally.
   */
  record Resolution(Found found, Node node, List<byte[]> components) {}

  private final int rootfd;
  private final IgnoreRules ignore;
  private final String where;

  private SourceTree(int rootfd, IgnoreRules ignore, String where) {
    this.rootfd = rootfd;
    this.ignore = ignore;
    this.where = where;
  }

  static SourceTree open(Path root, IgnoreRules ignore, String where) {
    try {
      return new SourceTree(Syscalls.openat(Libc.AT_FDCWD, root.toAbsolutePath().toString().getBytes(
          StandardCharsets.UTF_8), Libc.O_PATH | Libc.O_DIRECTORY, 0), ignore, where);
    } catch (ErrnoException e) {
      throw LabenvException.failed("cannot open " + where + " (" + root + "): " + Libc.errorText(e.errno()), e);
    }
  }

  @Override
  public void close() {
    Syscalls.close(rootfd);
  }

  String where() {
    return where;
  }

  /** The ignore file's name, for messages ("" when nothing is ignored). */
  String ignoreFile() {
    return ignore.fileName();
  }

  Node root() {
    return new Node(EMPTY, Syscalls.lstat(rootfd, EMPTY));
  }

  /** lstat of the path (without symlinks), or null when there is nothing there. */
  Stat lstat(byte[] path) {
    if (path.length == 0) {
      return Syscalls.lstat(rootfd, EMPTY);
    }
    int fd;
    try {
      fd = Syscalls.openat2(rootfd, path, Libc.O_PATH | Libc.O_NOFOLLOW, 0, BENEATH);
    } catch (ErrnoException e) {
      if (e.errno() == Libc.ENOENT || e.errno() == Libc.ENOTDIR || e.errno() == Libc.ELOOP) {
        return null; // ELOOP: a symlink on the way, so the path is not one without symlinks
      }
      throw failure("stat", path, e);
    }
    try {
      return Syscalls.lstat(fd, EMPTY);
    } finally {
      Syscalls.close(fd);
    }
  }

  /** Opens a file for reading (the caller closes the fd). */
  int openFile(Node node) {
    try {
      return Syscalls.openat2(rootfd, node.path(), Libc.O_RDONLY | Libc.O_NOFOLLOW, 0, BENEATH);
    } catch (ErrnoException e) {
      throw failure("open", node.path(), e);
    }
  }

  /** Opens a directory (O_PATH) by its path without symlinks. */
  int openDirectory(byte[] path) {
    if (path.length == 0) {
      return Syscalls.openat(rootfd, new byte[] {'.'}, Libc.O_PATH | Libc.O_DIRECTORY, 0);
    }
    try {
      return Syscalls.openat2(rootfd, path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0, BENEATH);
    } catch (ErrnoException e) {
      throw failure("open", path, e);
    }
  }

  byte[] readlink(Node node) {
    int fd;
    try {
      fd = Syscalls.openat2(rootfd, node.path(), Libc.O_PATH | Libc.O_NOFOLLOW, 0, BENEATH);
    } catch (ErrnoException e) {
      throw failure("open", node.path(), e);
    }
    try {
      return Syscalls.readlinkat(fd, EMPTY);
    } finally {
      Syscalls.close(fd);
    }
  }

  private LabenvException failure(String call, byte[] path, ErrnoException e) {
    return LabenvException.failed(call + " \"" + Names.display(path) + "\" in " + where + ": "
        + Libc.errorText(e.errno()), e);
  }

  /**
   * Resolves a relative '/'-separated path inside the tree, following symlinks (the last one too when
   * {@code followLast}) as a chroot would: ".." stops at the root, an absolute symlink target starts again from it.
   * When {@code lenient}, a missing component does not end the lookup (MISSING): the rest of the path is taken
   * literally (".." still goes up), as for a destination that does not exist yet.
   */
  Resolution resolve(byte[] path, boolean followLast, boolean lenient) {
    Deque<byte[]> pending = new ArrayDeque<>(split(path));
    List<byte[]> real = new ArrayList<>();
    boolean missing = false;
    int links = 0;
    while (!pending.isEmpty()) {
      byte[] c = pending.removeFirst();
      if (isDot(c)) {
        continue;
      }
      if (isDotDot(c)) {
        if (!real.isEmpty()) {
          real.remove(real.size() - 1);
        }
        continue;
      }
      real.add(c);
      if (missing) {
        continue;
      }
      byte[] candidate = join(real);
      Stat st = lstat(candidate);
      if (st == null) {
        if (!lenient) {
          return new Resolution(Found.MISSING, null, real);
        }
        missing = true;
        continue;
      }
      if (st.isSymlink() && (followLast || !pending.isEmpty())) {
        Node link = new Node(candidate, st);
        if (!visibleLeaf(link)) {
          return new Resolution(Found.IGNORED, null, real);
        }
        if (++links > MAX_SYMLINKS) {
          throw LabenvException.badInput("too many levels of symbolic links resolving \"" + Names.display(path) + "\" in "
              + where);
        }
        byte[] target = readlink(link);
        real.remove(real.size() - 1);
        if (target.length > 0 && target[0] == '/') {
          real.clear();
        }
        List<byte[]> parts = split(target);
        for (int i = parts.size() - 1; i >= 0; i--) {
          pending.addFirst(parts.get(i));
        }
        continue;
      }
      if (!pending.isEmpty() && !st.isDirectory()) {
        if (!lenient) {
          return new Resolution(Found.MISSING, null, real); // ENOTDIR
        }
        throw LabenvException.badInput("\"" + Names.display(candidate) + "\" in " + where + " is not a directory");
      }
    }
    if (missing) {
      return new Resolution(Found.MISSING, null, real);
    }
    byte[] p = join(real);
    Stat st = lstat(p);
    if (st == null) {
      return new Resolution(Found.MISSING, null, real);
    }
    Node node = new Node(p, st);
    if (!visible(node)) {
      return new Resolution(Found.IGNORED, null, real);
    }
    return new Resolution(Found.FOUND, node, real);
  }

  /**
   * What a directory holds that a COPY sees, sorted by the bytes of the names: what the ignore rules exclude is
   * left out (an excluded directory stays when an exception re-includes something below it), and so are sockets.
   */
  List<Node> children(Node dir) {
    int fd = openDirectory(dir.path());
    List<byte[]> names;
    List<Node> out = new ArrayList<>();
    try {
      names = FileTree.list(fd);
      names.sort(Arrays::compareUnsigned);
      for (byte[] name : names) {
        Stat st = Syscalls.lstatOrNull(fd, name);
        if (st == null || st.type() == Libc.S_IFSOCK) {
          continue;
        }
        Node child = new Node(child(dir.path(), name), st);
        if (ignore.isEmpty() || !ignore.ignored(child.pathString())) {
          out.add(child);
        } else if (st.isDirectory() && ignore.mayIncludeBelow(child.pathString()) && !children(child).isEmpty()) {
          out.add(child);
        }
      }
    } finally {
      Syscalls.close(fd);
    }
    return out;
  }

  /** Whether a context transfer would have sent this node (and so a COPY can see it). */
  private boolean visible(Node node) {
    if (ignore.isEmpty() || node.path().length == 0) {
      return true;
    }
    if (!visibleLeaf(node)) {
      return node.stat().isDirectory() && ignore.mayIncludeBelow(node.pathString()) && ancestorsWalked(node.path())
          && !children(node).isEmpty();
    }
    return true;
  }

  /** Not excluded itself, and every excluded ancestor is one the walk looks into. */
  private boolean visibleLeaf(Node node) {
    if (ignore.isEmpty()) {
      return true;
    }
    return !ignore.ignored(node.pathString()) && ancestorsWalked(node.path());
  }

  private boolean ancestorsWalked(byte[] path) {
    for (int i = 0; i < path.length; i++) {
      if (path[i] == '/') {
        String ancestor = new String(path, 0, i, StandardCharsets.UTF_8);
        if (ignore.ignored(ancestor) && !ignore.mayIncludeBelow(ancestor)) {
          return false;
        }
      }
    }
    return true;
  }

  static byte[] child(byte[] dir, byte[] name) {
    if (dir.length == 0) {
      return name.clone();
    }
    byte[] out = Arrays.copyOf(dir, dir.length + 1 + name.length);
    out[dir.length] = '/';
    System.arraycopy(name, 0, out, dir.length + 1, name.length);
    return out;
  }

  static byte[] join(List<byte[]> components) {
    byte[] out = EMPTY;
    for (byte[] c : components) {
      out = child(out, c);
    }
    return out;
  }

  static List<byte[]> split(byte[] path) {
    List<byte[]> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= path.length; i++) {
      if (i == path.length || path[i] == '/') {
        if (i > start) {
          out.add(Arrays.copyOfRange(path, start, i));
        }
        start = i + 1;
      }
    }
    return out;
  }

  private static int lastSlash(byte[] path) {
    for (int i = path.length - 1; i >= 0; i--) {
      if (path[i] == '/') {
        return i;
      }
    }
    return -1;
  }

  private static boolean isDot(byte[] c) {
    return c.length == 1 && c[0] == '.';
  }

  private static boolean isDotDot(byte[] c) {
    return c.length == 2 && c[0] == '.' && c[1] == '.';
  }
}
