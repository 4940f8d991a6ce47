package labenv.layer;

import com.sun.jna.Memory;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import labenv.LabenvException;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;
import labenv.tar.TarEntry;
import labenv.tar.TarPath;
import labenv.tar.TarWriter;

/**
 * Packs a directory tree, or the changes of one tree against another, into a layer whose bytes
 * depend only on the content.
 *
 * <ul>
 *   <li>Entries are sorted by the unsigned bytes of their names as written, directories with their
 *       trailing "/"; so every directory comes right before what it holds, and its subtree is one run.
 *       The root directory itself is not an entry (as docker and jib layers have it).
 *   <li>mtimes are clamped to the source date epoch; no atime or ctime is written.
 *   <li>Owners are 0:0 with no user or group names unless {@code keepOwners}; then the numeric ids
 *       are kept and the names still left out (names would come from this host's passwd file).
 *   <li>Hardlinks: the first path in that order is the file, the later ones point to it.
 *   <li>Sockets are skipped: they cannot be packed and are only meaningful to a running process.
 *   <li>Extended attributes kept: {@code user.*}, {@code trusted.*}, {@code security.capability},
 *       and POSIX ACLs ({@code system.posix_acl_*}); never overlayfs' own ({@code *.overlay.*}), and
 *       not {@code security.selinux} and other host security labels, which belong to the host.
 *   <li>Sparse files are read around their holes but written as plain files.
 * </ul>
 *
 * <p>The tar is produced on the calling thread (with its sha256, the diffID), compressed on
 * {@code threads} threads, and the compressed bytes hashed as they are written; the result does not
 * depend on the thread count.
 */
public final class LayerWriter {
  /** overlayfs' mark of a deleted name: a character device 0:0. */
  private static final byte[] WHITEOUT_PREFIX = ".wh.".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] OPAQUE = ".wh..wh..opq".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EMPTY = new byte[0];

  private final long sourceDateEpoch;
  private final boolean keepOwners;
  private final Compression compression;
  private final int level;
  private final int threads;

  private LayerWriter(Builder b) {
    this.sourceDateEpoch = b.sourceDateEpoch;
    this.keepOwners = b.keepOwners;
    this.compression = b.compression;
    this.level = b.level != null ? b.level : b.compression.defaultLevel();
    this.threads = b.threads;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options for a {@link LayerWriter}. */
  public static final class Builder {
    private long sourceDateEpoch = labenv.SourceDateEpoch.fromEnvironment();
    private boolean keepOwners;
    private Compression compression = Compression.GZIP;
    private Integer level;
    private int threads = Runtime.getRuntime().availableProcessors();

    private Builder() {}

    /** Seconds since 1970; later mtimes are clamped to it. Default: $SOURCE_DATE_EPOCH, else 0. */
    public Builder sourceDateEpoch(long seconds) {
      this.sourceDateEpoch = seconds;
      return this;
    }

    /** Keep numeric owners (default: everything owned by 0:0). */
    public Builder keepOwners(boolean keep) {
      this.keepOwners = keep;
      return this;
    }

    /** Default gzip. */
    public Builder compression(Compression c) {
      this.compression = c;
      return this;
    }

    /** Default: the compression's own default (gzip 6, zstd 3). */
    public Builder level(int level) {
      this.level = level;
      return this;
    }

    /** Compression threads (default: the number of processors); the bytes are the same for any. */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, not " + threads);
      }
      this.threads = threads;
      return this;
    }

    public LayerWriter build() {
      return new LayerWriter(this);
    }

  }

  /** Packs everything below {@code dir} (not {@code dir} itself) into {@code out}, which stays open. */
  public LayerResult write(Path dir, OutputStream out) {
    return pack(out, packing -> {
      try (SourceDirectory root = SourceDirectory.open(dir)) {
        packing.walk(root, null, false, false);
      }
    });
  }

  /**
   * Packs what {@code upper} changes against {@code lower}: what is new or different (with its
   * parent directories, changed or not), and a {@code .wh.NAME} whiteout for each name of
   * {@code lower} that {@code upper} does not have. Files count as changed when any field of
   * their entry (after clamping and owner normalisation) or their content differs.
   */
  public LayerResult writeChanges(Path lower, Path upper, OutputStream out) {
    return pack(out, packing -> {
      try (SourceDirectory l = SourceDirectory.open(lower); SourceDirectory u = SourceDirectory.open(upper)) {
        packing.diff(l, u, null);
      }
    });
  }

  /**
   * Packs an overlayfs upper directory as a layer: a character device 0:0 becomes a {@code .wh.NAME}
   * whiteout, a directory marked opaque ({@code trusted.overlay.opaque} or {@code user.overlay.opaque}
   * = "y") gets a {@code .wh..wh..opq} entry, and overlay's own xattrs are left out. Uppers made with
   * redirect_dir or metacopy are refused: their content is partly in the lower layers.
   */
  public LayerResult writeOverlayUpper(Path upperdir, OutputStream out) {
    return pack(out, packing -> {
      try (SourceDirectory root = SourceDirectory.open(upperdir)) {
        packing.walk(root, null, true, false);
      }
    });
  }

  private interface Body {
    void run(Packing packing) throws IOException;
  }

  private LayerResult pack(OutputStream out, Body body) {
    // Both digests hash on threads of their own, beside tar production and compression.
    DigestingOutputStream blob = DigestingOutputStream.inBackground(new KeepOpen(out));
    OutputStream compressor = compression.compress(blob, level, threads);
    DigestingOutputStream tarDigest =
        compression == Compression.NONE ? blob : DigestingOutputStream.inBackground(compressor);
    OutputStream tarSink = compression == Compression.NONE
        ? new BufferedOutputStream(compressor, 256 * 1024) : new BufferedOutputStream(tarDigest, 256 * 1024);
    TarWriter tar = new TarWriter(tarSink);
    boolean done = false;
    try (Packing packing = new Packing(tar)) {
      body.run(packing);
      tar.close();
      done = true;
    } catch (IOException e) {
      throw LabenvException.failed("packing a layer: " + e.getMessage(), e);
    } finally {
      if (!done) {
        Compression.abort(compressor);
        tarDigest.abort();
        blob.abort();
      }
    }
    return new LayerResult(blob.digest(), blob.size(), tarDigest.digest(), tarDigest.size(),
        compression.mediaType());
  }

  /** The caller's stream: flushed at the end, closed by the caller. */
  private static final class KeepOpen extends FilterOutputStream {
    KeepOpen(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      out.flush();
    }
  }

  /** One child of a directory, with the name it sorts by. */
  private record Child(byte[] key, byte[] name, Stat stat, Stat lower, Kind kind) {}

  private enum Kind { ENTRY, WHITEOUT, OPAQUE }

  /** The state of one packing run: the tar, the hardlinks seen, the directories not yet written. */
  private final class Packing implements AutoCloseable {
    private final TarWriter tar;
    private final Map<String, TarPath> firstLinks = new HashMap<>();
    /** Unchanged directories on the way down to a change (writeChanges): written once something below is. */
    private final Deque<TarEntry> pendingParents = new ArrayDeque<>();
    private final Memory readBuffer = new Memory(1 << 20);
    private Memory compareBuffer;
    private byte[] compareA;
    private byte[] compareB;

    Packing(TarWriter tar) {
      this.tar = tar;
    }

    /** Every entry below {@code dir}; {@code overlay} converts overlayfs whiteouts and opaque marks. */
    void walk(SourceDirectory dir, TarPath prefix, boolean overlay, boolean opaque) throws IOException {
      List<Child> children = new ArrayList<>();
      try {
        for (byte[] name : dir.names()) {
          Stat st = dir.lstat(name);
          if (st.type() == Libc.S_IFSOCK) {
            continue;
          }
          if (overlay && st.type() == Libc.S_IFCHR && st.rdevMajor() == 0 && st.rdevMinor() == 0) {
            children.add(new Child(concat(WHITEOUT_PREFIX, name), name, st, null, Kind.WHITEOUT));
          } else {
            children.add(new Child(key(name, st), name, st, null, Kind.ENTRY));
          }
        }
        if (opaque) {
          children.add(new Child(OPAQUE, OPAQUE, null, null, Kind.OPAQUE));
        }
        children.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
        for (Child c : children) {
          if (c.kind() != Kind.ENTRY) {
            emit(whiteout(resolve(prefix, c.key())));
            continue;
          }
          byte[] name = c.name();
          TarPath path = resolve(prefix, name);
          if (c.stat().isDirectory()) {
            try (SourceDirectory child = dir.openChild(name)) {
              SortedMap<String, byte[]> all = child.xattrs();
              if (overlay) {
                refuseOverlayFeatures(all, child.where(EMPTY));
              }
              emit(entry(dir, name, path, child.stat(), keptXattrs(all)));
              walk(child, path, overlay, overlay && isOpaque(all));
            }
          } else if (c.stat().isRegular()) {
            try (SourceFile f = openFile(dir, name, c.stat(), readBuffer)) {
              SortedMap<String, byte[]> all = f.xattrs();
              if (overlay) {
                refuseOverlayFeatures(all, f.where());
              }
              emitFile(f, entry(dir, name, path, f.stat(), keptXattrs(all)));
            }
          } else {
            SortedMap<String, byte[]> all = dir.xattrs(name);
            if (overlay) {
              refuseOverlayFeatures(all, dir.where(name));
            }
            emit(entry(dir, name, path, c.stat(), keptXattrs(all)));
          }
        }
      } catch (ErrnoException e) {
        throw e.withContext("packing " + dir.where(EMPTY));
      }
    }

    /** What {@code upper} changes against {@code lower}. */
    void diff(SourceDirectory lower, SourceDirectory upper, TarPath prefix) throws IOException {
      List<Child> children = new ArrayList<>();
      try {
        Map<ByteBuffer, Stat> lowerStats = new HashMap<>();
        for (byte[] name : lower.names()) {
          Stat st = lower.lstat(name);
          if (st.type() != Libc.S_IFSOCK) {
            lowerStats.put(ByteBuffer.wrap(name), st);
          }
        }
        for (byte[] name : upper.names()) {
          Stat st = upper.lstat(name);
          if (st.type() == Libc.S_IFSOCK) {
            continue;
          }
          children.add(new Child(key(name, st), name, st, lowerStats.remove(ByteBuffer.wrap(name)), Kind.ENTRY));
        }
        for (ByteBuffer gone : lowerStats.keySet()) {
          children.add(new Child(concat(WHITEOUT_PREFIX, gone.array()), gone.array(), null, null, Kind.WHITEOUT));
        }
        children.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
        for (Child c : children) {
          if (c.kind() == Kind.WHITEOUT) {
            emit(whiteout(resolve(prefix, c.key())));
            continue;
          }
          byte[] name = c.name();
          TarPath path = resolve(prefix, name);
          Stat l = c.lower();
          boolean sameType = l != null && l.type() == c.stat().type();
          if (c.stat().isDirectory()) {
            try (SourceDirectory uc = upper.openChild(name)) {
              TarEntry e = entry(upper, name, path, uc.stat(), keptXattrs(uc.xattrs()));
              if (!sameType) {
                emit(e);
                walk(uc, path, false, false);
                continue;
              }
              try (SourceDirectory lc = lower.openChild(name)) {
                if (sameHeader(e, entry(lower, name, path, lc.stat(), keptXattrs(lc.xattrs())))) {
                  pendingParents.addLast(e);
                  diff(lc, uc, path);
                  if (pendingParents.peekLast() == e) {
                    pendingParents.removeLast();
                  }
                } else {
                  emit(e);
                  diff(lc, uc, path);
                }
              }
            }
          } else if (c.stat().isRegular()) {
            try (SourceFile u = openFile(upper, name, c.stat(), readBuffer)) {
              TarEntry e = entry(upper, name, path, u.stat(), keptXattrs(u.xattrs()));
              boolean changed = !sameType;
              if (!changed) {
                if (compareBuffer == null) {
                  compareBuffer = new Memory(1 << 20);
                }
                try (SourceFile lf = openFile(lower, name, l, compareBuffer)) {
                  changed = !sameHeader(e, entry(lower, name, path, lf.stat(), keptXattrs(lf.xattrs())))
                      || !sameContent(lf, u);
                }
                u.rewind();
              }
              if (changed) {
                emitFile(u, e);
              }
            }
          } else {
            TarEntry e = entry(upper, name, path, c.stat(), keptXattrs(upper.xattrs(name)));
            if (!sameType || !sameHeader(e, entry(lower, name, path, l, keptXattrs(lower.xattrs(name))))) {
              emit(e);
            }
          }
        }
      } catch (ErrnoException e) {
        throw e.withContext("comparing " + upper.where(EMPTY) + " with " + lower.where(EMPTY));
      }
    }

    private void emit(TarEntry e) {
      writePendingParents();
      tar.write(e);
    }

    private void writePendingParents() {
      while (!pendingParents.isEmpty()) {
        tar.write(pendingParents.pollFirst());
      }
    }

    /** Opens a file found by the listing, checking it is still that file. */
    private SourceFile openFile(SourceDirectory dir, byte[] name, Stat listed, Memory buffer) {
      SourceFile f = dir.openFile(name, buffer);
      if (!f.stat().isRegular() || f.stat().ino() != listed.ino()) {
        f.close();
        throw LabenvException.failed("packing " + dir.where(name) + ": the file changed while packing");
      }
      return f;
    }

    /** A regular file; one with other links becomes a hardlink to the first path it was packed under. */
    private void emitFile(SourceFile f, TarEntry e) {
      if (f.stat().nlink() > 1) {
        TarPath first = firstLinks.putIfAbsent(f.stat().inodeKey(), e.path());
        if (first != null) {
          emit(new TarEntry(TarEntry.Type.HARDLINK, e.path(), first.bytes(), e.mode(), e.uid(), e.gid(), "", "",
              e.mtime(), 0, 0, 0, null));
          return;
        }
      }
      writePendingParents();
      tar.write(e, f);
    }

    private TarEntry entry(SourceDirectory dir, byte[] name, TarPath path, Stat st, SortedMap<String, byte[]> xattrs) {
      long mtime = Math.min(st.mtimeSec(), sourceDateEpoch);
      long uid = keepOwners ? Integer.toUnsignedLong(st.uid()) : 0;
      long gid = keepOwners ? Integer.toUnsignedLong(st.gid()) : 0;
      int mode = st.permissions();
      TarEntry.Type type;
      byte[] link = null;
      long size = 0;
      int major = 0;
      int minor = 0;
      switch (st.type()) {
        case Libc.S_IFDIR -> type = TarEntry.Type.DIRECTORY;
        case Libc.S_IFREG -> {
          type = TarEntry.Type.FILE;
          size = st.size();
        }
        case Libc.S_IFLNK -> {
          type = TarEntry.Type.SYMLINK;
          link = dir.readlink(name);
        }
        case Libc.S_IFCHR, Libc.S_IFBLK -> {
          type = st.type() == Libc.S_IFCHR ? TarEntry.Type.CHAR_DEVICE : TarEntry.Type.BLOCK_DEVICE;
          major = st.rdevMajor();
          minor = st.rdevMinor();
        }
        case Libc.S_IFIFO -> type = TarEntry.Type.FIFO;
        default -> throw LabenvException.failed("packing " + dir.where(name) + ": unknown file type 0"
            + Integer.toOctalString(st.type()));
      }
      return new TarEntry(type, path, link, mode, uid, gid, "", "", mtime, size, major, minor, xattrs);
    }

    private TarEntry whiteout(TarPath path) {
      return new TarEntry(TarEntry.Type.FILE, path, null, 0, 0, 0, "", "", Math.min(0, sourceDateEpoch), 0, 0, 0,
          null);
    }

    private boolean sameContent(SourceFile l, SourceFile u) throws IOException {
      if (l.stat().size() != u.stat().size()) {
        return false;
      }
      if (l.stat().inodeKey().equals(u.stat().inodeKey())) {
        return true;
      }
      if (compareA == null) {
        compareA = new byte[1 << 20];
        compareB = new byte[1 << 20];
      }
      while (true) {
        int na = fill(l, compareA);
        int nb = fill(u, compareB);
        if (na != nb || !Arrays.equals(compareA, 0, na, compareB, 0, nb)) {
          return false;
        }
        if (na < compareA.length) {
          return true;
        }
      }
    }

    @Override
    public void close() {
      readBuffer.close();
      if (compareBuffer != null) {
        compareBuffer.close();
      }
    }
  }

  private static int fill(SourceFile c, byte[] buf) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(buf);
    while (bb.hasRemaining()) {
      if (c.read(bb) < 0) {
        break;
      }
    }
    return bb.position();
  }

  private static boolean sameHeader(TarEntry a, TarEntry b) {
    if (a.type() != b.type() || a.mode() != b.mode() || a.uid() != b.uid() || a.gid() != b.gid()
        || a.mtime() != b.mtime() || a.size() != b.size() || a.devMajor() != b.devMajor()
        || a.devMinor() != b.devMinor() || !Arrays.equals(a.linkTarget(), b.linkTarget())
        || !a.xattrs().keySet().equals(b.xattrs().keySet())) {
      return false;
    }
    for (Map.Entry<String, byte[]> x : a.xattrs().entrySet()) {
      if (!Arrays.equals(x.getValue(), b.xattrs().get(x.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** The extended attributes a layer keeps (see the class comment). */
  static boolean keepXattr(String name) {
    if (name.startsWith("user.")) {
      return !name.startsWith("user.overlay.");
    }
    if (name.startsWith("trusted.")) {
      return !name.startsWith("trusted.overlay.");
    }
    return name.equals("security.capability") || name.equals("system.posix_acl_access")
        || name.equals("system.posix_acl_default");
  }

  private static SortedMap<String, byte[]> keptXattrs(SortedMap<String, byte[]> all) {
    SortedMap<String, byte[]> kept = new TreeMap<>();
    all.forEach((k, v) -> {
      if (keepXattr(k)) {
        kept.put(k, v);
      }
    });
    return kept;
  }

  private static boolean isOpaque(SortedMap<String, byte[]> xattrs) {
    return isY(xattrs.get("trusted.overlay.opaque")) || isY(xattrs.get("user.overlay.opaque"));
  }

  private static boolean isY(byte[] v) {
    return v != null && v.length >= 1 && v[0] == 'y';
  }

  private static void refuseOverlayFeatures(SortedMap<String, byte[]> xattrs, String where) {
    for (String k : xattrs.keySet()) {
      if (k.equals("trusted.overlay.redirect") || k.equals("user.overlay.redirect")
          || k.equals("trusted.overlay.metacopy") || k.equals("user.overlay.metacopy")) {
        throw LabenvException.badInput("packing overlay upper " + where + ": " + k
            + " is not supported (mount overlayfs with redirect_dir=off,metacopy=off)");
      }
    }
  }

  private static byte[] key(byte[] name, Stat st) {
    return st.isDirectory() ? concat(name, new byte[] {'/'}) : name;
  }

  private static TarPath resolve(TarPath prefix, byte[] name) {
    return prefix == null ? TarPath.ofRaw(name) : prefix.resolve(name);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
