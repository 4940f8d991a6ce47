package labenv.dataset;

import java.io.IOException;
import java.io.InputStream;

/**
 * Content-defined chunking with FastCDC (Xia et al., USENIX ATC 2016): a gear hash rolled over the
 * bytes, a cut where its masked bits are zero, normalised chunking (a harder mask before the
 * average size, an easier one after) so that sizes cluster around the average. Boundaries depend on
 * the content only, so an insertion moves the cuts near it and the rest of the file chunks as
 * before: that is what lets one edited row of a large CSV store only a chunk or two more.
 *
 * <p>The gear table comes from a fixed seed: the same bytes give the same chunks on every host and
 * in every version of labenv that keeps {@link #GEAR_SEED}. Changing it, or the sizes, changes
 * every dataset digest: treat them as part of the format.
 */
public final class Chunker {
  public static final int MIN_SIZE = 256 << 10;
  public static final int AVG_SIZE = 1 << 20;
  public static final int MAX_SIZE = 4 << 20;
  static final long GEAR_SEED = 0x6c6162656e764344L; // "labenvCD"

  private static final long[] GEAR = gear(GEAR_SEED);

  private final int min;
  private final int avg;
  private final int max;
  private final long maskS;
  private final long maskL;
  private byte[] buffer;

  /** The chunker every dataset uses: 256 KiB / 1 MiB / 4 MiB. */
  public static Chunker standard() {
    return new Chunker(MIN_SIZE, AVG_SIZE, MAX_SIZE);
  }

  /** {@code avg} must be a power of two with {@code min < avg < max}; smaller sizes are for tests. */
  Chunker(int min, int avg, int max) {
    if (Integer.bitCount(avg) != 1 || min <= 0 || min >= avg || avg >= max) {
      throw new IllegalArgumentException("chunk sizes " + min + "/" + avg + "/" + max);
    }
    this.min = min;
    this.avg = avg;
    this.max = max;
    int bits = Integer.numberOfTrailingZeros(avg);
    // Normalisation level 2: two more bits before the average, two fewer after. The mask takes the
    // hash's top bits, which depend on the last 64 bytes (a shift per byte), not the last few.
    this.maskS = -1L << (64 - (bits + 2));
    this.maskL = -1L << (64 - (bits - 2));
  }

  public int maxSize() {
    return max;
  }

  /**
   * The length of the chunk that starts at {@code buf[off]}, given {@code len} bytes there. Unless
   * {@code len >= max} or the input ends there ({@code eof}), the caller must not cut yet: more bytes
   * could move the boundary. With {@code eof}, the rest ({@code len} bytes) may be one chunk.
   */
  int cut(byte[] buf, int off, int len) {
    if (len <= min) {
      return len;
    }
    int n = Math.min(len, max);
    int normal = Math.min(n, avg);
    long fp = 0;
    int i = min;
    for (; i < normal; i++) {
      fp = (fp << 1) + GEAR[buf[off + i] & 0xff];
      if ((fp & maskS) == 0) {
        return i + 1;
      }
    }
    for (; i < n; i++) {
      fp = (fp << 1) + GEAR[buf[off + i] & 0xff];
      if ((fp & maskL) == 0) {
        return i + 1;
      }
    }
    return n;
  }

  /** Receives each chunk in order; the bytes are valid only during the call. */
  @FunctionalInterface
  public interface Sink {
    void chunk(byte[] buf, int off, int len) throws IOException;
  }

  /**
   * Splits {@code in} into chunks, streamed through a buffer of twice the maximum chunk size, kept
   * for the next call (a fresh 8 MiB buffer per file cost more than hashing 20,000 small files): not
   * thread-safe. An empty stream gives no chunks.
   */
  public void split(InputStream in, Sink sink) throws IOException {
    if (buffer == null) {
      buffer = new byte[2 * max];
    }
    byte[] buf = buffer;
    int start = 0;
    int end = 0;
    boolean eof = false;
    while (true) {
      while (!eof && end - start < max) {
        if (end == buf.length) {
          System.arraycopy(buf, start, buf, 0, end - start);
          end -= start;
          start = 0;
        }
        int r = in.read(buf, end, buf.length - end);
        if (r < 0) {
          eof = true;
        } else {
          end += r;
        }
      }
      if (start == end) {
        return;
      }
      int n = cut(buf, start, end - start);
      sink.chunk(buf, start, n);
      start += n;
    }
  }

  /** 256 pseudo-random 64-bit words from SplitMix64 (Steele et al. 2014): simple, fixed, portable. */
  static long[] gear(long seed) {
    long[] out = new long[256];
    long x = seed;
    for (int i = 0; i < 256; i++) {
      x += 0x9e3779b97f4a7c15L;
      long z = x;
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      out[i] = z ^ (z >>> 31);
    }
    return out;
  }
}
