package labenv.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import labenv.LabenvException;
import labenv.image.Digest;

/** Hashes what passes through and checks digest and size when the underlying stream ends. */
final class VerifyingInputStream extends FilterInputStream {
  private final Digest expected;
  private final long expectedSize;
  private final MessageDigest hash;
  private long count;
  private boolean verified;

  VerifyingInputStream(InputStream in, Digest expected, long expectedSize) {
    super(in);
    this.expected = expected;
    this.expectedSize = expectedSize;
    this.hash = newHash(expected.algorithm());
  }

  static MessageDigest newHash(String algorithm) {
    try {
      return MessageDigest.getInstance(switch (algorithm) {
        case "sha256" -> "SHA-256";
        case "sha512" -> "SHA-512";
        default -> throw LabenvException.badInput("unsupported digest algorithm " + algorithm);
      });
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b < 0) {
      verify();
    } else {
      hash.update((byte) b);
      count++;
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n < 0) {
      verify();
    } else {
      hash.update(b, off, n);
      count += n;
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    // Skipped bytes must be hashed too.
    byte[] buf = new byte[(int) Math.min(n, 8192)];
    long skipped = 0;
    while (skipped < n) {
      int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
      if (r < 0) {
        break;
      }
      skipped += r;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readlimit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }

  private void verify() {
    if (verified) {
      return;
    }
    verified = true;
    Digest actual = new Digest(expected.algorithm(), java.util.HexFormat.of().formatHex(hash.digest()));
    if (!actual.equals(expected)) {
      throw new DigestMismatchException(LabenvException.Kind.FAILED, expected, actual);
    }
    if (expectedSize >= 0 && count != expectedSize) {
      throw new SizeMismatchException(LabenvException.Kind.FAILED, expected, expectedSize, count + " bytes");
    }
  }
}
