package labenv.tar;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import labenv.LabenvException;
import labenv.linux.Names;

/**
 * Reads an uncompressed tar archive entry by entry, streaming: ustar, GNU (long names, base-256 numbers, sparse)
 * and PAX (per-entry and global records) as GNU tar, Go's archive/tar and libarchive write them, plus v7 headers.
 * Names and link targets stay the archive's bytes ({@link TarPath#ofRaw}): nothing is decoded or normalised here;
 * checking that a name is safe to create is the applier's job.
 *
 * <p>Errors are one-line {@link LabenvException}s: {@link LabenvException.Kind#BAD_INPUT} for a corrupt, truncated
 * or unsupported archive (naming the entry or the byte offset), {@link LabenvException.Kind#FAILED} when the
 * underlying stream fails to read.
 */
public final class TarReader implements Closeable {
  private static final int BLOCK = 512;
  /** Bound on PAX headers and GNU long names, so a hostile size can't make us buffer gigabytes. */
  private static final int MAX_META = 1 << 20;
  private static final int MAX_SPARSE_SEGMENTS = 1 << 20;

  private final InputStream in;
  private final byte[] header = new byte[BLOCK];
  private final Map<String, byte[]> globals = new HashMap<>();
  private int globalsSize;
  private long offset;
  private boolean ended;
  private TarPath lastPath;

  private TarEntry entry;
  private long entryOffset;
  private long rawRemaining;
  private long padding;
  private boolean sparse;
  private InputStream content;
  /** Counts entries, so a content stream kept past {@link #next} can tell it is stale. */
  private long generation;

  public TarReader(InputStream in) {
    this.in = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 64 * 1024);
  }

  private boolean lenientEnd;

  /**
   * Lets the archive end without its end-of-archive marker, and without the padding of its last entry once that
   * entry's content is complete: how Go's archive/tar leaves a layer whose writer was not closed (umoci's), and
   * what Docker, containerd and podman read. Only for streams whose digest is checked (layers): a cut there is
   * caught by the digest, not by the marker.
   */
  public TarReader lenientEnd() {
    this.lenientEnd = true;
    return this;
  }

  /**
   * The next entry with PAX and GNU extensions folded in, or null after the end-of-archive marker. Content of
   * the previous entry that was not read is skipped. At the end, the rest of the stream is read and discarded so
   * that a compressed stream's trailer (and a verifying stream's digest) is checked.
   */
  public TarEntry next() {
    skipRest();
    entry = null;
    content = null;
    if (ended) {
      return null;
    }
    Map<String, byte[]> pax = new HashMap<>();
    List<long[]> pax00Segments = new ArrayList<>();
    byte[] longName = null;
    byte[] longLink = null;
    boolean pendingMeta = false;
    long start = -1;
    while (true) {
      long at = offset;
      int n = readBlock();
      if (n == 0) {
        if (at == 0 || lenientEnd && !pendingMeta) {
          ended = true;
          return null;
        }
        throw bad(pendingMeta
            ? "truncated archive: ends at byte " + at + " after an extended header, before its entry"
            : "truncated archive: ends at byte " + at + " without an end-of-archive marker" + after());
      }
      if (n < BLOCK) {
        throw bad("truncated archive: header at byte " + at + " has " + n + " of 512 bytes" + after());
      }
      if (isZero(header, BLOCK)) {
        if (pendingMeta) {
          throw bad("corrupt archive: end-of-archive marker at byte " + at + " right after an extended header");
        }
        long second = offset;
        int m = readBlock();
        if (m == 0 || isZero(header, m)) {
          drain();
          ended = true;
          return null;
        }
        throw bad("corrupt archive: a zero block at byte " + at + " is followed by data at byte " + second + after());
      }
      verifyChecksum(at);
      byte type = header[156];
      if (start < 0 && type != 'g') {
        start = at; // messages name an entry by its first header, the extended one if it has one
      }
      switch (type) {
        case 'x' -> {
          for (PaxRecords.Record r : readPax(at)) {
            if (r.key().equals("GNU.sparse.offset") || r.key().equals("GNU.sparse.numbytes")) {
              long v = paxNumber(r, at);
              if (r.key().equals("GNU.sparse.offset")) {
                pax00Segments.add(new long[] {v, -1});
              } else if (pax00Segments.isEmpty() || pax00Segments.get(pax00Segments.size() - 1)[1] >= 0) {
                throw bad("extended header at byte " + at + ": GNU.sparse.numbytes without an offset");
              } else {
                pax00Segments.get(pax00Segments.size() - 1)[1] = v;
              }
            } else {
              pax.put(r.key(), r.value());
            }
          }
          pendingMeta = true;
        }
        case 'g' -> {
          for (PaxRecords.Record r : readPax(at)) {
            if (r.value().length == 0) {
              globals.remove(r.key());
            } else {
              globalsSize += r.key().length() + r.value().length;
              if (globalsSize > MAX_META) {
                throw bad("global header at byte " + at + ": global PAX records exceed " + MAX_META + " bytes");
              }
              globals.put(r.key(), r.value());
            }
          }
        }
        case 'L' -> {
          longName = cstring(readMeta(at, "GNU long name"), 0, Integer.MAX_VALUE);
          pendingMeta = true;
        }
        case 'K' -> {
          longLink = cstring(readMeta(at, "GNU long link name"), 0, Integer.MAX_VALUE);
          pendingMeta = true;
        }
        default -> {
          entry = buildEntry(start, type, pax, pax00Segments, longName, longLink);
          entryOffset = start;
          lastPath = entry.path();
          return entry;
        }
      }
    }
  }

  /**
   * The current entry's content: exactly {@link TarEntry#size} bytes for files (holes of sparse entries come back
   * as zeros), nothing for other entries. Valid until the next call to {@link #next}.
   */
  public InputStream content() {
    if (entry == null) {
      throw new IllegalStateException("no current entry");
    }
    return content;
  }

  /** The byte offset in the (uncompressed) archive of the current entry's first header. */
  public long entryOffset() {
    return entryOffset;
  }

  /** True when the current entry was stored sparse (GNU): its content has holes the writer may keep as holes. */
  public boolean isSparse() {
    return sparse;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  private TarEntry buildEntry(long at, byte type, Map<String, byte[]> entryPax, List<long[]> pax00,
      byte[] longName, byte[] longLink) {
    Map<String, byte[]> pax = new HashMap<>(globals);
    for (Map.Entry<String, byte[]> e : entryPax.entrySet()) {
      // An empty value in a per-entry header cancels a global record and falls back to the ustar field.
      if (e.getValue().length == 0) {
        pax.remove(e.getKey());
      } else {
        pax.put(e.getKey(), e.getValue());
      }
    }
    boolean posix = header[257] == 'u' && Arrays.equals(header, 257, 263, USTAR, 0, 6);
    boolean gnu = Arrays.equals(header, 257, 265, GNU_MAGIC, 0, 8);
    byte[] name = cstring(header, 0, 100);
    if (posix) {
      // star puts "tar\0" at 508 and keeps atime/ctime after a shorter prefix.
      boolean star = Arrays.equals(header, 508, 512, STAR_TRAILER, 0, 4);
      byte[] prefix = cstring(header, 345, star ? 131 : 155);
      if (prefix.length > 0) {
        byte[] joined = Arrays.copyOf(prefix, prefix.length + 1 + name.length);
        joined[prefix.length] = '/';
        System.arraycopy(name, 0, joined, prefix.length + 1, name.length);
        name = joined;
      }
    }
    byte[] link = cstring(header, 157, 100);
    if (longName != null) {
      name = longName;
    }
    if (longLink != null) {
      link = longLink;
    }
    if (pax.containsKey("path")) {
      name = pax.get("path");
    }
    if (pax.containsKey("GNU.sparse.name")) {
      name = pax.get("GNU.sparse.name");
    }
    if (pax.containsKey("linkpath")) {
      link = pax.get("linkpath");
    }
    Object where = new Where(name, at);
    if (indexOf(name, (byte) 0) >= 0 || indexOf(link, (byte) 0) >= 0) {
      throw bad(where + ": name contains a NUL byte");
    }
    if (name.length == 0) {
      throw bad(where + ": empty name");
    }

    int mode = (int) (numeric(header, 100, 8, where, "mode") & 07777);
    long uid = paxOr(pax, "uid", numeric(header, 108, 8, where, "uid"), where);
    long gid = paxOr(pax, "gid", numeric(header, 116, 8, where, "gid"), where);
    long size = paxOr(pax, "size", numeric(header, 124, 12, where, "size"), where);
    long mtime = pax.containsKey("mtime") ? paxTime(pax.get("mtime"), where)
        : numeric(header, 136, 12, where, "mtime");
    if (uid < 0 || gid < 0) {
      throw bad(where + ": negative owner id");
    }
    if (size < 0) {
      throw bad(where + ": negative size " + size);
    }
    String uname = pax.containsKey("uname") ? text(pax.get("uname"))
        : posix || gnu ? text(cstring(header, 265, 32)) : "";
    String gname = pax.containsKey("gname") ? text(pax.get("gname"))
        : posix || gnu ? text(cstring(header, 297, 32)) : "";

    TarEntry.Type t = switch (type) {
      case '0', '7', 'S' -> TarEntry.Type.FILE;
      // v7 and early ustar writers mark directories only by a trailing slash.
      case 0 -> name[name.length - 1] == '/' ? TarEntry.Type.DIRECTORY : TarEntry.Type.FILE;
      case '1' -> TarEntry.Type.HARDLINK;
      case '2' -> TarEntry.Type.SYMLINK;
      case '3' -> TarEntry.Type.CHAR_DEVICE;
      case '4' -> TarEntry.Type.BLOCK_DEVICE;
      case '5' -> TarEntry.Type.DIRECTORY;
      case '6' -> TarEntry.Type.FIFO;
      default -> throw bad(where + ": unsupported entry type " + typeName(type));
    };
    int devMajor = 0;
    int devMinor = 0;
    if ((t == TarEntry.Type.CHAR_DEVICE || t == TarEntry.Type.BLOCK_DEVICE) && (posix || gnu)) {
      devMajor = (int) numeric(header, 329, 8, where, "devmajor");
      devMinor = (int) numeric(header, 337, 8, where, "devminor");
    }

    // Go's archive/tar (and so Docker) reads no data for header-only types whatever the size field says.
    long stored = t == TarEntry.Type.FILE ? size : 0;
    SparseMap sparseMap = null;
    long sparse10Size = -1;
    if (type == 'S') {
      sparseMap = oldGnuSparse(where, gnu);
    } else if (t == TarEntry.Type.FILE && isPaxSparse(pax, pax00)) {
      sparse10Size = sparse10RealSize(pax, where);
      if (sparse10Size < 0) {
        sparseMap = paxSparse(pax, pax00, where);
      }
    }
    TreeMap<String, byte[]> xattrs = xattrs(pax, where);

    rawRemaining = stored;
    padding = (BLOCK - stored % BLOCK) % BLOCK;
    generation++;
    InputStream raw = new EntryData(where, generation);
    long realSize = size;
    sparse = false;
    if (sparse10Size >= 0) {
      // GNU sparse 1.0: the map is at the start of the data, in whole blocks.
      sparseMap = readSparse10Map(sparse10Size, where);
    }
    if (sparseMap != null) {
      try {
        sparseMap.validate(rawRemaining);
      } catch (IllegalArgumentException e) {
        throw bad(where + ": " + e.getMessage());
      }
      realSize = sparseMap.realSize();
      content = sparseMap.expand(raw);
      sparse = true;
    } else {
      content = raw;
    }
    return new TarEntry(t, TarPath.ofRaw(name), t == TarEntry.Type.SYMLINK || t == TarEntry.Type.HARDLINK ? link : null,
        mode, uid, gid, uname, gname, mtime, t == TarEntry.Type.FILE ? realSize : 0, devMajor, devMinor, xattrs);
  }

  private static final byte[] USTAR = {'u', 's', 't', 'a', 'r', 0};
  private static final byte[] GNU_MAGIC = {'u', 's', 't', 'a', 'r', ' ', ' ', 0};
  private static final byte[] STAR_TRAILER = {'t', 'a', 'r', 0};

  private static String typeName(byte type) {
    return type >= 0x21 && type < 0x7f ? "'" + (char) type + "'" : String.format("0x%02x", type & 0xff);
  }

  private SparseMap oldGnuSparse(Object where, boolean gnu) {
    if (!gnu) {
      throw bad(where + ": GNU sparse entry without the GNU magic");
    }
    long realSize = numeric(header, 483, 12, where, "realsize");
    List<long[]> segments = new ArrayList<>();
    boolean more = readSparseEntries(header, 386, 4, segments, where);
    more &= header[482] != 0;
    while (more) {
      long at = offset;
      int n = readBlock();
      if (n < BLOCK) {
        throw bad(where + ": truncated archive: sparse extension header at byte " + at + " is cut short");
      }
      readSparseEntries(header, 0, 21, segments, where);
      more = header[504] != 0;
      if (segments.size() > MAX_SPARSE_SEGMENTS) {
        throw bad(where + ": more than " + MAX_SPARSE_SEGMENTS + " sparse segments");
      }
    }
    return toMap(segments, realSize);
  }

  /** Reads up to {@code count} (offset, numbytes) pairs; false when an empty slot ended the list. */
  private boolean readSparseEntries(byte[] block, int start, int count, List<long[]> segments, Object where) {
    for (int i = 0; i < count; i++) {
      int p = start + i * 24;
      if (block[p] == 0) {
        return false;
      }
      segments.add(new long[] {numeric(block, p, 12, where, "sparse offset"),
          numeric(block, p + 12, 12, where, "sparse numbytes")});
    }
    return true;
  }

  private static boolean isPaxSparse(Map<String, byte[]> pax, List<long[]> pax00) {
    return !pax00.isEmpty() || pax.containsKey("GNU.sparse.map") || pax.containsKey("GNU.sparse.major")
        || pax.containsKey("GNU.sparse.numblocks");
  }

  /** The real size of a GNU sparse 1.0 entry, or -1 for the older PAX sparse formats. */
  private long sparse10RealSize(Map<String, byte[]> pax, Object where) {
    String major = pax.containsKey("GNU.sparse.major") ? ascii(pax.get("GNU.sparse.major")) : null;
    String minor = pax.containsKey("GNU.sparse.minor") ? ascii(pax.get("GNU.sparse.minor")) : null;
    if (major == null) {
      return -1;
    }
    if (!major.equals("1") || !"0".equals(minor)) {
      throw bad(where + ": unsupported GNU sparse format " + Names.display(pax.get("GNU.sparse.major")) + "."
          + (minor == null ? "?" : Names.display(pax.get("GNU.sparse.minor"))));
    }
    if (!pax.containsKey("GNU.sparse.realsize")) {
      throw bad(where + ": GNU sparse 1.0 entry without GNU.sparse.realsize");
    }
    return paxNumber("GNU.sparse.realsize", pax.get("GNU.sparse.realsize"), where);
  }

  private SparseMap paxSparse(Map<String, byte[]> pax, List<long[]> pax00, Object where) {
    if (!pax.containsKey("GNU.sparse.size")) {
      throw bad(where + ": GNU sparse entry without GNU.sparse.size");
    }
    long realSize = paxNumber("GNU.sparse.size", pax.get("GNU.sparse.size"), where);
    List<long[]> segments = new ArrayList<>();
    if (pax.containsKey("GNU.sparse.map")) {
      String map = ascii(pax.get("GNU.sparse.map"));
      String[] parts = map.isEmpty() ? new String[0] : map.split(",", -1);
      if (parts.length % 2 != 0) {
        throw bad(where + ": GNU.sparse.map has an odd number of values");
      }
      for (int i = 0; i < parts.length; i += 2) {
        segments.add(new long[] {paxNumber("GNU.sparse.map", parts[i].getBytes(StandardCharsets.US_ASCII), where),
            paxNumber("GNU.sparse.map", parts[i + 1].getBytes(StandardCharsets.US_ASCII), where)});
      }
    } else {
      for (long[] s : pax00) {
        if (s[1] < 0) {
          throw bad(where + ": GNU.sparse.offset without numbytes");
        }
        segments.add(s);
      }
    }
    if (pax.containsKey("GNU.sparse.numblocks")
        && paxNumber("GNU.sparse.numblocks", pax.get("GNU.sparse.numblocks"), where) != segments.size()) {
      throw bad(where + ": GNU.sparse.numblocks does not match the sparse map");
    }
    return toMap(segments, realSize);
  }

  private SparseMap readSparse10Map(long realSize, Object where) {
    // Numbers in decimal, each ended by '\n': the count, then offset and size pairs; padded to whole blocks.
    long consumed = 0;
    long[] values = null;
    int have = 0;
    long count = -1;
    StringBuilder digits = new StringBuilder();
    byte[] block = new byte[BLOCK];
    while (count < 0 || have < values.length) {
      if (rawRemaining < BLOCK) {
        throw bad(where + ": GNU sparse 1.0 map runs past the entry's data");
      }
      readContentFully(block, where);
      consumed += BLOCK;
      for (int i = 0; i < BLOCK && (count < 0 || have < values.length); i++) {
        byte b = block[i];
        if (b == '\n') {
          if (digits.length() == 0) {
            throw bad(where + ": malformed GNU sparse 1.0 map");
          }
          long v = Long.parseLong(digits.toString());
          digits.setLength(0);
          if (count < 0) {
            if (v > MAX_SPARSE_SEGMENTS) {
              throw bad(where + ": more than " + MAX_SPARSE_SEGMENTS + " sparse segments");
            }
            count = v;
            values = new long[(int) (2 * v)];
          } else {
            values[have++] = v;
          }
        } else if (b >= '0' && b <= '9' && digits.length() < 18) {
          digits.append((char) b);
        } else {
          throw bad(where + ": malformed GNU sparse 1.0 map");
        }
      }
    }
    List<long[]> segments = new ArrayList<>();
    for (int i = 0; i < values.length; i += 2) {
      segments.add(new long[] {values[i], values[i + 1]});
    }
    return toMap(segments, realSize);
  }

  private static SparseMap toMap(List<long[]> segments, long realSize) {
    long[] offsets = new long[segments.size()];
    long[] lengths = new long[segments.size()];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = segments.get(i)[0];
      lengths[i] = segments.get(i)[1];
    }
    return new SparseMap(offsets, lengths, realSize);
  }

  private TreeMap<String, byte[]> xattrs(Map<String, byte[]> pax, Object where) {
    TreeMap<String, byte[]> out = new TreeMap<>();
    for (Map.Entry<String, byte[]> e : pax.entrySet()) {
      String key = e.getKey();
      if (key.startsWith("SCHILY.xattr.")) {
        out.put(key.substring("SCHILY.xattr.".length()), e.getValue());
      } else if (key.startsWith("LIBARCHIVE.xattr.")) {
        String name = Names.decodeStrict(percentDecode(key.substring("LIBARCHIVE.xattr.".length())));
        if (name == null) {
          throw bad(where + ": xattr name in " + key + " is not UTF-8");
        }
        try {
          out.put(name, Base64.getDecoder().decode(e.getValue()));
        } catch (IllegalArgumentException ex) {
          throw bad(where + ": " + key + " is not base64");
        }
      }
    }
    for (String name : out.keySet()) {
      if (name.isEmpty() || name.indexOf('\0') >= 0) {
        throw bad(where + ": malformed xattr name");
      }
    }
    return out;
  }

  private static byte[] percentDecode(String s) {
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[in.length];
    int n = 0;
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
        out[n++] = (byte) (hex(in[i + 1]) << 4 | hex(in[i + 2]));
        i += 2;
      } else {
        out[n++] = in[i];
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static int hex(byte b) {
    return b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
  }

  // --- numbers

  /**
   * A numeric header field: octal text (NUL/space padded), or GNU base-256 when the high bit of the first byte
   * is set (0x80 positive, 0xff negative, two's complement).
   */
  private long numeric(byte[] b, int off, int len, Object where, String field) {
    if ((b[off] & 0x80) != 0) {
      int inv = (b[off] & 0x40) != 0 ? 0xff : 0;
      long x = 0;
      for (int i = 0; i < len; i++) {
        int c = (b[off + i] & 0xff) ^ inv;
        if (i == 0) {
          c &= 0x7f;
        }
        if ((x >>> 56) != 0) {
          throw bad(where + ": " + field + " field overflows");
        }
        x = x << 8 | c;
      }
      if (x < 0) {
        throw bad(where + ": " + field + " field overflows");
      }
      return inv == 0xff ? ~x : x;
    }
    int start = off;
    int end = off + len;
    while (start < end && (b[start] == ' ' || b[start] == 0)) {
      start++;
    }
    while (end > start && (b[end - 1] == ' ' || b[end - 1] == 0)) {
      end--;
    }
    long x = 0;
    for (int i = start; i < end; i++) {
      if (b[i] < '0' || b[i] > '7' || (x >>> 60) != 0) {
        throw bad(where + ": invalid " + field + " field \"" + Names.display(Arrays.copyOfRange(b, off, off + len)) + "\"");
      }
      x = x << 3 | (b[i] - '0');
    }
    return x;
  }

  private long paxOr(Map<String, byte[]> pax, String key, long fallback, Object where) {
    return pax.containsKey(key) ? paxNumber(key, pax.get(key), where) : fallback;
  }

  private long paxNumber(PaxRecords.Record r, long at) {
    return paxNumber(r.key(), r.value(), "extended header at byte " + at);
  }

  private long paxNumber(String key, byte[] value, Object where) {
    if (value.length == 0 || value.length > 18) {
      throw bad(where + ": invalid PAX " + key + " \"" + Names.display(value) + "\"");
    }
    long x = 0;
    for (byte c : value) {
      if (c < '0' || c > '9') {
        throw bad(where + ": invalid PAX " + key + " \"" + Names.display(value) + "\"");
      }
      x = x * 10 + (c - '0');
    }
    return x;
  }

  /** A PAX time ("-12.5", "1700000000.123456789") as whole seconds, rounded down. */
  private long paxTime(byte[] value, Object where) {
    String s = ascii(value);
    if (!s.matches("-?[0-9]{1,18}(\\.[0-9]*)?")) {
      throw bad(where + ": invalid PAX mtime \"" + Names.display(value) + "\"");
    }
    int dot = s.indexOf('.');
    long secs = Long.parseLong(dot < 0 ? s : s.substring(0, dot));
    boolean fraction = dot >= 0 && s.substring(dot + 1).chars().anyMatch(c -> c != '0');
    return s.startsWith("-") && fraction ? secs - 1 : secs;
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  /** Owner names as text: UTF-8 where they are, else byte for byte (Latin-1), so nothing is lost. */
  private static String text(byte[] b) {
    String s = Names.decodeStrict(b);
    return s != null ? s : new String(b, StandardCharsets.ISO_8859_1);
  }

  // --- blocks and checksums

  private void verifyChecksum(long at) {
    long recorded;
    try {
      recorded = numeric(header, 148, 8, "header at byte " + at, "checksum");
    } catch (LabenvException e) {
      throw bad("corrupt archive: header at byte " + at + " has no valid checksum (not a tar header)" + after());
    }
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < BLOCK; i++) {
      int b = i >= 148 && i < 156 ? ' ' : header[i];
      unsigned += b & 0xff;
      signed += (byte) b;
    }
    // Some old writers summed signed chars; both are accepted, as GNU tar does.
    if (recorded != unsigned && recorded != signed) {
      throw bad("corrupt archive: header checksum mismatch at byte " + at + after());
    }
  }

  private String after() {
    return lastPath == null ? "" : " (after entry \"" + lastPath + "\")";
  }

  private static boolean isZero(byte[] b, int len) {
    for (int i = 0; i < len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] b, byte v) {
    for (int i = 0; i < b.length; i++) {
      if (b[i] == v) {
        return i;
      }
    }
    return -1;
  }

  /** Bytes up to the first NUL within {@code b[off, off+len)}. */
  private static byte[] cstring(byte[] b, int off, int len) {
    int end = (int) Math.min((long) off + len, b.length);
    int i = off;
    while (i < end && b[i] != 0) {
      i++;
    }
    return Arrays.copyOfRange(b, off, i);
  }

  /** Reads one block into {@link #header}; returns the bytes read (less than a block only at the end). */
  private int readBlock() {
    return readFully(header, 0, BLOCK);
  }

  private int readFully(byte[] b, int off, int len) {
    int total = 0;
    try {
      while (total < len) {
        int n = in.read(b, off + total, len - total);
        if (n < 0) {
          break;
        }
        total += n;
        offset += n;
      }
    } catch (IOException e) {
      throw LabenvException.failed("reading archive at byte " + offset + ": " + e.getMessage(), e);
    }
    return total;
  }

  private byte[] readMeta(long at, String what) {
    long size = numeric(header, 124, 12, "header at byte " + at, "size");
    if (size < 0 || size > MAX_META) {
      throw bad(what + " at byte " + at + " is " + size + " bytes (at most " + MAX_META + " accepted)");
    }
    byte[] data = new byte[(int) size];
    int n = readFully(data, 0, data.length);
    long pad = (BLOCK - size % BLOCK) % BLOCK;
    if (n < size || skip(pad) < pad) {
      throw bad("truncated archive: " + what + " at byte " + at + " is cut short");
    }
    return data;
  }

  private List<PaxRecords.Record> readPax(long at) {
    byte[] data = readMeta(at, "extended header");
    try {
      return PaxRecords.parse(data);
    } catch (IllegalArgumentException e) {
      throw bad("extended header at byte " + at + ": " + e.getMessage() + after());
    }
  }

  private long skip(long n) {
    byte[] scratch = new byte[(int) Math.min(n, 64 * 1024)];
    long done = 0;
    while (done < n) {
      int got = readFully(scratch, 0, (int) Math.min(scratch.length, n - done));
      if (got == 0) {
        break;
      }
      done += got;
    }
    return done;
  }

  private void readContentFully(byte[] b, Object where) {
    int n = readFully(b, 0, b.length);
    rawRemaining -= n;
    if (n < b.length) {
      throw truncatedIn(where);
    }
  }

  private void skipRest() {
    if (entry == null) {
      return;
    }
    Object where = new Where(entry.path().bytes(), entryOffset);
    if (skip(rawRemaining) < rawRemaining) {
      throw truncatedIn(where);
    }
    rawRemaining = 0;
    if (skip(padding) < padding) {
      if (lenientEnd) {
        padding = 0;
        ended = true;
        return;
      }
      throw bad("truncated archive: " + where + " misses its padding (archive ends at byte " + offset + ")");
    }
    padding = 0;
  }

  private LabenvException truncatedIn(Object where) {
    return bad("truncated archive: " + where + " ends at byte " + offset + " before its content does");
  }

  /** Reads what follows the end-of-archive marker (tar's record padding, then the compressed stream's trailer). */
  private void drain() {
    while (skip(1 << 20) > 0) {
      // keep reading
    }
  }

  /** Names an entry in messages; built only when a message is (decoding names for every entry costs). */
  private record Where(byte[] name, long at) {
    @Override
    public String toString() {
      return "entry \"" + Names.display(name) + "\" at byte " + at;
    }
  }

  private static LabenvException bad(String message) {
    return LabenvException.badInput(message);
  }

  /** The current entry's stored data, bounded; a short archive is an error, not an early end. */
  private final class EntryData extends InputStream {
    private final Object where;
    private final long owner;

    EntryData(Object where, long owner) {
      this.where = where;
      this.owner = owner;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (owner != generation || entry == null) {
        throw new IllegalStateException("content read after the next entry was started");
      }
      if (rawRemaining == 0) {
        return -1;
      }
      if (len == 0) {
        return 0;
      }
      int want = (int) Math.min(len, rawRemaining);
      int n;
      try {
        n = in.read(b, off, want);
      } catch (IOException e) {
        throw LabenvException.failed("reading archive at byte " + offset + ": " + e.getMessage(), e);
      }
      if (n < 0) {
        throw truncatedIn(where);
      }
      offset += n;
      rawRemaining -= n;
      return n;
    }
  }
}
