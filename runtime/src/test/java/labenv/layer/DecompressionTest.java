package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import labenv.LabenvException;
import labenv.tar.TarReader;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;

class DecompressionTest {
  private interface Compressor {
    OutputStream wrap(OutputStream out) throws IOException;
  }

  private static byte[] compress(Compressor c, byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = c.wrap(bytes)) {
      out.write(data);
    }
    return bytes.toByteArray();
  }

  /** Compressible but not trivial: a tar-like mix of text and noise. */
  private static byte[] sample(int size) {
    byte[] b = new byte[size];
    Random r = new Random(42);
    for (int i = 0; i < size; i++) {
      b[i] = (byte) (i % 7 == 0 ? r.nextInt() : 'a' + i % 13);
    }
    return b;
  }

  private static byte[] readAll(byte[] compressed) throws IOException {
    try (InputStream in = Decompression.open(new ByteArrayInputStream(compressed))) {
      return in.readAllBytes();
    }
  }

  private static LabenvException fails(byte[] compressed) {
    LabenvException e = assertThrows(LabenvException.class, () -> readAll(compressed));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertFalse(e.getMessage().contains("\n"));
    return e;
  }

  @Test
  void detectsEachFormatByItsMagicAndDecodesIt() throws IOException {
    byte[] data = sample(300_000);
    Object[][] cases = {
        {Decompression.Format.GZIP, (Compressor) GZIPOutputStream::new},
        {Decompression.Format.ZSTD, (Compressor) ZstdOutputStream::new},
        {Decompression.Format.BZIP2, (Compressor) BZip2CompressorOutputStream::new},
        {Decompression.Format.XZ, (Compressor) XZCompressorOutputStream::new},
        {Decompression.Format.TAR, (Compressor) out -> out},
    };
    for (Object[] c : cases) {
      byte[] compressed = compress((Compressor) c[1], data);
      try (Decompression.Decompressed in = Decompression.open(new ByteArrayInputStream(compressed))) {
        assertEquals(c[0], in.format());
        assertArrayEquals(data, in.readAllBytes(), c[0].toString());
      }
    }
  }

  @Test
  void readsEveryMemberOfAMultiMemberGzip() throws IOException {
    byte[] a = sample(70_000);
    byte[] b = "second member".getBytes();
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.writeBytes(compress(GZIPOutputStream::new, a));
    both.writeBytes(compress(GZIPOutputStream::new, b));
    // A stream that hands out a few bytes at a time and never says more is available: the JDK's own
    // GZIPInputStream stops after the first member on such streams.
    InputStream trickle = new ByteArrayInputStream(both.toByteArray()) {
      @Override
      public synchronized int read(byte[] buf, int off, int len) {
        return super.read(buf, off, Math.min(len, 7));
      }

      @Override
      public synchronized int available() {
        return 0;
      }
    };
    byte[] expected = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, expected, a.length, b.length);
    try (InputStream in = Decompression.open(trickle)) {
      assertArrayEquals(expected, in.readAllBytes());
    }
  }

  @Test
  void truncatedStreamsAreBadInput() throws IOException {
    byte[] data = sample(200_000);
    Compressor[] compressors = {GZIPOutputStream::new, ZstdOutputStream::new, BZip2CompressorOutputStream::new,
        XZCompressorOutputStream::new};
    String[] names = {"gzip", "zstd", "bzip2", "xz"};
    for (int i = 0; i < compressors.length; i++) {
      byte[] compressed = compress(compressors[i], data);
      LabenvException e = fails(Arrays.copyOf(compressed, compressed.length / 2));
      assertTrue(e.getMessage().startsWith("truncated " + names[i] + " stream"), e.getMessage());
      // Cut right before the end: the last block or the trailer (gzip CRC and size, zstd checksum) is missing.
      LabenvException late = fails(Arrays.copyOf(compressed, compressed.length - 3));
      assertTrue(late.getMessage().contains(names[i]), late.getMessage());
    }
  }

  @Test
  void corruptAndTrailingGarbageAreBadInput() throws IOException {
    byte[] compressed = compress(GZIPOutputStream::new, sample(100_000));
    byte[] flipped = compressed.clone();
    flipped[flipped.length / 2] ^= 0x55;
    assertTrue(fails(flipped).getMessage().startsWith("corrupt gzip stream near input byte"));

    byte[] badCrc = compressed.clone();
    badCrc[badCrc.length - 6] ^= 1;
    assertTrue(fails(badCrc).getMessage().startsWith("corrupt gzip stream"));

    byte[] trailing = Arrays.copyOf(compressed, compressed.length + 5);
    trailing[compressed.length] = 'j';
    assertTrue(fails(trailing).getMessage().startsWith("corrupt gzip stream"));
  }

  @Test
  void anXzStreamAskingForAHugeDictionaryIsRefused() throws IOException {
    byte[] xz = compress(out -> new org.tukaani.xz.XZOutputStream(out, new org.tukaani.xz.LZMA2Options(0)),
        sample(1000));
    // The block header follows the 12-byte stream header: size, flags, filter id 0x21 (LZMA2), 1 property byte
    // (the dictionary size), padding, CRC32. Ask for a 1 GiB dictionary and fix the CRC.
    int size = ((xz[12] & 0xff) + 1) * 4;
    assertEquals(0x21, xz[14]);
    xz[16] = 36; // (2 | 36 & 1) << (36 / 2 + 11) = 1 GiB
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(xz, 12, size - 4);
    long v = crc.getValue();
    for (int i = 0; i < 4; i++) {
      xz[12 + size - 4 + i] = (byte) (v >>> (8 * i));
    }
    LabenvException e = fails(xz);
    assertTrue(e.getMessage().startsWith("corrupt xz stream") && e.getMessage().contains("memory"), e.getMessage());
  }

  @Test
  void failuresOfTheSourceStayIoErrors() {
    byte[] compressed;
    try {
      compressed = compress(GZIPOutputStream::new, sample(100_000));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    InputStream failing = new InputStream() {
      private int served;

      @Override
      public int read() throws IOException {
        throw new IOException("disk on fire");
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (served > 2000) {
          throw new IOException("disk on fire");
        }
        int n = Math.min(len, 1000);
        System.arraycopy(compressed, served, b, off, n);
        served += n;
        return n;
      }
    };
    IOException e = assertThrows(IOException.class, () -> {
      try (InputStream in = Decompression.open(failing)) {
        in.readAllBytes();
      }
    });
    assertEquals("disk on fire", e.getMessage());
  }

  @Test
  void aTruncatedGzippedTarIsOneCleanError() throws IOException {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(tar)) {
      var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("data.bin");
      byte[] data = sample(500_000);
      e.setSize(data.length);
      out.putArchiveEntry(e);
      out.write(data);
      out.closeArchiveEntry();
    }
    byte[] gz = compress(GZIPOutputStream::new, tar.toByteArray());
    TarReader reader = new TarReader(Decompression.open(new ByteArrayInputStream(Arrays.copyOf(gz, gz.length / 2))));
    LabenvException e = assertThrows(LabenvException.class, () -> {
      while (reader.next() != null) {
        reader.content().readAllBytes();
      }
    });
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith("truncated gzip stream (input ends after "), e.getMessage());
    assertInstanceOf(LabenvException.class, e);
  }
}
