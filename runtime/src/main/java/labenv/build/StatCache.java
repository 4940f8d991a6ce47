package labenv.build;

import com.sun.jna.LastErrorException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import labenv.image.Digest;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.store.AtomicFile;

/**
 * Remembers the sha256 of files by what identifies their content without reading it: device, inode, size, mtime
 * and ctime to the nanosecond (ctime cannot be set back, so a file rewritten and given its old mtime still
 * misses). A no-op rebuild then stats a 200 MB file instead of hashing it.
 *
 * <p>A file changed within the same clock tick as it was hashed could keep its key; so a hash is remembered only
 * when the file's ctime is more than a second older than the start of the read, and the file's key did not change
 * while it was read (git's "racily clean" problem, avoided the same way).
 *
 * <p>The cache is one file, rewritten whole (atomically) when it gained entries; an unreadable or corrupt one is
 * ignored and replaced. Entries unused for {@link #MAX_AGE_DAYS} days, and the oldest beyond {@link #MAX_ENTRIES},
 * are dropped when it is written.
 */
public final class StatCache {
  static final String FILE_NAME = "copy-stat-cache";
  private static final int MAGIC = 0x4c425343; // "LBSC"
  private static final int VERSION = 1;
  private static final int ENTRY_BYTES = 4 + 4 + 8 + 8 + 8 + 4 + 8 + 4 + 4 + 32;
  static final int MAX_ENTRIES = 200_000;
  static final int MAX_AGE_DAYS = 30;
  private static final long RACY_NANOS = 1_000_000_000L;

  /** What identifies a file's content on this host. */
  public record Key(int devMajor, int devMinor, long ino, long size, long mtimeSec, int mtimeNsec, long ctimeSec,
      int ctimeNsec) {
    long ctimeNanos() {
      return ctimeSec * 1_000_000_000L + ctimeNsec;
    }
  }

  private static final class Entry {
    final byte[] sha256;
    int day;

    Entry(byte[] sha256, int day) {
      this.sha256 = sha256;
      this.day = day;
    }
  }

  private final Path file;
  private final Map<Key, Entry> entries;
  private final int today = (int) (System.currentTimeMillis() / 86_400_000L);
  private boolean dirty;

  private StatCache(Path file, Map<Key, Entry> entries) {
    this.file = file;
    this.entries = entries;
  }

  /** The cache kept in {@code dir} (created if missing); empty when there is none or it is corrupt. */
  static StatCache load(Path dir) {
    return load(dir, FILE_NAME);
  }

  /** The cache in {@code dir/fileName} (used by labenv.dataset too); empty when there is none or it is corrupt. */
  public static StatCache load(Path dir, String fileName) {
    Path file = dir.resolve(fileName);
    Map<Key, Entry> entries = new HashMap<>();
    try {
      entries = read(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      // first use
    } catch (IOException | RuntimeException e) {
      // Corrupt or unreadable: start again; it is only a cache.
      entries = new HashMap<>();
    }
    return new StatCache(file, entries);
  }

  private static Map<Key, Entry> read(byte[] data) {
    if (data.length < 12 + 32) {
      throw new IllegalArgumentException("short");
    }
    MessageDigest sha = Digest.newSha256();
    sha.update(data, 0, data.length - 32);
    if (!MessageDigest.isEqual(sha.digest(), Arrays.copyOfRange(data, data.length - 32, data.length))) {
      throw new IllegalArgumentException("checksum");
    }
    ByteBuffer b = ByteBuffer.wrap(data, 0, data.length - 32).order(ByteOrder.BIG_ENDIAN);
    if (b.getInt() != MAGIC || b.getInt() != VERSION) {
      throw new IllegalArgumentException("magic");
    }
    int count = b.getInt();
    if (count < 0 || (long) count * ENTRY_BYTES != b.remaining()) {
      throw new IllegalArgumentException("count");
    }
    Map<Key, Entry> out = new HashMap<>(count * 2);
    for (int i = 0; i < count; i++) {
      Key k = new Key(b.getInt(), b.getInt(), b.getLong(), b.getLong(), b.getLong(), b.getInt(), b.getLong(),
          b.getInt());
      int day = b.getInt();
      byte[] hash = new byte[32];
      b.get(hash);
      out.put(k, new Entry(hash, day));
    }
    return out;
  }

  /** The remembered sha256 for {@code key}, or null. */
  public byte[] get(Key key) {
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (e.day != today) {
      e.day = today;
      dirty = true;
    }
    return e.sha256;
  }

  /**
   * Remembers {@code sha256} for a file whose key was {@code before} when the read started at
   * {@code readStartNanos} (wall clock) and {@code after} when it ended.
   */
  public void put(Key before, Key after, long readStartNanos, byte[] sha256) {
    if (!before.equals(after) || before.ctimeNanos() > readStartNanos - RACY_NANOS) {
      return;
    }
    entries.put(before, new Entry(sha256.clone(), today));
    dirty = true;
  }

  int size() {
    return entries.size();
  }

  /** Writes the cache back if it changed. Failing to write it is not an error: the next build hashes again. */
  public void save() {
    if (!dirty) {
      return;
    }
    List<Map.Entry<Key, Entry>> keep = new ArrayList<>();
    for (Map.Entry<Key, Entry> e : entries.entrySet()) {
      if (today - e.getValue().day <= MAX_AGE_DAYS) {
        keep.add(e);
      }
    }
    if (keep.size() > MAX_ENTRIES) {
      keep.sort(Comparator.comparingInt((Map.Entry<Key, Entry> e) -> e.getValue().day).reversed());
      keep = keep.subList(0, MAX_ENTRIES);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(12 + keep.size() * ENTRY_BYTES + 32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(keep.size());
      for (Map.Entry<Key, Entry> e : keep) {
        Key k = e.getKey();
        out.writeInt(k.devMajor());
        out.writeInt(k.devMinor());
        out.writeLong(k.ino());
        out.writeLong(k.size());
        out.writeLong(k.mtimeSec());
        out.writeInt(k.mtimeNsec());
        out.writeLong(k.ctimeSec());
        out.writeInt(k.ctimeNsec());
        out.writeInt(e.getValue().day);
        out.write(e.getValue().sha256);
      }
      out.flush();
      byte[] body = bytes.toByteArray();
      out.write(Digest.newSha256().digest(body));
    } catch (IOException e) {
      throw new IllegalStateException(e); // a ByteArrayOutputStream does not fail
    }
    try {
      Files.createDirectories(file.getParent());
      AtomicFile.write(file, bytes.toByteArray());
      dirty = false;
    } catch (IOException | RuntimeException e) {
      // Only a cache: a build must not fail because its directory is read-only or full.
    }
  }

  /** The key of the open file {@code fd} (statx on the fd itself). */
  public static Key keyOf(int fd) {
    byte[] buf = new byte[256];
    try {
      Libc.statx(fd, Syscalls.cstr(""), Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, buf);
    } catch (LastErrorException e) {
      throw new ErrnoException("statx", null, e.getErrorCode());
    }
    return keyOfStatx(buf);
  }

  /** The key in a struct statx that statx(2) filled with at least {@code STATX_BASIC_STATS}. */
  public static Key keyOfStatx(byte[] buf) {
    ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    // struct statx: ino 32, size 40, ctime 96 {s64 sec; u32 nsec}, mtime 112, dev_major 136, dev_minor 140
    return new Key(b.getInt(136), b.getInt(140), b.getLong(32), b.getLong(40), b.getLong(112), b.getInt(120),
        b.getLong(96), b.getInt(104));
  }
}
