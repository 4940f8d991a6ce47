package labenv.layer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.io.ObservingInputStream;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;
import labenv.tar.TarEntry;
import labenv.tar.TarPath;
import labenv.tar.TarReader;

/**
 * Unpacks layers into a root filesystem, with OCI whiteouts, and never writes outside the root.
 *
 * <p>Containment. Entry names and hardlink targets must be relative and free of "..": an absolute name or a ".."
 * component is an error (Docker strips or cleans them; a layer that needs it is broken or hostile). Each entry's
 * parent directory is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the root, so the kernel
 * follows symlinks already in the tree but fails (EXDEV) on any that would leave it; an absolute symlink met on the
 * way counts as leaving, which makes writing through a symlink such as {@code evil -> /} an error rather than
 * silently re-rooting it as RESOLVE_IN_ROOT would (layers made by diffing a filesystem never write through
 * symlinks). The final component is created with O_EXCL/O_NOFOLLOW or the *at call's no-follow flag, after removing
 * whatever was there, so a planted symlink is replaced, never followed. All file system work is done with *at
 * system calls on directory fds and name bytes, so names need not be UTF-8.
 *
 * <p>Whiteouts follow the OCI image spec: {@code .wh.NAME} removes NAME of lower layers; {@code .wh..wh..opq}
 * removes the lower layers' content of its directory; neither touches what the same layer creates, whatever the
 * order of entries. Directory modes and times are set at the end of each layer, deepest first, so that adding
 * children doesn't change them and restrictive modes don't lock us out.
 *
 * <p>{@link #apply} is not atomic: a failure leaves the tree half-applied. {@link #unpack} is: it builds the root in
 * a fresh directory beside the target and renames it into place only when every layer applied.
 */
public final class LayerApplier {
  /**
   * How to unpack.
   *
   * @param root whether we may do what needs root: create device nodes, set owners, set trusted.* xattrs
   * @param keepOwners whether to give files the archive's owners (only with root; otherwise files are ours)
   * @param overlayWhiteouts whether to build an overlayfs lower directory from one layer rather than a merged
   *     root: OCI whiteouts become overlayfs ones ({@code .wh.NAME} a 0:0 character device NAME,
   *     {@code .wh..wh..opq} the xattr {@code trusted.overlay.opaque=y} on its directory) and nothing is deleted;
   *     needs root
   */
  public record Options(boolean root, boolean keepOwners, boolean overlayWhiteouts) {
    public Options(boolean root, boolean keepOwners) {
      this(root, keepOwners, false);
    }

    /** These options, building overlayfs lower directories. */
    public Options withOverlayWhiteouts() {
      return new Options(root, keepOwners, true);
    }

    /** Root and owners kept when the effective uid is 0, neither otherwise. */
    public static Options forCurrentUser() {
      boolean root = Syscalls.isRoot();
      return new Options(root, root);
    }
  }

  private static final byte[] EMPTY = {};
  private static final byte[] DOT = {'.'};
  private static final byte[] WHITEOUT = ".wh.".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] OPAQUE = ".wh..wh..opq".getBytes(StandardCharsets.US_ASCII);
  private static final long RESOLVE = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_MAGICLINKS;
  private static final int EAGAIN = 11;
  private static final int E2BIG = 7;

  private final Options options;

  public LayerApplier() {
    this(Options.forCurrentUser());
  }

  public LayerApplier(Options options) {
    this.options = options;
  }

  public Options options() {
    return options;
  }

  /**
   * Applies one uncompressed layer onto the tree at {@code root}. The stream is read to its end and not closed.
   *
   * @param layerName how errors and warnings name the layer (usually its digest)
   * @return warnings: metadata the file system or our privileges could not take (xattrs), one line each
   * @throws UnsafeArchiveEntryException for an entry that would write outside the root or can't be created safely
   * @throws LabenvException BAD_INPUT for a corrupt archive, FAILED when the file system fails us
   */
  public List<String> apply(Path root, InputStream uncompressedLayer, String layerName) {
    int rootfd = openDirectory(root, Libc.O_PATH);
    try {
      try (Run run = new Run(rootfd, layerName)) {
        // Layers reach here verified against their digest: their end may be Go's unclosed one (see lenientEnd).
        TarReader reader = new TarReader(uncompressedLayer).lenientEnd();
        TarEntry entry;
        while ((entry = reader.next()) != null) {
          run.entry(entry, reader);
        }
        run.finish();
        return run.warnings;
      }
    } catch (UnsafeArchiveEntryException e) {
      throw e;
    } catch (LabenvException e) {
      throw e.getMessage().startsWith("layer " + layerName + ": ") ? e : e.withContext("layer " + layerName);
    } finally {
      Syscalls.close(rootfd);
    }
  }

  /**
   * Unpacks {@code layers}, lowest first, into a new directory {@code target}, which must not exist. The root is
   * built in a temporary directory beside it (same file system), synced, and renamed to {@code target} only when
   * every layer applied; on any failure the temporary directory is removed and {@code target} is not created.
   *
   * @return warnings, as {@link #apply} gives them, for all layers
   */
  public List<String> unpack(List<LayerSource> layers, Path target) {
    Path abs = target.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null || abs.getFileName() == null) {
      throw LabenvException.failed("unpack into \"" + target + "\": not a directory that can be created");
    }
    if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      throw LabenvException.failed("unpack into \"" + abs + "\": already exists");
    }
    byte[] random = new byte[6];
    new SecureRandom().nextBytes(random);
    Path temp = parent.resolve("." + abs.getFileName() + ".unpacking-" + HexFormat.of().formatHex(random));
    try {
      Files.createDirectory(temp);
      // The root gets the mode of a "./" entry if a layer has one; 0755 (whatever the umask) otherwise.
      Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException e) {
      throw LabenvException.failed("unpack into \"" + abs + "\": creating \"" + temp + "\": " + e.getMessage(), e);
    }
    try {
      List<String> warnings = new ArrayList<>();
      for (LayerSource layer : layers) {
        TarHash tar = null;
        try (InputStream blob = layer.open()) {
          tar = new TarHash(Decompression.open(blob));
          try (InputStream in = new ReadAhead(tar, layer.name())) {
            warnings.addAll(apply(temp, in, layer.name()));
          }
        } catch (IOException e) {
          throw LabenvException.failed("layer " + layer.name() + ": reading the blob: " + e.getMessage(), e);
        }
        // Checked once the layer applied (the reader reads to the end of the stream): a failing layer
        // is not decompressed to its end just to be hashed.
        if (layer.diffId() != null) {
          Digest actual = tar.digest();
          if (!actual.equals(layer.diffId())) {
            throw LabenvException.failed("layer " + layer.name() + ": uncompressed content is " + actual
                + " but the config's diff ID is " + layer.diffId());
          }
        }
      }
      publish(temp, abs, parent);
      return warnings;
    } catch (RuntimeException | Error e) {
      try {
        removeTree(temp);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /** syncfs, then an atomic no-replace rename, then fsync of the parent: the target is whole or absent. */
  private void publish(Path temp, Path target, Path parent) {
    int fd = openDirectory(temp, Libc.O_RDONLY);
    try {
      Libc.syncfs(fd);
    } catch (LastErrorException e) {
      throw new ErrnoException("syncfs", temp.toString(), e.getErrorCode());
    } finally {
      Syscalls.close(fd);
    }
    try {
      Libc.renameat2(Libc.AT_FDCWD, Syscalls.cstr(temp.toString()), Libc.AT_FDCWD, Syscalls.cstr(target.toString()),
          Libc.RENAME_NOREPLACE);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Libc.EEXIST) {
        throw LabenvException.failed("unpack into \"" + target + "\": already exists (unpacked concurrently?)");
      }
      throw new ErrnoException("renameat2", target.toString(), e.getErrorCode());
    }
    int pfd = openDirectory(parent, Libc.O_RDONLY);
    try {
      Syscalls.fsync(pfd, parent.toString());
    } finally {
      Syscalls.close(pfd);
    }
  }

  /**
   * Removes a tree this applier built (whatever its modes; device nodes and all), without following symlinks.
   * Missing is fine.
   */
  public void remove(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    if (abs.getParent() != null && Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      removeTree(abs);
    }
  }

  private void removeTree(Path dir) {
    int pfd = openDirectory(dir.getParent(), Libc.O_PATH);
    try {
      FileTree.remove(pfd, dir.getFileName().toString().getBytes(StandardCharsets.UTF_8), options.root());
    } finally {
      Syscalls.close(pfd);
    }
  }

  private static int openDirectory(Path dir, int flags) {
    try {
      return Libc.open(Syscalls.cstr(dir.toString()), flags | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("open", dir.toString(), e.getErrorCode());
    }
  }

  @FunctionalInterface
  private interface Creator {
    int create() throws LastErrorException;
  }

  /** A directory whose mode (and, for the layer's own directories, time) is set when the layer ends. */
  private record DirFix(String inode, int mode, Long mtime) {}

  /** The state of applying one layer. */
  private final class Run implements AutoCloseable {
    private final int rootfd;
    private final String layer;
    /** Every path this layer created, so whiteouts spare them (OCI: whiteouts apply to lower layers only). */
    private final TreeSet<TarPath> created = new TreeSet<>();
    private final TreeMap<TarPath, DirFix> dirFixes = new TreeMap<>();
    final List<String> warnings = new ArrayList<>();
    private final byte[] buffer = new byte[1 << 20];
    private final Memory nativeBuffer = new Memory(1 << 20);
    private TarEntry entry;

    Run(int rootfd, String layer) {
      this.rootfd = rootfd;
      this.layer = layer;
    }

    @Override
    public void close() {
      nativeBuffer.close();
    }

    void entry(TarEntry e, TarReader reader) {
      entry = e;
      try {
        apply(e, reader);
      } catch (ErrnoException x) {
        LabenvException.Kind kind = x.errno() == Libc.ENAMETOOLONG ? LabenvException.Kind.BAD_INPUT
            : LabenvException.Kind.FAILED;
        throw new LabenvException(kind, prefix() + x.getMessage(), x);
      }
    }

    private void apply(TarEntry e, TarReader reader) {
      List<byte[]> comps = components(e.path().bytes(), "path");
      if (comps.isEmpty()) {
        rootEntry(e);
        return;
      }
      byte[] base = comps.get(comps.size() - 1);
      List<byte[]> parent = comps.subList(0, comps.size() - 1);
      TarPath parentPath = join(parent);
      TarPath path = parentPath.resolve(base);
      if (startsWith(base, WHITEOUT)) {
        if (options.overlayWhiteouts()) {
          overlayWhiteout(parent, parentPath, base);
        } else {
          whiteout(parent, parentPath, base);
        }
        return;
      }
      if ((e.type() == TarEntry.Type.CHAR_DEVICE || e.type() == TarEntry.Type.BLOCK_DEVICE) && !options.root()) {
        throw unsafe("device node (" + (e.type() == TarEntry.Type.CHAR_DEVICE ? "char " : "block ")
            + e.devMajor() + ":" + e.devMinor() + "): creating device nodes needs root");
      }
      int dirfd = resolveDirectory(parent, "path", true);
      try {
        switch (e.type()) {
          case FILE -> file(dirfd, base, e, reader);
          case DIRECTORY -> directory(dirfd, base, path, e);
          case SYMLINK -> symlink(dirfd, base, e);
          case HARDLINK -> hardlink(dirfd, base, e);
          case CHAR_DEVICE, BLOCK_DEVICE, FIFO -> node(dirfd, base, e);
        }
      } finally {
        Syscalls.close(dirfd);
      }
      created.add(path);
    }

    private void rootEntry(TarEntry e) {
      if (e.type() != TarEntry.Type.DIRECTORY) {
        throw unsafe("a " + e.type().name().toLowerCase().replace('_', ' ') + " would replace the root directory");
      }
      int fd = openRoot();
      try {
        chown(fd, EMPTY, Libc.AT_EMPTY_PATH);
        for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
          setXattr(-1, procPath(fd, null), x.getKey(), x.getValue());
        }
        dirFixes.put(join(List.of()), new DirFix(Syscalls.lstat(fd, EMPTY).inodeKey(), e.mode(), e.mtime()));
      } finally {
        Syscalls.close(fd);
      }
    }

    private void file(int dirfd, byte[] base, TarEntry e, TarReader reader) {
      byte[] cbase = Syscalls.cstr(base);
      int fd = createReplacing(dirfd, base, "openat", () -> Libc.openat(dirfd, cbase,
          Libc.O_CREAT | Libc.O_EXCL | Libc.O_WRONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0600));
      try {
        writeContent(fd, reader);
        // chown clears setuid bits and file capabilities: owner first, then xattrs, then the mode.
        chown(fd, EMPTY, Libc.AT_EMPTY_PATH);
        for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
          setXattr(fd, null, x.getKey(), x.getValue());
        }
        try {
          Libc.fchmod(fd, e.mode() & 07777);
        } catch (LastErrorException x) {
          throw new ErrnoException("fchmod", Syscalls.display(base), x.getErrorCode());
        }
        setTimes(fd, EMPTY, Libc.AT_EMPTY_PATH, e.mtime());
      } finally {
        Syscalls.close(fd);
      }
    }

    /** Streams the entry's content into {@code fd}, straight through the fd we created (no reopening by path). */
    private void writeContent(int fd, TarReader reader) {
      InputStream in = reader.content();
      boolean sparse = reader.isSparse();
      long pos = 0;
      try {
        while (true) {
          int n = in.readNBytes(buffer, 0, buffer.length);
          if (n == 0) {
            break;
          }
          // A sparse entry's holes stay holes: a tiny archive must not be able to fill the disk with zeros.
          int chunk = sparse ? 64 * 1024 : n;
          for (int off = 0; off < n; off += chunk) {
            int len = Math.min(chunk, n - off);
            if (sparse && isZero(buffer, off, len)) {
              pos += len;
              continue;
            }
            if (sparse) {
              Libc.lseek(fd, pos, Libc.SEEK_SET);
            }
            writeFully(fd, off, len);
            pos += len;
          }
        }
        if (sparse) {
          Libc.ftruncate(fd, pos);
        }
      } catch (IOException x) {
        throw LabenvException.failed(prefix() + "reading content: " + x.getMessage(), x);
      } catch (LastErrorException x) {
        throw new ErrnoException("write", entry.path().toString(), x.getErrorCode());
      }
    }

    /** Writes {@code buffer[off, off+len)} through native memory (see {@link Libc#write(int, Pointer, long)}). */
    private void writeFully(int fd, int off, int len) {
      nativeBuffer.write(0, buffer, off, len);
      long done = 0;
      while (done < len) {
        try {
          done += Libc.write(fd, nativeBuffer.share(done), len - done);
        } catch (LastErrorException x) {
          if (x.getErrorCode() != Libc.EINTR) {
            throw x;
          }
        }
      }
    }

    private void directory(int dirfd, byte[] base, TarPath path, TarEntry e) {
      byte[] cbase = Syscalls.cstr(base);
      try {
        Libc.mkdirat(dirfd, cbase, 0700);
      } catch (LastErrorException x) {
        if (x.getErrorCode() != Libc.EEXIST) {
          throw new ErrnoException("mkdirat", Syscalls.display(base), x.getErrorCode());
        }
        // A directory over a directory keeps its content and takes the new metadata; anything else goes.
        if (!Syscalls.lstat(dirfd, base).isDirectory()) {
          FileTree.remove(dirfd, base, options.root());
          mkdirat(dirfd, base, 0700);
        }
      }
      chown(dirfd, base, Libc.AT_SYMLINK_NOFOLLOW);
      for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
        setXattr(-1, procPath(dirfd, base), x.getKey(), x.getValue());
      }
      dirFixes.put(path, new DirFix(Syscalls.lstat(dirfd, base).inodeKey(), e.mode(), e.mtime()));
    }

    private void symlink(int dirfd, byte[] base, TarEntry e) {
      byte[] target = e.linkTarget();
      if (target == null || target.length == 0) {
        throw bad("symlink with an empty target");
      }
      byte[] ctarget = Syscalls.cstr(target);
      byte[] cbase = Syscalls.cstr(base);
      createReplacing(dirfd, base, "symlinkat", () -> Libc.symlinkat(ctarget, dirfd, cbase));
      chown(dirfd, base, Libc.AT_SYMLINK_NOFOLLOW);
      for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
        setXattr(-1, procPath(dirfd, base), x.getKey(), x.getValue());
      }
      setTimes(dirfd, base, Libc.AT_SYMLINK_NOFOLLOW, e.mtime());
    }

    private void hardlink(int dirfd, byte[] base, TarEntry e) {
      byte[] rawTarget = e.linkTarget() == null ? EMPTY : e.linkTarget();
      String role = "hardlink target \"" + Syscalls.display(rawTarget) + "\"";
      List<byte[]> target = components(rawTarget, role);
      if (target.isEmpty()) {
        throw unsafe(role + " is the root directory");
      }
      byte[] targetBase = target.get(target.size() - 1);
      int targetDir = resolveDirectory(target.subList(0, target.size() - 1), role, false);
      if (targetDir < 0) {
        throw bad(role + " does not exist");
      }
      try {
        Stat st = Syscalls.lstatOrNull(targetDir, targetBase);
        if (st == null) {
          throw bad(role + " does not exist");
        }
        if (st.isDirectory()) {
          throw unsafe(role + " is a directory");
        }
        byte[] ctarget = Syscalls.cstr(targetBase);
        byte[] cbase = Syscalls.cstr(base);
        try {
          // Flags 0: a symlink target is linked itself, never followed.
          Libc.linkat(targetDir, ctarget, dirfd, cbase, 0);
          return;
        } catch (LastErrorException x) {
          if (x.getErrorCode() != Libc.EEXIST) {
            throw new ErrnoException("linkat", Syscalls.display(base), x.getErrorCode());
          }
        }
        if (Syscalls.lstat(dirfd, base).inodeKey().equals(st.inodeKey())) {
          return; // already a link to it
        }
        FileTree.remove(dirfd, base, options.root());
        try {
          Libc.linkat(targetDir, ctarget, dirfd, cbase, 0);
        } catch (LastErrorException x) {
          if (x.getErrorCode() == Libc.ENOENT) {
            throw bad(role + " does not exist (it was inside what this entry replaced)");
          }
          throw new ErrnoException("linkat", Syscalls.display(base), x.getErrorCode());
        }
      } finally {
        Syscalls.close(targetDir);
      }
    }

    private void node(int dirfd, byte[] base, TarEntry e) {
      int type = switch (e.type()) {
        case CHAR_DEVICE -> Libc.S_IFCHR;
        case BLOCK_DEVICE -> Libc.S_IFBLK;
        default -> Libc.S_IFIFO;
      };
      long dev = e.type() == TarEntry.Type.FIFO ? 0 : Syscalls.makedev(e.devMajor(), e.devMinor());
      byte[] cbase = Syscalls.cstr(base);
      createReplacing(dirfd, base, "mknodat", () -> Libc.mknodat(dirfd, cbase, type | 0600, dev));
      chown(dirfd, base, Libc.AT_SYMLINK_NOFOLLOW);
      for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
        setXattr(-1, procPath(dirfd, base), x.getKey(), x.getValue());
      }
      try {
        // Not opened: opening a fifo blocks and opening a device talks to its driver.
        Libc.fchmodat(dirfd, Syscalls.cstr(base), e.mode(), Libc.AT_SYMLINK_NOFOLLOW);
      } catch (LastErrorException x) {
        throw new ErrnoException("fchmodat", Syscalls.display(base), x.getErrorCode());
      }
      setTimes(dirfd, base, Libc.AT_SYMLINK_NOFOLLOW, e.mtime());
    }

    // --- whiteouts

    private void whiteout(List<byte[]> parent, TarPath parentPath, byte[] base) {
      boolean opaque = Arrays.equals(base, OPAQUE);
      byte[] name = Arrays.copyOfRange(base, WHITEOUT.length, base.length);
      if (!opaque && (name.length == 0 || FileTree.isDotOrDotDot(name))) {
        throw unsafe(name.length == 0 ? "whiteout names nothing"
            : "whiteout of \"" + Syscalls.display(name) + "\" points outside its directory");
      }
      int dirfd = resolveDirectory(parent, "path", false);
      if (dirfd < 0) {
        return;
      }
      try {
        makeWritable(dirfd, parentPath);
        if (opaque) {
          for (byte[] child : FileTree.list(dirfd)) {
            prune(dirfd, parentPath, child);
          }
        } else {
          prune(dirfd, parentPath, name);
        }
      } finally {
        Syscalls.close(dirfd);
      }
    }

    /**
     * Marks what overlayfs must hide of the lower layers, in the form it reads from a lower directory. What the
     * same layer creates at that name wins, whatever the order of entries, as with {@link #whiteout}.
     */
    private void overlayWhiteout(List<byte[]> parent, TarPath parentPath, byte[] base) {
      boolean opaque = Arrays.equals(base, OPAQUE);
      byte[] name = Arrays.copyOfRange(base, WHITEOUT.length, base.length);
      if (!opaque && (name.length == 0 || FileTree.isDotOrDotDot(name))) {
        throw unsafe(name.length == 0 ? "whiteout names nothing"
            : "whiteout of \"" + Syscalls.display(name) + "\" points outside its directory");
      }
      if (!options.root()) {
        throw unsafe("overlayfs whiteouts need root (a 0:0 device node or a trusted.* xattr)");
      }
      int dirfd = resolveDirectory(parent, "path", true);
      try {
        if (opaque) {
          byte[] key = Syscalls.cstr("trusted.overlay.opaque");
          byte[] value = {'y'};
          try {
            Libc.lsetxattr(Syscalls.cstr(procPath(dirfd, null)), key, value, value.length, 0);
          } catch (LastErrorException x) {
            throw new ErrnoException("setxattr trusted.overlay.opaque", parentPath.toString(), x.getErrorCode());
          }
          return;
        }
        if (created.contains(parentPath.resolve(name))) {
          return;
        }
        byte[] cname = Syscalls.cstr(name);
        // Not added to "created": a later entry of this layer at NAME replaces the whiteout.
        createReplacing(dirfd, name, "mknodat", () -> Libc.mknodat(dirfd, cname, Libc.S_IFCHR, 0));
      } finally {
        Syscalls.close(dirfd);
      }
    }

    /** Removes {@code name} unless this layer made it; below what this layer made, removes what it didn't. */
    private void prune(int dirfd, TarPath dirPath, byte[] name) {
      Stat st = Syscalls.lstatOrNull(dirfd, name);
      if (st == null) {
        return;
      }
      TarPath path = dirPath.resolve(name);
      if (created.contains(path) || createdBelow(path)) {
        if (st.isDirectory()) {
          int fd = Syscalls.openat(dirfd, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
          try {
            for (byte[] child : FileTree.list(fd)) {
              prune(fd, path, child);
            }
          } finally {
            Syscalls.close(fd);
          }
        }
        return;
      }
      FileTree.remove(dirfd, name, options.root());
    }

    private boolean createdBelow(TarPath dir) {
      TarPath prefix = dir.resolve(EMPTY);
      TarPath next = created.ceiling(prefix);
      return next != null && startsWith(next.bytes(), prefix.bytes());
    }

    // --- resolution inside the root

    /**
     * Opens (O_PATH) the directory {@code comps} below the root, following symlinks only while they stay inside.
     * Missing directories are created (mode 0755, as Docker does) when {@code create}; otherwise -1 is returned.
     */
    private int resolveDirectory(List<byte[]> comps, String role, boolean create) {
      if (comps.isEmpty()) {
        int fd = openRoot();
        if (create) {
          makeWritable(fd, join(comps));
        }
        return fd;
      }
      TarPath path = join(comps);
      int fd;
      try {
        fd = openBeneath(path.bytes(), Libc.O_PATH | Libc.O_DIRECTORY);
      } catch (ErrnoException x) {
        // Nothing can be below a missing directory or a file: umoci's diff writes "d" then "d/.wh.deep" when a
        // directory became a file, and the whiteout has nothing left to remove.
        if (!create && (x.errno() == Libc.ENOENT || x.errno() == Libc.ENOTDIR)) {
          return -1;
        }
        if (x.errno() != Libc.ENOENT) {
          throw resolveFailure(comps, role, x);
        }
        fd = createDirectories(comps, role);
      }
      if (create) {
        try {
          makeWritable(fd, path);
        } catch (RuntimeException x) {
          Syscalls.close(fd);
          throw x;
        }
      }
      return fd;
    }

    private int createDirectories(List<byte[]> comps, String role) {
      int cur = openRoot();
      try {
        for (int i = 0; i < comps.size(); i++) {
          TarPath prefix = join(comps.subList(0, i + 1));
          int next;
          try {
            next = openBeneath(prefix.bytes(), Libc.O_PATH | Libc.O_DIRECTORY);
          } catch (ErrnoException x) {
            if (x.errno() != Libc.ENOENT) {
              throw resolveFailure(comps, role, x);
            }
            byte[] name = comps.get(i);
            if (Syscalls.lstatOrNull(cur, name) != null) {
              throw bad("parent \"" + prefix + "\" is a symlink to a missing directory");
            }
            makeWritable(cur, join(comps.subList(0, i)));
            mkdirat(cur, name, 0755);
            try {
              Libc.fchmodat(cur, Syscalls.cstr(name), 0755, 0);
            } catch (LastErrorException y) {
              throw new ErrnoException("fchmodat", prefix.toString(), y.getErrorCode());
            }
            created.add(prefix);
            next = Syscalls.openat(cur, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
          }
          Syscalls.close(cur);
          cur = next;
        }
        return cur;
      } catch (RuntimeException x) {
        Syscalls.close(cur);
        throw x;
      }
    }

    private int openRoot() {
      return Syscalls.openat(rootfd, DOT, Libc.O_PATH | Libc.O_DIRECTORY, 0);
    }

    private int openBeneath(byte[] path, int flags) {
      for (int attempt = 0; ; attempt++) {
        try {
          return Syscalls.openat2(rootfd, path, flags, 0, RESOLVE);
        } catch (ErrnoException x) {
          // The kernel asks for a retry when a rename raced with ".." resolution.
          if (x.errno() != EAGAIN || attempt > 16) {
            throw x;
          }
        }
      }
    }

    private LabenvException resolveFailure(List<byte[]> comps, String role, ErrnoException x) {
      TarPath path = join(comps);
      String subject = role.equals("path") ? "" : role + ": ";
      return switch (x.errno()) {
        case Libc.EXDEV -> unsafe(escape(comps, role));
        case Libc.ELOOP -> unsafe(subject + "too many levels of symbolic links in \"" + path + "\"");
        case Libc.ENOTDIR -> bad(subject + "\"" + path + "\" is not a directory");
        case Libc.ENAMETOOLONG -> bad(subject + "name too long");
        default -> new LabenvException(LabenvException.Kind.FAILED, prefix() + x.getMessage(), x);
      };
    }

    /** Says which symlink leads out of the root, for the message. */
    private String escape(List<byte[]> comps, String role) {
      for (int i = 1; i <= comps.size(); i++) {
        TarPath prefix = join(comps.subList(0, i));
        try {
          Syscalls.close(openBeneath(prefix.bytes(), Libc.O_PATH));
        } catch (ErrnoException x) {
          if (x.errno() != Libc.EXDEV) {
            break;
          }
          try {
            int dir = i == 1 ? openRoot() : openBeneath(join(comps.subList(0, i - 1)).bytes(), Libc.O_PATH);
            try {
              byte[] link = Syscalls.readlinkat(dir, comps.get(i - 1));
              return role + " leaves the root through symlink \"" + prefix + "\" -> \"" + Syscalls.display(link) + "\"";
            } finally {
              Syscalls.close(dir);
            }
          } catch (ErrnoException y) {
            break;
          }
        }
      }
      return role + " leaves the root";
    }

    /**
     * Without root we can't write into a directory whose mode denies it even though we own it: open it up for the
     * layer and put the mode back at its end.
     */
    private void makeWritable(int fd, TarPath path) {
      if (options.root()) {
        return;
      }
      Stat st = Syscalls.lstat(fd, EMPTY);
      if ((st.permissions() & 0700) != 0700) {
        chmodFd(fd, st.permissions() | 0700);
        dirFixes.putIfAbsent(path, new DirFix(st.inodeKey(), st.permissions(), null));
      }
    }

    // --- metadata

    /**
     * Creates {@code name} with {@code create} (which must not follow a symlink at {@code name}: O_EXCL, mknodat,
     * symlinkat do not); if something is there already, removes it (a directory with all below) and creates again.
     * Trying first keeps the common case at one system call and no exception.
     */
    private int createReplacing(int dirfd, byte[] name, String call, Creator create) {
      try {
        return create.create();
      } catch (LastErrorException x) {
        if (x.getErrorCode() != Libc.EEXIST) {
          throw new ErrnoException(call, Syscalls.display(name), x.getErrorCode());
        }
      }
      FileTree.remove(dirfd, name, options.root());
      try {
        return create.create();
      } catch (LastErrorException x) {
        throw new ErrnoException(call, Syscalls.display(name), x.getErrorCode());
      }
    }

    private void mkdirat(int dirfd, byte[] name, int mode) {
      try {
        Libc.mkdirat(dirfd, Syscalls.cstr(name), mode);
      } catch (LastErrorException x) {
        throw new ErrnoException("mkdirat", Syscalls.display(name), x.getErrorCode());
      }
    }

    private void chown(int dirfd, byte[] name, int flags) {
      if (!options.root() || !options.keepOwners()) {
        return;
      }
      if (entry.uid() > 0xfffffffeL || entry.gid() > 0xfffffffeL) {
        throw bad("owner " + entry.uid() + ":" + entry.gid() + " is out of range");
      }
      try {
        Libc.fchownat(dirfd, Syscalls.cstr(name), (int) entry.uid(), (int) entry.gid(), flags);
      } catch (LastErrorException x) {
        throw new ErrnoException("fchownat", Syscalls.display(name), x.getErrorCode());
      }
    }

    private void chmodFd(int fd, int mode) {
      try {
        // Through /proc so that it works on O_PATH fds too (fchmod doesn't).
        Libc.fchmodat(Libc.AT_FDCWD, Syscalls.cstr("/proc/self/fd/" + fd), mode & 07777, 0);
      } catch (LastErrorException x) {
        throw new ErrnoException("fchmod", entry == null ? null : entry.path().toString(), x.getErrorCode());
      }
    }

    private void setTimes(int dirfd, byte[] name, int flags, long mtime) {
      try {
        Libc.utimensat(dirfd, Syscalls.cstr(name), new long[] {mtime, 0, mtime, 0}, flags);
      } catch (LastErrorException x) {
        throw new ErrnoException("utimensat", Syscalls.display(name), x.getErrorCode());
      }
    }

    /** "/proc/self/fd/N/name": lsetxattr on it reaches {@code name} in that directory without following it. */
    private byte[] procPath(int dirfd, byte[] name) {
      byte[] dir = ("/proc/self/fd/" + dirfd).getBytes(StandardCharsets.US_ASCII);
      if (name == null) {
        name = DOT; // the directory itself: the magic link is followed, "." names what it points to
      }
      byte[] out = Arrays.copyOf(dir, dir.length + 1 + name.length);
      out[dir.length] = '/';
      System.arraycopy(name, 0, out, dir.length + 1, name.length);
      return out;
    }

    /** Sets one xattr on {@code fd}, or (fd &lt; 0) on {@code path} without following it. */
    private void setXattr(int fd, byte[] path, String name, byte[] value) {
      if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) {
        // overlayfs reads these on lower layers (redirects, opaque dirs, metacopy): a layer must not plant them.
        warnings.add(prefix() + "xattr " + name + " not set: reserved for overlayfs");
        return;
      }
      byte[] cname = Syscalls.cstr(name);
      try {
        if (fd >= 0) {
          Libc.fsetxattr(fd, cname, value, value.length, 0);
        } else {
          Libc.lsetxattr(Syscalls.cstr(path), cname, value, value.length, 0);
        }
      } catch (LastErrorException x) {
        int errno = x.getErrorCode();
        // Not ours to grant (trusted.*, security.* without root; user.* on symlinks) or not held by this file
        // system: tar warns and goes on, and so do we.
        if (errno == Libc.EPERM || errno == Libc.EOPNOTSUPP || errno == E2BIG || errno == Libc.ERANGE
            || errno == Libc.EACCES) {
          warnings.add(prefix() + "xattr " + name + " not set: " + Libc.errorText(errno));
          return;
        }
        throw new ErrnoException("setxattr", name, errno);
      }
    }

    /** Sets the modes and times of this layer's directories, deepest first, and restores modes we opened up. */
    void finish() {
      entry = null;
      for (Map.Entry<TarPath, DirFix> f : dirFixes.descendingMap().entrySet()) {
        int fd;
        try {
          fd = f.getKey().isEmpty() ? openRoot()
              : openBeneath(f.getKey().bytes(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        } catch (ErrnoException x) {
          if (x.errno() == Libc.ENOENT || x.errno() == Libc.ENOTDIR || x.errno() == Libc.ELOOP
              || x.errno() == Libc.EXDEV) {
            continue; // removed or replaced later in the layer
          }
          throw x;
        }
        try {
          if (!Syscalls.lstat(fd, EMPTY).inodeKey().equals(f.getValue().inode())) {
            continue;
          }
          chmodFd(fd, f.getValue().mode());
          if (f.getValue().mtime() != null) {
            setTimes(fd, EMPTY, Libc.AT_EMPTY_PATH, f.getValue().mtime());
          }
        } catch (ErrnoException x) {
          throw new LabenvException(LabenvException.Kind.FAILED,
              "layer " + layer + ": directory \"" + f.getKey() + "\": " + x.getMessage(), x);
        } finally {
          Syscalls.close(fd);
        }
      }
    }

    // --- names

    /**
     * The components of an entry name: "" and "." dropped; absolute names and ".." refused, since either could
     * only mean a place outside the root (or a name that needs cleaning, which is the layer author's job). The one
     * absolute name allowed is the root itself ("/", as umoci writes it for the layer's top directory): it names
     * nothing outside.
     */
    private List<byte[]> components(byte[] name, String role) {
      if (name.length > 0 && name[0] == '/' && !isRoot(name)) {
        throw unsafe(role.equals("path") ? "absolute path leaves the root" : role + " is absolute: leaves the root");
      }
      List<byte[]> out = new ArrayList<>();
      int depth = 0;
      boolean dotdot = false;
      boolean escapes = false;
      for (byte[] c : TarPath.ofRaw(name).components()) {
        if (c.length == 1 && c[0] == '.') {
          continue;
        }
        if (c.length == 2 && c[0] == '.' && c[1] == '.') {
          dotdot = true;
          escapes |= --depth < 0;
          continue;
        }
        depth++;
        out.add(c);
      }
      if (escapes) {
        throw unsafe(role + " leaves the root");
      }
      if (dotdot) {
        throw unsafe(role + " has a \"..\" component");
      }
      return out;
    }

    /** True for "/", "//", "/./" and the like: the root directory, whatever its spelling. */
    private static boolean isRoot(byte[] name) {
      for (byte[] c : TarPath.ofRaw(name).components()) {
        if (!(c.length == 0 || c.length == 1 && c[0] == '.')) {
          return false;
        }
      }
      return true;
    }

    private String prefix() {
      return "layer " + layer + ": " + (entry == null ? "" : "entry \"" + entry.path() + "\": ");
    }

    private UnsafeArchiveEntryException unsafe(String reason) {
      return new UnsafeArchiveEntryException(layer, entry.path(), reason);
    }

    private LabenvException bad(String reason) {
      return LabenvException.badInput(prefix() + reason);
    }
  }

  private static TarPath join(List<byte[]> comps) {
    TarPath p = TarPath.ofRaw(EMPTY);
    for (byte[] c : comps) {
      p = p.resolve(c);
    }
    return p;
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    return b.length >= prefix.length && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static boolean isZero(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Hashes the uncompressed tar as the read-ahead thread reads it; read only after that thread stopped. */
  private static final class TarHash extends ObservingInputStream {
    private final java.security.MessageDigest sha256 = Digest.newSha256();
    private boolean ended;

    TarHash(InputStream in) {
      super(in);
    }

    @Override
    protected void observe(byte[] b, int off, int n) {
      sha256.update(b, off, n);
    }

    @Override
    protected void end() {
      ended = true;
    }

    Digest digest() {
      if (!ended) {
        throw LabenvException.failed("the layer was not read to its end");
      }
      return Digest.sha256(sha256.digest());
    }
  }
}
