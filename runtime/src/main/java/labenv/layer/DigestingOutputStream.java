package labenv.layer;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import labenv.image.Digest;

/**
 * Passes bytes through while counting them and computing their sha256 (the JDK's SHA-256 uses
 * the CPU's SHA instructions where there are some). {@link #close()} closes the underlying stream.
 */
public final class DigestingOutputStream extends FilterOutputStream {
  private final MessageDigest sha256 = Digest.newSha256();
  private long size;
  private Digest digest;

  public DigestingOutputStream(OutputStream out) {
    super(out);
  }

  @Override
  public void write(int b) throws IOException {
    sha256.update((byte) b);
    size++;
    out.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    sha256.update(b, off, len);
    size += len;
    out.write(b, off, len);
  }

  /** Bytes written so far. */
  public long size() {
    return size;
  }

  /** The sha256 of everything written; ends the digest, so call it once all bytes are in. */
  public Digest digest() {
    if (digest == null) {
      digest = Digest.sha256(sha256.digest());
    }
    return digest;
  }
}
