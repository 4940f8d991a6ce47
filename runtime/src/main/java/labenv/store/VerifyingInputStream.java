package labenv.store;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.io.ObservingInputStream;

/** Hashes what passes through and checks digest and size when the underlying stream ends. */
final class VerifyingInputStream extends ObservingInputStream {
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
  protected void observe(byte[] b, int off, int n) {
    hash.update(b, off, n);
    count += n;
  }

  @Override
  protected void end() {
    verify();
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
