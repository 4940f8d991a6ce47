package labenv.tar;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import labenv.linux.Names;

/**
 * The path of an entry in a layer, as bytes: relative, '/'-separated, no leading "./" or "/" and no
 * trailing "/" once {@link #normalize normalised}. Ordered by unsigned bytes, so a directory sorts
 * before everything below it and the order is the same on every host.
 */
public final class TarPath implements Comparable<TarPath> {
  private final byte[] bytes;

  private TarPath(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Wraps the bytes as they are (no normalisation); use for names read from an archive. */
  public static TarPath ofRaw(byte[] bytes) {
    return new TarPath(bytes.clone());
  }

  public static TarPath of(String path) {
    return new TarPath(path.getBytes(StandardCharsets.UTF_8));
  }

  /** The bytes (a copy). */
  public byte[] bytes() {
    return bytes.clone();
  }

  public int length() {
    return bytes.length;
  }

  public boolean isEmpty() {
    return bytes.length == 0;
  }

  /** {@code this/child}. */
  public TarPath resolve(byte[] child) {
    if (bytes.length == 0) {
      return new TarPath(child.clone());
    }
    byte[] out = Arrays.copyOf(bytes, bytes.length + 1 + child.length);
    out[bytes.length] = '/';
    System.arraycopy(child, 0, out, bytes.length + 1, child.length);
    return new TarPath(out);
  }

  /** The parent path, or null for a single component. */
  public TarPath parent() {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '/') {
        return new TarPath(Arrays.copyOf(bytes, i));
      }
    }
    return null;
  }

  /** The last component. */
  public byte[] fileName() {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '/') {
        return Arrays.copyOfRange(bytes, i + 1, bytes.length);
      }
    }
    return bytes.clone();
  }

  /** The components, split on '/', empty components dropped. */
  public java.util.List<byte[]> components() {
    java.util.List<byte[]> out = new java.util.ArrayList<>();
    int start = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == '/') {
        if (i > start) {
          out.add(Arrays.copyOfRange(bytes, start, i));
        }
        start = i + 1;
      }
    }
    return out;
  }

  public boolean isUtf8() {
    return Names.isUtf8(bytes);
  }

  @Override
  public int compareTo(TarPath o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TarPath p && Arrays.equals(bytes, p.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** For messages: UTF-8, with \xNN for bytes that are not. */
  @Override
  public String toString() {
    return Names.display(bytes);
  }
}
