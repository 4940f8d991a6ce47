package labenv.tar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds tar archives byte by byte, for tests: headers exactly as a (possibly broken or hostile) writer would lay
 * them out, with no checks. Independent of the code under test.
 */
public final class RawTar {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** One 512-byte header; ustar ("ustar\0" "00") unless told otherwise. */
  public static final class Header {
    final byte[] b = new byte[512];
    private boolean signedChecksum;

    public Header() {
      put(257, "ustar\0".getBytes(StandardCharsets.US_ASCII));
      put(263, "00".getBytes(StandardCharsets.US_ASCII));
      mode(0644);
      octal(108, 8, 0);
      octal(116, 8, 0);
      octal(124, 12, 0);
      octal(136, 12, 0);
      type('0');
    }

    public Header name(String n) {
      return name(n.getBytes(StandardCharsets.UTF_8));
    }

    public Header name(byte[] n) {
      Arrays.fill(b, 0, 100, (byte) 0);
      return put(0, n);
    }

    public Header link(String n) {
      Arrays.fill(b, 157, 257, (byte) 0);
      return put(157, n.getBytes(StandardCharsets.UTF_8));
    }

    public Header prefix(String p) {
      return put(345, p.getBytes(StandardCharsets.UTF_8));
    }

    /** Sets the type; a directory gets mode 0755 unless a mode is set after. */
    public Header type(char t) {
      b[156] = (byte) t;
      if (t == '5') {
        mode(0755);
      }
      return this;
    }

    public Header mode(int m) {
      return octal(100, 8, m);
    }

    public Header uid(long v) {
      return octal(108, 8, v);
    }

    public Header gid(long v) {
      return octal(116, 8, v);
    }

    public Header size(long v) {
      return octal(124, 12, v);
    }

    public Header mtime(long v) {
      return octal(136, 12, v);
    }

    public Header dev(int major, int minor) {
      octal(329, 8, major);
      return octal(337, 8, minor);
    }

    public Header uname(String u) {
      return put(265, u.getBytes(StandardCharsets.UTF_8));
    }

    /** The GNU magic ("ustar  \0"), as GNU tar writes in --format=gnu. */
    public Header gnu() {
      return put(257, "ustar  \0".getBytes(StandardCharsets.US_ASCII));
    }

    /** No magic at all: a v7 header. */
    public Header v7() {
      Arrays.fill(b, 257, 265, (byte) 0);
      return this;
    }

    public Header signedChecksum() {
      signedChecksum = true;
      return this;
    }

    public Header put(int off, byte[] v) {
      System.arraycopy(v, 0, b, off, v.length);
      return this;
    }

    public Header octal(int off, int len, long v) {
      String s = Long.toOctalString(v);
      String padded = "0".repeat(Math.max(0, len - 1 - s.length())) + s;
      Arrays.fill(b, off, off + len, (byte) 0);
      return put(off, padded.getBytes(StandardCharsets.US_ASCII));
    }

    /** GNU base-256: 0x80 marker then big-endian two's complement in the remaining bytes. */
    public Header base256(int off, int len, long v) {
      for (int i = len - 1; i >= 0; i--) {
        b[off + i] = (byte) v;
        v >>= 8;
      }
      b[off] = (byte) (v < 0 || b[off] < 0 ? 0xff : 0x80);
      return this;
    }

    public byte[] bytes() {
      byte[] h = b.clone();
      Arrays.fill(h, 148, 156, (byte) ' ');
      long sum = 0;
      for (byte x : h) {
        sum += signedChecksum ? x : x & 0xff;
      }
      String s = String.format("%06o", sum & 0777777);
      if (sum < 0) {
        s = String.format("%06o", sum);
      }
      byte[] cs = (s + "\0 ").getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(cs, 0, h, 148, 8);
      return h;
    }
  }

  public RawTar add(Header h, byte[] content) {
    out.writeBytes(h.bytes());
    out.writeBytes(content);
    pad(content.length);
    return this;
  }

  public RawTar add(Header h) {
    return add(h, new byte[0]);
  }

  public RawTar file(String name, String content) {
    byte[] c = content.getBytes(StandardCharsets.UTF_8);
    return add(new Header().name(name).size(c.length), c);
  }

  /** A PAX extended header ('x') or global header ('g') carrying {@code records} ("key", value bytes, ...). */
  public RawTar pax(char type, Object... records) {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (int i = 0; i < records.length; i += 2) {
      byte[] key = ((String) records[i]).getBytes(StandardCharsets.UTF_8);
      byte[] value = records[i + 1] instanceof byte[] v ? v : records[i + 1].toString().getBytes(StandardCharsets.UTF_8);
      data.writeBytes(paxRecord(key, value));
    }
    byte[] d = data.toByteArray();
    return add(new Header().name("PaxHeaders/x").type(type).size(d.length), d);
  }

  public static byte[] paxRecord(byte[] key, byte[] value) {
    int body = 1 + key.length + 1 + value.length + 1;
    int len = body + Integer.toString(body).length();
    if (Integer.toString(len).length() != Integer.toString(body).length()) {
      len++;
    }
    ByteArrayOutputStream r = new ByteArrayOutputStream();
    r.writeBytes((len + " ").getBytes(StandardCharsets.US_ASCII));
    r.writeBytes(key);
    r.write('=');
    r.writeBytes(value);
    r.write('\n');
    return r.toByteArray();
  }

  /** A GNU long name ('L') or long link ('K') header. */
  public RawTar gnuLong(char type, byte[] name) {
    byte[] d = Arrays.copyOf(name, name.length + 1);
    return add(new Header().gnu().name("././@LongLink").type(type).size(d.length), d);
  }

  public RawTar raw(byte[] bytes) {
    out.writeBytes(bytes);
    return this;
  }

  private void pad(int length) {
    int p = (512 - length % 512) % 512;
    out.writeBytes(new byte[p]);
  }

  /** The archive with its end-of-archive marker (two zero blocks). */
  public byte[] end() {
    out.writeBytes(new byte[1024]);
    return out.toByteArray();
  }

  /** The bytes so far, without an end marker. */
  public byte[] bytes() {
    return out.toByteArray();
  }
}
