package labenv.build;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import labenv.LabenvException;
import labenv.layer.FileTree;
import labenv.layer.LayerApplier;
import labenv.layer.UnsafeArchiveEntryException;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Names;
import labenv.linux.Stat;
import labenv.linux.Syscalls;

/**
 * The tree a COPY or ADD builds for its layer: what the instruction adds, at the paths it will have in the image,
 * with the owners, modes and times the layer must carry. Directories of the destination path that the parent image
 * has keep the parent's mode and owner (the layer repeats them unchanged); the ones the instruction creates get
 * 0755 and the --chown owner.
 *
 * <p>Directories are opened with RESOLVE_NO_SYMLINKS, so a symlink copied earlier in the same instruction is never
 * written through; something in the way of a directory or a file is replaced. Directory metadata is set at the end,
 * deepest first, so adding children does not move their times and restrictive modes do not lock us out. Owners
 * are set only when running as root (otherwise everything is the caller's, and the layer is packed without owners).
 */
final class StagingTree implements AutoCloseable {
  private static final byte[] EMPTY = {};
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final long BENEATH = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS;

  /** Permission bits and owner an entry gets. */
  record Attrs(int mode, int uid, int gid) {}

  private final Path rootPath;
  private final SourceTree staged;
  private final SourceTree parent;
  private final int rootfd;
  private final boolean root = Syscalls.isRoot();
  private final long mtime;
  /** Directories whose metadata is set at the end, by path without symlinks. */
  private final TreeMap<byte[], Attrs> directories = new TreeMap<>(Arrays::compareUnsigned);

  StagingTree(Path stagingRoot, SourceTree parent, long mtime) {
    this.rootPath = stagingRoot.toAbsolutePath();
    this.staged = SourceTree.open(stagingRoot, IgnoreRules.none(), "the staging directory");
    this.parent = parent;
    this.mtime = mtime;
    try {
      this.rootfd = staged.openDirectory(EMPTY);
    } catch (RuntimeException e) {
      staged.close();
      throw e;
    }
  }

  Path rootPath() {
    return rootPath;
  }

  @Override
  public void close() {
    try {
      Syscalls.close(rootfd);
    } finally {
      staged.close();
    }
  }

  /** What the parent image has at {@code path} (a path without symlinks), or null. */
  Stat inParent(byte[] path) {
    return parent.lstat(path);
  }

  /**
   * Makes the directory {@code components} exist in the staging tree, with its parents, and opens it (O_PATH). A
   * directory the parent image has keeps the parent's mode and owner; one it lacks gets {@code created} when it is
   * the last component, else 0755 and {@code owner}.
   */
  int directory(List<byte[]> components, Attrs created, Attrs owner) {
    int fd = Syscalls.openat(rootfd, new byte[] {'.'}, Libc.O_PATH | Libc.O_DIRECTORY, 0);
    byte[] path = EMPTY;
    try {
      for (int i = 0; i < components.size(); i++) {
        byte[] name = components.get(i);
        path = SourceTree.child(path, name);
        Stat there = inParent(path);
        Attrs attrs = there != null && there.isDirectory() ? new Attrs(there.permissions(), there.uid(), there.gid())
            : i == components.size() - 1 ? created : new Attrs(0755, owner.uid(), owner.gid());
        int next = subdirectory(fd, path, name, attrs);
        Syscalls.close(fd);
        fd = next;
      }
      return fd;
    } catch (RuntimeException e) {
      Syscalls.close(fd);
      throw e;
    }
  }

  /**
   * Makes {@code name} in {@code dirfd} (at {@code path}) a directory, unless it is one already, and opens it
   * (O_PATH). Its metadata is {@code attrs}, set at the end, unless an earlier step already chose it.
   */
  int subdirectory(int dirfd, byte[] path, byte[] name, Attrs attrs) {
    Stat st = Syscalls.lstatOrNull(dirfd, name);
    if (st == null || !st.isDirectory()) {
      if (st != null) {
        FileTree.remove(dirfd, name, root);
      }
      try {
        Libc.mkdirat(dirfd, Syscalls.cstr(name), 0700);
      } catch (LastErrorException e) {
        throw new ErrnoException("mkdirat", Names.display(path), e.getErrorCode());
      }
    }
    directories.putIfAbsent(path, attrs);
    return Syscalls.openat(dirfd, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
  }

  /** Where file content comes from. */
  interface Content {
    void writeTo(FileChannel out) throws IOException;
  }

  /** Content read from an open fd (borrowed, not closed). */
  static Content fromFd(int fd, String what) {
    return out -> {
      try (FileChannel in = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ)) {
        long size = in.size();
        long pos = 0;
        while (pos < size) {
          long n = in.transferTo(pos, Math.min(size - pos, 1L << 30), out);
          if (n <= 0) {
            break; // the file shrank while we copied it
          }
          pos += n;
        }
      }
    };
  }

  static Content fromBytes(byte[] data) {
    return out -> {
      ByteBuffer b = ByteBuffer.wrap(data);
      while (b.hasRemaining()) {
        out.write(b);
      }
    };
  }

  /** Writes a regular file {@code name} in {@code dirfd}, replacing what is there. */
  void file(int dirfd, byte[] path, byte[] name, Content content, Attrs attrs) {
    Stat st = Syscalls.lstatOrNull(dirfd, name);
    if (st != null) {
      FileTree.remove(dirfd, name, root);
    }
    int fd;
    try {
      fd = Libc.openat(dirfd, Syscalls.cstr(name),
          Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0600);
    } catch (LastErrorException e) {
      throw new ErrnoException("openat", Names.display(path), e.getErrorCode());
    }
    try {
      try (FileChannel out = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.WRITE)) {
        content.writeTo(out);
      } catch (IOException e) {
        throw LabenvException.failed("writing \"" + Names.display(path) + "\" in " + rootPath + ": "
            + e.getMessage(), e);
      }
      // chown clears setuid and setgid bits: owner first, then the mode.
      chown(fd, EMPTY, Libc.AT_EMPTY_PATH, attrs, path);
      try {
        Libc.fchmod(fd, attrs.mode());
      } catch (LastErrorException e) {
        throw new ErrnoException("fchmod", Names.display(path), e.getErrorCode());
      }
      times(fd, EMPTY, Libc.AT_EMPTY_PATH, path);
    } finally {
      Syscalls.close(fd);
    }
  }

  /** Creates the symlink {@code name} -> {@code target} in {@code dirfd}, replacing what is there. */
  void symlink(int dirfd, byte[] path, byte[] name, byte[] target, Attrs owner) {
    Stat st = Syscalls.lstatOrNull(dirfd, name);
    if (st != null) {
      FileTree.remove(dirfd, name, root);
    }
    try {
      Libc.symlinkat(Syscalls.cstr(target), dirfd, Syscalls.cstr(name));
    } catch (LastErrorException e) {
      throw new ErrnoException("symlinkat", Names.display(path), e.getErrorCode());
    }
    chown(dirfd, name, Libc.AT_SYMLINK_NOFOLLOW, owner, path);
    times(dirfd, name, Libc.AT_SYMLINK_NOFOLLOW, path);
  }

  /**
   * Extracts the uncompressed tar {@code tar} into the directory {@code dirfd} (at {@code path}): first into a
   * fresh directory of the staging tree with LayerApplier (which refuses entries that would leave it), then moved
   * into place, merging with directories already there. Owners are the archive's, or {@code chown}'s when given.
   *
   * @param label how errors name the archive
   * @throws LabenvException BAD_INPUT for a corrupt or hostile archive
   */
  void extract(InputStream tar, String label, int dirfd, byte[] path, Attrs chown) {
    byte[] random = new byte[6];
    RANDOM.nextBytes(random);
    String tempName = ".labenv-add-" + HexFormat.of().formatHex(random);
    byte[] temp = tempName.getBytes(StandardCharsets.US_ASCII);
    try {
      Libc.mkdirat(rootfd, Syscalls.cstr(temp), 0700);
    } catch (LastErrorException e) {
      throw new ErrnoException("mkdirat", rootPath.resolve(tempName).toString(), e.getErrorCode());
    }
    try {
      try {
        new LayerApplier(new LayerApplier.Options(root, root)).apply(rootPath.resolve(tempName), tar, label);
      } catch (LabenvException e) {
        String prefix = "layer " + label + ": ";
        String message = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
        throw new LabenvException(e.kind(), (e instanceof UnsafeArchiveEntryException ? "unsafe archive: " : "")
            + message, e);
      }
      int tfd = Syscalls.openat(rootfd, temp, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
      try {
        if (chown != null && root) {
          chownTree(tfd, chown);
        }
        merge(tfd, dirfd, path);
      } finally {
        Syscalls.close(tfd);
      }
    } finally {
      FileTree.remove(rootfd, temp, root);
    }
  }

  /** Gives everything below {@code dirfd} the owner of {@code owner}, keeping setuid/setgid bits chown clears. */
  private void chownTree(int dirfd, Attrs owner) {
    for (byte[] name : FileTree.list(dirfd)) {
      Stat st = Syscalls.lstat(dirfd, name);
      byte[] cname = Syscalls.cstr(name);
      try {
        Libc.fchownat(dirfd, cname, owner.uid(), owner.gid(), Libc.AT_SYMLINK_NOFOLLOW);
        if (st.isRegular() && (st.permissions() & 06000) != 0) {
          Libc.fchmodat(dirfd, cname, st.permissions(), 0);
        }
      } catch (LastErrorException e) {
        throw new ErrnoException("fchownat", Names.display(name), e.getErrorCode());
      }
      if (st.isDirectory()) {
        int fd = Syscalls.openat(dirfd, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
        try {
          chownTree(fd, owner);
        } finally {
          Syscalls.close(fd);
        }
      }
    }
  }

  /** Moves what {@code from} holds into {@code to}: directories on both sides merge, anything else is replaced. */
  private void merge(int from, int to, byte[] path) {
    for (byte[] name : FileTree.list(from)) {
      Stat st = Syscalls.lstat(from, name);
      Stat there = Syscalls.lstatOrNull(to, name);
      byte[] childPath = SourceTree.child(path, name);
      if (st.isDirectory() && there != null && there.isDirectory()) {
        int f = Syscalls.openat(from, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
        try {
          int t = Syscalls.openat(to, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
          try {
            merge(f, t, childPath);
          } finally {
            Syscalls.close(t);
          }
        } finally {
          Syscalls.close(f);
        }
        // The archive's directory metadata wins, as when tar extracts over an existing directory.
        directories.put(childPath, new Attrs(st.permissions(), st.uid(), st.gid()));
        continue;
      }
      if (there != null) {
        FileTree.remove(to, name, root);
      }
      try {
        Libc.renameat(from, Syscalls.cstr(name), to, Syscalls.cstr(name));
      } catch (LastErrorException e) {
        throw new ErrnoException("renameat", Names.display(childPath), e.getErrorCode());
      }
    }
  }

  /** Sets the recorded directories' owners, modes and times, deepest first. */
  void finish() {
    for (Map.Entry<byte[], Attrs> d : directories.descendingMap().entrySet()) {
      int fd;
      try {
        fd = Syscalls.openat2(rootfd, d.getKey(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0, BENEATH);
      } catch (ErrnoException e) {
        if (e.errno() == Libc.ENOENT || e.errno() == Libc.ENOTDIR || e.errno() == Libc.ELOOP) {
          continue; // replaced by a later source
        }
        throw e;
      }
      try {
        chown(fd, EMPTY, Libc.AT_EMPTY_PATH, d.getValue(), d.getKey());
        try {
          Libc.fchmodat(Libc.AT_FDCWD, Syscalls.cstr("/proc/self/fd/" + fd), d.getValue().mode(), 0);
        } catch (LastErrorException e) {
          throw new ErrnoException("fchmodat", Names.display(d.getKey()), e.getErrorCode());
        }
        times(fd, EMPTY, Libc.AT_EMPTY_PATH, d.getKey());
      } finally {
        Syscalls.close(fd);
      }
    }
  }

  private void chown(int dirfd, byte[] name, int flags, Attrs attrs, byte[] path) {
    if (!root) {
      return;
    }
    try {
      Libc.fchownat(dirfd, Syscalls.cstr(name), attrs.uid(), attrs.gid(), flags);
    } catch (LastErrorException e) {
      throw new ErrnoException("fchownat", Names.display(path), e.getErrorCode());
    }
  }

  private void times(int dirfd, byte[] name, int flags, byte[] path) {
    try {
      Libc.utimensat(dirfd, Syscalls.cstr(name), new long[] {mtime, 0, mtime, 0}, flags);
    } catch (LastErrorException e) {
      throw new ErrnoException("utimensat", Names.display(path), e.getErrorCode());
    }
  }

  /** Whether we can set owners (only root can). */
  boolean canChown() {
    return root;
  }
}
