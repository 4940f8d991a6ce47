package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import labenv.LabenvException;
import labenv.image.Digest;
import org.junit.jupiter.api.Test;

class DigestingOutputStreamTest {
  private static long hashers() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("labenv-sha256")).count();
  }

  @Test
  void backgroundHashingGivesTheSameDigestAndBytesForAnyWriteSizes() throws IOException {
    byte[] data = new byte[3 * (1 << 20) + 12345];
    new Random(1).nextBytes(data);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    DigestingOutputStream d = DigestingOutputStream.inBackground(sink);
    Random sizes = new Random(2);
    for (int off = 0; off < data.length; ) {
      int n = Math.min(data.length - off, 1 + sizes.nextInt(300_000));
      d.write(data, off, n);
      off += n;
    }
    d.write(7);
    assertEquals(Digest.of(concat(data, (byte) 7)), d.digest());
    assertEquals(data.length + 1, d.size());
    assertEquals(data.length + 1, sink.size());
  }

  @Test
  void closingEndsTheHashingThreadAndAnAbortedDigestIsRefused() throws Exception {
    long before = hashers();
    DigestingOutputStream closed = DigestingOutputStream.inBackground(new ByteArrayOutputStream());
    closed.write(new byte[5000]);
    closed.close();
    assertEquals(Digest.of(new byte[5000]), closed.digest());
    DigestingOutputStream aborted = DigestingOutputStream.inBackground(new ByteArrayOutputStream());
    aborted.write(new byte[2 << 20]);
    aborted.abort();
    LabenvException e = assertThrows(LabenvException.class, aborted::digest);
    assertTrue(e.getMessage().contains("aborted"), e.getMessage());
    for (int i = 0; i < 50 && hashers() > before; i++) {
      Thread.sleep(20);
    }
    assertEquals(before, hashers(), "no hashing thread outlives its stream");
  }

  private static byte[] concat(byte[] a, byte b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }
}
