package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import labenv.image.MediaTypes;
import org.junit.jupiter.api.Test;

class CompressionTest {
  private static final int B = ParallelGzipOutputStream.BLOCK_SIZE;

  /** Text-like, partly repetitive, partly random data: compressible, with matches across blocks. */
  static byte[] mixed(int size, long seed) {
    Random r = new Random(seed);
    byte[] out = new byte[size];
    String[] words = {"layer ", "digest ", "sha256 ", "tar ", "gzip ", "\n", "0123456789 ", "labenv "};
    int i = 0;
    while (i < size) {
      if (r.nextInt(10) == 0) {
        int n = Math.min(size - i, 1 + r.nextInt(20));
        for (int k = 0; k < n; k++) {
          out[i++] = (byte) r.nextInt(256);
        }
      } else {
        byte[] w = words[r.nextInt(words.length)].getBytes(StandardCharsets.US_ASCII);
        for (int k = 0; k < w.length && i < size; k++) {
          out[i++] = w[k];
        }
      }
    }
    return out;
  }

  static byte[] compress(Compression c, byte[] data, int threads, int chunk) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = c.compress(bytes, c.defaultLevel(), threads)) {
      for (int off = 0; off < data.length; off += chunk) {
        out.write(data, off, Math.min(chunk, data.length - off));
        if (off % (3 * chunk) == 0) {
          out.flush();
        }
      }
    }
    return bytes.toByteArray();
  }

  static byte[] gunzip(byte[] gz) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }

  @Test
  void gzipBytesDoNotDependOnThreadsChunkingOrFlushes() throws IOException {
    for (int size : new int[] {0, 1, B - 1, B, B + 1, 3 * B, 5 * B + 12345}) {
      byte[] data = mixed(size, size);
      byte[] one = compress(Compression.GZIP, data, 1, 100_000);
      assertArrayEquals(one, compress(Compression.GZIP, data, 2, 4096), "size " + size);
      assertArrayEquals(one, compress(Compression.GZIP, data, 8, 1 << 20), "size " + size);
      assertArrayEquals(data, gunzip(one), "size " + size);
    }
  }

  @Test
  void randomBlocksAreStoredAndTextBlocksDeflatedAndBothComeBack() throws IOException {
    byte[] random = new byte[3 * B];
    new Random(5).nextBytes(random);
    byte[] text = mixed(3 * B, 6);
    assertTrue(ParallelGzipOutputStream.incompressible(random, random.length));
    assertFalse(ParallelGzipOutputStream.incompressible(text, text.length));
    byte[] both = new byte[random.length + text.length];
    System.arraycopy(random, 0, both, 0, random.length);
    System.arraycopy(text, 0, both, random.length, text.length);
    byte[] gz = compress(Compression.GZIP, both, 2, 100_000);
    assertArrayEquals(both, gunzip(gz));
    // Stored: the random half costs its own size plus a few bytes per 64 KiB stored block, never more.
    byte[] gzRandom = compress(Compression.GZIP, random, 2, 100_000);
    assertTrue(gzRandom.length <= random.length + random.length / 1000 + 64, "stored size " + gzRandom.length);
    assertTrue(gz.length < random.length + text.length / 2, "text still deflated: " + gz.length);
    // And the same bytes whatever the thread count.
    assertArrayEquals(gz, compress(Compression.GZIP, both, 1, 7_000));
    assertArrayEquals(gz, compress(Compression.GZIP, both, 8, 1 << 20));
  }

  @Test
  void gzipHeaderIsFixedAndTheTrailerHoldsCrcAndLength() throws IOException {
    byte[] data = mixed(3 * B + 7, 1);
    byte[] gz = compress(Compression.GZIP, data, 2, 65536);
    assertArrayEquals(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff}, Arrays.copyOf(gz, 10));
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(data);
    int n = gz.length;
    long storedCrc = (gz[n - 8] & 0xffL) | (gz[n - 7] & 0xffL) << 8 | (gz[n - 6] & 0xffL) << 16 | (gz[n - 5] & 0xffL) << 24;
    long storedLen = (gz[n - 4] & 0xffL) | (gz[n - 3] & 0xffL) << 8 | (gz[n - 2] & 0xffL) << 16 | (gz[n - 1] & 0xffL) << 24;
    assertEquals(crc.getValue(), storedCrc);
    assertEquals(data.length, storedLen);
    assertTrue(gz.length < data.length / 2, "it compresses: " + gz.length);
  }

  @Test
  void theDictionaryCarriesMatchesAcrossBlocks() throws IOException {
    // A block followed by a copy of its own last 16 KiB: the copy costs almost nothing only if the
    // second block's compressor sees the first one's tail as its dictionary.
    byte[] first = mixed(B, 7);
    byte[] data = Arrays.copyOf(first, B + 16 * 1024);
    System.arraycopy(first, B - 16 * 1024, data, B, 16 * 1024);
    long alone = compress(Compression.GZIP, Arrays.copyOfRange(first, B - 16 * 1024, B), 1, B).length;
    long withTail = compress(Compression.GZIP, data, 2, B).length;
    long firstOnly = compress(Compression.GZIP, first, 2, B).length;
    assertTrue(alone > 2048, "16 KiB of this data alone costs " + alone + " bytes");
    assertTrue(withTail - firstOnly < 512, "the repeated 16 KiB cost " + (withTail - firstOnly) + " bytes");
  }


  @Test
  void aFailingSinkFailsTheStreamAndNoWorkerThreadSurvives() throws Exception {
    OutputStream broken = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException("disk full");
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        throw new IOException("disk full");
      }
    };
    ParallelGzipOutputStream gz = new ParallelGzipOutputStream(broken, 6, 2);
    IOException e = assertThrows(IOException.class, () -> {
      gz.write(mixed(4 * B, 3));
      gz.close();
    });
    assertEquals("disk full", e.getMessage());
    assertThrows(IOException.class, () -> gz.write(1), "a failed stream stays failed");
    Thread.sleep(200);
    // Every stream made in this class is closed by now, so no gzip worker may be left.
    assertFalse(Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().startsWith("labenv-gzip-") && t.isAlive()), "worker threads are stopped");
  }

  @Test
  void zstdBytesDoNotDependOnThreadsButDifferFromSingleThreadedMode() throws IOException {
    // Larger than several zstd jobs at level 3, so the workers really split the input.
    byte[] data = mixed(24 << 20, 11);
    byte[] one = compress(Compression.ZSTD, data, 1, 1 << 20);
    assertArrayEquals(one, compress(Compression.ZSTD, data, 2, 100_000));
    assertArrayEquals(one, compress(Compression.ZSTD, data, 8, 8192));
    try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(one))) {
      assertArrayEquals(data, in.readAllBytes());
    }
    ByteArrayOutputStream st = new ByteArrayOutputStream();
    try (ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(st, 3)) {
      z.setChecksum(true);
      z.write(data);
    }
    assertNotEquals(Arrays.hashCode(one), Arrays.hashCode(st.toByteArray()),
        "nbWorkers=0 would give other bytes: the reason at least one worker is always used");
    // Frame header descriptor: bit 2 checksum set, bits 0-1 no dictionary id, bits 6-7 + bit 5 no content size.
    int fhd = one[4] & 0xff;
    assertEquals(0x04, fhd & 0x04, "checksum flag");
    assertEquals(0, fhd & 0x03, "no dictionary id");
    assertEquals(0, fhd & 0xc0, "no content size");
  }

  @Test
  void mediaTypesAndDefaultLevels() throws IOException {
    assertEquals(MediaTypes.OCI_LAYER_GZIP, Compression.GZIP.mediaType());
    assertEquals(MediaTypes.OCI_LAYER_ZSTD, Compression.ZSTD.mediaType());
    assertEquals(MediaTypes.OCI_LAYER, Compression.NONE.mediaType());
    assertEquals(6, Compression.GZIP.defaultLevel());
    assertEquals(3, Compression.ZSTD.defaultLevel());
    byte[] data = mixed(1000, 5);
    assertArrayEquals(data, compress(Compression.NONE, data, 2, 77));
  }
}
