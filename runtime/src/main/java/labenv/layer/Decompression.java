package labenv.layer;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import labenv.LabenvException;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * Opens a layer blob whatever its compression, recognised by its first bytes (media types lie often enough, and
 * docker-archive layers carry none). Corrupt or truncated compressed data is {@link LabenvException.Kind#BAD_INPUT};
 * a failure of the underlying stream stays an {@link IOException}, so the caller can tell a bad blob from a bad disk.
 */
public final class Decompression {
  private Decompression() {}

  /** xz's dictionary size comes from the stream: bound it, or a hostile header asks for gigabytes. */
  private static final int XZ_MEMORY_LIMIT_KIB = 256 * 1024;

  /** The compression formats a layer can come in. */
  public enum Format {
    TAR("uncompressed"), GZIP("gzip"), ZSTD("zstd"), BZIP2("bzip2"), XZ("xz");

    private final String displayName;

    Format(String displayName) {
      this.displayName = displayName;
    }

    /** For messages: "gzip", "zstd", ..., "uncompressed". */
    @Override
    public String toString() {
      return displayName;
    }
  }

  /**
   * The format whose magic number {@code head} starts with; anything else is taken for a plain tar.
   * A head that is a whole tar header with a valid checksum is a tar whatever its first bytes: a
   * file named "BZh9…" is not bzip2.
   */
  public static Format detect(byte[] head, int length) {
    if (isTarHeader(head, length)) {
      return Format.TAR;
    }
    if (startsWith(head, length, 0x1f, 0x8b)) {
      return Format.GZIP;
    }
    if (startsWith(head, length, 0x28, 0xb5, 0x2f, 0xfd)) {
      return Format.ZSTD;
    }
    if (startsWith(head, length, 'B', 'Z', 'h')) {
      return Format.BZIP2;
    }
    if (startsWith(head, length, 0xfd, '7', 'z', 'X', 'Z', 0)) {
      return Format.XZ;
    }
    return Format.TAR;
  }

  /**
   * The uncompressed bytes of {@code in}. Multi-member gzip and multi-frame zstd/xz/bzip2 streams are read to their
   * end; data after the last member that is not another member is an error.
   *
   * @throws IOException when {@code in} fails to read
   */
  public static Decompressed open(InputStream in) throws IOException {
    SourceStream source = new SourceStream(in);
    BufferedInputStream buffered = new BufferedInputStream(source, 64 * 1024);
    byte[] head = new byte[512];
    buffered.mark(head.length);
    int n = 0;
    try {
      while (n < head.length) {
        int r = buffered.read(head, n, head.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      buffered.reset();
    } catch (SourceFailure e) {
      throw e.original();
    }
    Format format = detect(head, n);
    Decompressed out = new Decompressed(format, source);
    out.decodeWith(() -> switch (format) {
      case GZIP -> GzipCompressorInputStream.builder().setInputStream(buffered).setDecompressConcatenated(true).get();
      case ZSTD -> new ZstdInputStream(buffered);
      case BZIP2 -> new BZip2CompressorInputStream(buffered, true);
      case XZ -> XZCompressorInputStream.builder().setInputStream(buffered).setDecompressConcatenated(true)
          .setMemoryLimitKiB(XZ_MEMORY_LIMIT_KIB).get();
      case TAR -> buffered;
    });
    return out;
  }

  /** A 512-byte ustar/GNU/v7 header whose checksum field matches its bytes (the field counted as spaces). */
  static boolean isTarHeader(byte[] head, int length) {
    if (length < 512) {
      return false;
    }
    long stored = 0;
    boolean digits = false;
    for (int i = 148; i < 156; i++) {
      int c = head[i] & 0xff;
      if (c >= '0' && c <= '7') {
        stored = stored * 8 + (c - '0');
        digits = true;
      } else if (c != ' ' && c != 0) {
        return false;
      } else if (digits) {
        break;
      }
    }
    if (!digits) {
      return false;
    }
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < 512; i++) {
      int b = i >= 148 && i < 156 ? ' ' : head[i];
      unsigned += b & 0xff;
      signed += i >= 148 && i < 156 ? ' ' : head[i];
    }
    return stored == unsigned || stored == signed;
  }

  private static boolean startsWith(byte[] head, int length, int... magic) {
    if (length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((head[i] & 0xff) != magic[i]) {
        return false;
      }
    }
    return true;
  }

  /** A decompressed layer: knows its format, turns decoder errors into one-line BAD_INPUT errors. */
  public static final class Decompressed extends FilterInputStream {
    private final Format format;
    private final SourceStream source;

    private Decompressed(Format format, SourceStream source) {
      super(null);
      this.format = format;
      this.source = source;
    }

    public Format format() {
      return format;
    }

    private void decodeWith(Io<InputStream> decoder) throws IOException {
      in = guard(decoder);
    }

    @Override
    public int read() throws IOException {
      return guard(() -> in.read());
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return guard(() -> in.read(b, off, len));
    }

    @Override
    public long skip(long n) throws IOException {
      return guard(() -> in.skip(n));
    }

    @Override
    public int available() throws IOException {
      return guard(() -> in.available());
    }

    @Override
    public void close() throws IOException {
      if (in != null) {
        in.close();
      } else {
        source.close();
      }
    }

    private interface Io<T> {
      T get() throws IOException;
    }

    private <T> T guard(Io<T> op) throws IOException {
      try {
        return op.get();
      } catch (SourceFailure e) {
        throw e.original();
      } catch (LabenvException e) {
        throw e;
      } catch (IOException | RuntimeException e) {
        // Decoders signal corrupt input with IOException and, for some malformed headers, runtime exceptions.
        String message = String.valueOf(e.getMessage());
        boolean truncated = e instanceof EOFException
            || message.toLowerCase(Locale.ROOT).contains("truncat")
            || message.toLowerCase(Locale.ROOT).contains("unexpected end");
        String what = truncated
            ? "truncated " + format + " stream (input ends after " + source.count + " bytes)"
            : "corrupt " + format + " stream near input byte " + source.count + ": " + message;
        throw new LabenvException(LabenvException.Kind.BAD_INPUT, what, e);
      }
    }
  }

  /** Marks a failure of the underlying stream, so it is not mistaken for corrupt data by the decoder's caller. */
  private static final class SourceFailure extends IOException {
    private static final long serialVersionUID = 1L;

    SourceFailure(IOException cause) {
      super(cause.getMessage(), cause);
    }

    IOException original() {
      return (IOException) getCause();
    }
  }

  /** Counts bytes read from the source, for messages, and marks its failures. */
  private static final class SourceStream extends FilterInputStream {
    private long count;

    SourceStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        int b = in.read();
        if (b >= 0) {
          count++;
        }
        return b;
      } catch (IOException e) {
        throw new SourceFailure(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        int n = in.read(b, off, len);
        if (n > 0) {
          count += n;
        }
        return n;
      } catch (IOException e) {
        throw new SourceFailure(e);
      }
    }

    @Override
    public long skip(long n) throws IOException {
      try {
        long s = in.skip(n);
        count += Math.max(0, s);
        return s;
      } catch (IOException e) {
        throw new SourceFailure(e);
      }
    }

    @Override
    public int available() throws IOException {
      try {
        return in.available();
      } catch (IOException e) {
        throw new SourceFailure(e);
      }
    }
  }
}
