package labenv.tar;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import labenv.LabenvException;
import labenv.linux.Names;

/**
 * Writes a POSIX (ustar + PAX) tar stream whose bytes depend only on the entries given.
 *
 * <p>Every header byte follows one rule: ustar magic "ustar\0" version "00", numeric fields in
 * zero-padded octal ending in NUL, unused fields zero. A PAX 'x' header comes before an entry only
 * when ustar cannot hold it exactly: a path that does not split into prefix/name, a non-ASCII
 * UTF-8 path or link target (ustar has no encoding), a link target over 100 bytes, a size of
 * 8 GiB or more, uid/gid over 07777777, an mtime outside 0..077777777777, a uname/gname that is not
 * short ASCII, and xattrs ({@code SCHILY.xattr.NAME}, as GNU tar and Go read them). The records are
 * sorted by key. A name that is not UTF-8 goes into ustar as raw bytes when it fits (every reader
 * takes ustar bytes as they are); only when it does not fit does it go into PAX as raw bytes with
 * {@code hdrcharset=BINARY} (GNU tar 1.34 prints a warning for that keyword but extracts the name
 * correctly). Directory names end in "/". The archive ends with exactly two zero blocks: no
 * padding to a 10 KiB record, so the length is a function of the entries alone.
 *
 * <p>Not thread-safe. Writing does not flush the underlying stream: a flush in the middle would
 * change compressed bytes downstream.
 */
public final class TarWriter implements Closeable {
  static final int BLOCK = 512;
  private static final long MAX_OCTAL_11 = 077777777777L;
  private static final long MAX_OCTAL_7 = 07777777L;
  private static final byte[] ZEROS = new byte[2 * BLOCK];

  private final OutputStream out;
  private final byte[] header = new byte[BLOCK];
  private byte[] copyBuffer;
  private long bytesWritten;
  private boolean finished;
  private boolean broken;

  public TarWriter(OutputStream out) {
    this.out = out;
  }

  /** Writes an entry that has no content: a directory, link, device, fifo or an empty file. */
  public void write(TarEntry e) {
    if (e.type() == TarEntry.Type.FILE && e.size() != 0) {
      throw new IllegalArgumentException("tar entry \"" + e.path() + "\": a file of " + e.size()
          + " bytes needs its content");
    }
    begin();
    try {
      writeHeaders(e);
    } catch (IOException ex) {
      throw fail(e, ex);
    }
  }

  /** Writes a regular file; {@code content} must give exactly {@code e.size()} bytes. */
  public void write(TarEntry e, ReadableByteChannel content) {
    if (e.type() != TarEntry.Type.FILE) {
      throw new IllegalArgumentException("tar entry \"" + e.path() + "\": only regular files have content");
    }
    begin();
    try {
      writeHeaders(e);
      copyExactly(e, content);
      pad(e.size());
    } catch (IOException ex) {
      throw fail(e, ex);
    } catch (RuntimeException ex) {
      broken = true;
      throw ex;
    }
  }

  /** Writes a regular file; {@code content} must give exactly {@code e.size()} bytes. */
  public void write(TarEntry e, InputStream content) {
    write(e, Channels.newChannel(content));
  }

  /** Writes the end-of-archive marker (two zero blocks) without closing the underlying stream. */
  public void finish() {
    if (finished) {
      return;
    }
    begin();
    try {
      out.write(ZEROS);
      bytesWritten += ZEROS.length;
      finished = true;
    } catch (IOException ex) {
      broken = true;
      throw LabenvException.failed("tar: writing the end of the archive: " + ex.getMessage(), ex);
    }
  }

  /** {@link #finish()}, then closes the underlying stream. */
  @Override
  public void close() {
    try {
      if (!broken) {
        finish();
      }
    } finally {
      try {
        out.close();
      } catch (IOException ex) {
        throw LabenvException.failed("tar: closing the archive: " + ex.getMessage(), ex);
      }
    }
  }

  /** Bytes of tar written so far. */
  public long bytesWritten() {
    return bytesWritten;
  }

  private void begin() {
    if (broken) {
      throw new IllegalStateException("tar writer failed earlier; the archive is incomplete");
    }
    if (finished) {
      throw new IllegalStateException("tar archive already finished");
    }
  }

  private LabenvException fail(TarEntry e, IOException ex) {
    broken = true;
    if (ex.getCause() instanceof LabenvException le) {
      return le;
    }
    return LabenvException.failed("tar entry \"" + e.path() + "\": " + ex.getMessage(), ex);
  }

  private void copyExactly(TarEntry e, ReadableByteChannel content) throws IOException {
    if (copyBuffer == null) {
      copyBuffer = new byte[1 << 20];
    }
    ByteBuffer bb = ByteBuffer.wrap(copyBuffer);
    long remaining = e.size();
    while (remaining > 0) {
      bb.clear().limit((int) Math.min(copyBuffer.length, remaining));
      int n = content.read(bb);
      if (n < 0) {
        throw new ContentSizeMismatchException(e, "ends after " + (e.size() - remaining) + " of "
            + e.size() + " bytes");
      }
      out.write(copyBuffer, 0, n);
      remaining -= n;
      bytesWritten += n;
    }
    bb.clear().limit(1);
    int more;
    do {
      more = content.read(bb);
    } while (more == 0 && bb.hasRemaining());
    if (more > 0) {
      throw new ContentSizeMismatchException(e, "has more than the " + e.size() + " bytes in its header");
    }
  }

  private void pad(long size) throws IOException {
    int rest = (int) (size % BLOCK);
    if (rest != 0) {
      out.write(ZEROS, 0, BLOCK - rest);
      bytesWritten += BLOCK - rest;
    }
  }

  private void writeHeaders(TarEntry e) throws IOException {
    byte[] name = archiveName(e);
    Map<String, byte[]> pax = new TreeMap<>();
    boolean binary = false;

    byte[][] split = splitUstar(name);
    boolean nameUtf8 = Names.isUtf8(name);
    if (split == null || (!isAscii(name) && nameUtf8)) {
      pax.put("path", name);
      binary |= !nameUtf8;
    }
    byte[] link = e.linkTarget() == null ? new byte[0] : e.linkTarget();
    if (e.type() == TarEntry.Type.SYMLINK || e.type() == TarEntry.Type.HARDLINK) {
      if (e.linkTarget() == null || link.length == 0) {
        throw new UnrepresentableEntryException(e, "a link needs a target");
      }
      boolean linkUtf8 = Names.isUtf8(link);
      if (link.length > 100 || (!isAscii(link) && linkUtf8)) {
        pax.put("linkpath", link);
        binary |= !linkUtf8;
      }
    }
    long size = e.type() == TarEntry.Type.FILE ? e.size() : 0;
    if (size < 0) {
      throw new UnrepresentableEntryException(e, "negative size " + size);
    }
    if (size > MAX_OCTAL_11) {
      pax.put("size", ascii(Long.toString(size)));
    }
    if (e.uid() < 0 || e.gid() < 0) {
      throw new UnrepresentableEntryException(e, "negative owner " + e.uid() + ":" + e.gid());
    }
    if (e.uid() > MAX_OCTAL_7) {
      pax.put("uid", ascii(Long.toString(e.uid())));
    }
    if (e.gid() > MAX_OCTAL_7) {
      pax.put("gid", ascii(Long.toString(e.gid())));
    }
    byte[] uname = e.uname().getBytes(StandardCharsets.UTF_8);
    byte[] gname = e.gname().getBytes(StandardCharsets.UTF_8);
    if (uname.length > 32 || !isAscii(uname)) {
      pax.put("uname", uname);
    }
    if (gname.length > 32 || !isAscii(gname)) {
      pax.put("gname", gname);
    }
    if (e.mtime() < 0 || e.mtime() > MAX_OCTAL_11) {
      pax.put("mtime", ascii(Long.toString(e.mtime())));
    }
    if (e.devMajor() < 0 || e.devMajor() > MAX_OCTAL_7 || e.devMinor() < 0 || e.devMinor() > MAX_OCTAL_7) {
      throw new UnrepresentableEntryException(e, "device " + e.devMajor() + ":" + e.devMinor()
          + " does not fit a tar header");
    }
    for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
      if (x.getKey().isEmpty() || x.getKey().indexOf('=') >= 0 || x.getKey().indexOf('\0') >= 0) {
        throw new UnrepresentableEntryException(e, "xattr name \"" + x.getKey() + "\" cannot be stored");
      }
      pax.put("SCHILY.xattr." + x.getKey(), x.getValue());
    }
    if (binary) {
      pax.put("hdrcharset", ascii("BINARY"));
    }

    long headerMtime = e.mtime() < 0 || e.mtime() > MAX_OCTAL_11 ? 0 : e.mtime();
    if (!pax.isEmpty()) {
      byte[] records = paxRecords(pax);
      fillHeader(paxHeaderName(e), null, 0644, 0, 0, records.length, headerMtime, (byte) 'x',
          new byte[0], new byte[0], new byte[0], 0, 0);
      out.write(header);
      out.write(records);
      bytesWritten += BLOCK + records.length;
      pad(records.length);
    }
    byte[] linkField = link.length > 100 ? Arrays.copyOf(link, 100) : link;
    byte[] unameField = pax.containsKey("uname") ? new byte[0] : uname;
    byte[] gnameField = pax.containsKey("gname") ? new byte[0] : gname;
    byte[] nameField = split != null ? split[1] : Arrays.copyOf(name, Math.min(100, name.length));
    byte[] prefixField = split != null ? split[0] : null;
    fillHeader(nameField, prefixField, e.mode() & 07777,
        e.uid() > MAX_OCTAL_7 ? 0 : e.uid(), e.gid() > MAX_OCTAL_7 ? 0 : e.gid(),
        size > MAX_OCTAL_11 ? 0 : size, headerMtime, typeflag(e.type()), linkField, unameField, gnameField,
        e.devMajor(), e.devMinor());
    out.write(header);
    bytesWritten += BLOCK;
  }

  /** The name as written: the entry's path, with a trailing "/" for directories. */
  static byte[] archiveName(TarEntry e) {
    byte[] p = e.path().bytes();
    if (p.length == 0) {
      throw new UnrepresentableEntryException(e, "empty path");
    }
    if (e.type() == TarEntry.Type.DIRECTORY && p[p.length - 1] != '/') {
      p = Arrays.copyOf(p, p.length + 1);
      p[p.length - 1] = '/';
    }
    return p;
  }

  /**
   * Splits a name into ustar prefix (up to 155 bytes) and name (1 to 100 bytes) at a '/', taking
   * the longest prefix that fits (as Go does); {prefix-or-null, name}, or null when it cannot split.
   */
  static byte[][] splitUstar(byte[] name) {
    if (name.length <= 100) {
      return new byte[][] {null, name};
    }
    int limit = Math.min(name.length - 1, 155);
    if (name[name.length - 1] == '/' && limit == name.length - 1) {
      limit--;
    }
    for (int i = limit; i > 0; i--) {
      if (name[i] == '/') {
        int nameLen = name.length - i - 1;
        if (nameLen == 0 || nameLen > 100) {
          return null;
        }
        return new byte[][] {Arrays.copyOf(name, i), Arrays.copyOfRange(name, i + 1, name.length)};
      }
    }
    return null;
  }

  /**
   * The PAX header's own name: "DIR/PaxHeaders.0/BASE" as Go writes it, with bytes that are not
   * printable ASCII dropped and cut to 100 bytes, so it depends only on the entry's path.
   */
  static byte[] paxHeaderName(TarEntry e) {
    byte[] p = e.path().bytes();
    int end = p.length;
    while (end > 1 && p[end - 1] == '/') {
      end--;
    }
    int slash = -1;
    for (int i = end - 1; i >= 0; i--) {
      if (p[i] == '/') {
        slash = i;
        break;
      }
    }
    StringBuilder sb = new StringBuilder();
    if (slash > 0) {
      appendAscii(sb, p, 0, slash);
      sb.append('/');
    }
    sb.append("PaxHeaders.0/");
    appendAscii(sb, p, slash + 1, end);
    byte[] b = ascii(sb.toString());
    return b.length > 100 ? Arrays.copyOf(b, 100) : b;
  }

  private static void appendAscii(StringBuilder sb, byte[] p, int from, int to) {
    for (int i = from; i < to; i++) {
      if (p[i] >= 0x20 && p[i] < 0x7f) {
        sb.append((char) p[i]);
      }
    }
  }

  /** "LEN KEY=VALUE\n" records, in the map's (sorted) order; LEN counts the whole record. */
  static byte[] paxRecords(Map<String, byte[]> pax) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> r : pax.entrySet()) {
      byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
      int base = key.length + r.getValue().length + 3;
      int len = base + Integer.toString(base).length();
      if (Integer.toString(len).length() != Integer.toString(base).length()) {
        len = base + Integer.toString(len).length();
      }
      b.writeBytes(ascii(len + " "));
      b.writeBytes(key);
      b.write('=');
      b.writeBytes(r.getValue());
      b.write('\n');
    }
    return b.toByteArray();
  }

  private void fillHeader(byte[] name, byte[] prefix, int mode, long uid, long gid, long size, long mtime,
      byte type, byte[] link, byte[] uname, byte[] gname, int devMajor, int devMinor) {
    Arrays.fill(header, (byte) 0);
    System.arraycopy(name, 0, header, 0, name.length);
    octal(100, 8, mode);
    octal(108, 8, uid);
    octal(116, 8, gid);
    octal(124, 12, size);
    octal(136, 12, mtime);
    header[156] = type;
    System.arraycopy(link, 0, header, 157, link.length);
    System.arraycopy(ascii("ustar\0" + "00"), 0, header, 257, 8);
    System.arraycopy(uname, 0, header, 265, uname.length);
    System.arraycopy(gname, 0, header, 297, gname.length);
    octal(329, 8, devMajor);
    octal(337, 8, devMinor);
    if (prefix != null) {
      System.arraycopy(prefix, 0, header, 345, prefix.length);
    }
    Arrays.fill(header, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : header) {
      sum += b & 0xff;
    }
    octal(148, 7, sum);
  }

  /** Zero-padded octal in {@code len - 1} digits and a NUL. */
  private void octal(int off, int len, long value) {
    header[off + len - 1] = 0;
    long v = value;
    for (int i = off + len - 2; i >= off; i--) {
      header[i] = (byte) ('0' + (v & 7));
      v >>>= 3;
    }
  }

  private static byte typeflag(TarEntry.Type t) {
    return switch (t) {
      case FILE -> '0';
      case HARDLINK -> '1';
      case SYMLINK -> '2';
      case CHAR_DEVICE -> '3';
      case BLOCK_DEVICE -> '4';
      case DIRECTORY -> '5';
      case FIFO -> '6';
    };
  }

  private static boolean isAscii(byte[] b) {
    for (byte x : b) {
      if (x < 0) {
        return false;
      }
    }
    return true;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The content given for a file does not have the size its header says (the file changed while it was read). */
  public static final class ContentSizeMismatchException extends LabenvException {
    private static final long serialVersionUID = 1L;

    ContentSizeMismatchException(TarEntry e, String what) {
      super(Kind.FAILED, "tar entry \"" + e.path() + "\": content " + what + " (did the file change while packing?)");
    }
  }

  /** An entry that a tar header cannot hold (negative size, link without target, device number too big). */
  public static final class UnrepresentableEntryException extends LabenvException {
    private static final long serialVersionUID = 1L;

    UnrepresentableEntryException(TarEntry e, String what) {
      super(Kind.BAD_INPUT, "tar entry \"" + e.path() + "\": " + what);
    }
  }
}
