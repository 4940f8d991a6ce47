package labenv.tar;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Where the stored data of a GNU sparse entry lands in the file: segment i holds {@code lengths[i]} bytes at
 * {@code offsets[i]}; everything else up to {@code realSize} is a hole (zeros).
 */
record SparseMap(long[] offsets, long[] lengths, long realSize) {

  /** Checks that the segments are ordered, apart and inside the file, and hold exactly {@code storedSize} bytes. */
  void validate(long storedSize) {
    long end = 0;
    long sum = 0;
    if (realSize < 0) {
      throw new IllegalArgumentException("negative sparse file size " + realSize);
    }
    for (int i = 0; i < offsets.length; i++) {
      long off = offsets[i];
      long len = lengths[i];
      if (off < 0 || len < 0 || off < end || len > realSize - off) {
        throw new IllegalArgumentException("sparse segment " + i + " (offset " + off + ", length " + len
            + ") overlaps or lies outside the file of " + realSize + " bytes");
      }
      end = off + len;
      sum += len;
    }
    if (sum != storedSize) {
      throw new IllegalArgumentException("sparse map holds " + sum + " bytes but the entry stores " + storedSize);
    }
  }

  /** The file's bytes: zeros for holes, {@code data} (the stored segments, back to back) for the rest. */
  InputStream expand(InputStream data) {
    return new InputStream() {
      private long pos;
      private int segment;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        while (segment < offsets.length && pos >= offsets[segment] + lengths[segment]) {
          segment++;
        }
        if (pos >= realSize) {
          return -1;
        }
        long holeEnd = segment < offsets.length ? offsets[segment] : realSize;
        if (pos < holeEnd) {
          int n = (int) Math.min(len, holeEnd - pos);
          Arrays.fill(b, off, off + n, (byte) 0);
          pos += n;
          return n;
        }
        long segEnd = offsets[segment] + lengths[segment];
        int n = data.read(b, off, (int) Math.min(len, segEnd - pos));
        if (n < 0) {
          throw new IllegalStateException("sparse data ended early");
        }
        pos += n;
        return n;
      }
    };
  }
}
