package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;

class ReadAheadTest {
  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(7).nextBytes(b);
    return b;
  }

  /** Serves {@code data}, then fails with {@code failure}. */
  private static InputStream failingAfter(byte[] data, Exception failure) {
    return new ByteArrayInputStream(data) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        int n = super.read(b, off, Math.min(len, 1000));
        if (n < 0) {
          sneaky(failure);
        }
        return n;
      }
    };
  }

  @SuppressWarnings("unchecked")
  private static <E extends Exception> void sneaky(Exception e) throws E {
    throw (E) e;
  }

  @Test
  void deliversTheSameBytes() throws IOException {
    byte[] data = random(5_000_000);
    try (ReadAhead in = new ReadAhead(new ByteArrayInputStream(data), "t")) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[777];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
      }
      assertEquals(-1, in.read());
      assertArrayEquals(data, out.toByteArray());
    }
  }

  @Test
  void failuresArriveAfterTheBytesBeforeThem() throws IOException {
    byte[] data = random(3_500_000);
    IOException failure = new IOException("disk on fire");
    try (ReadAhead in = new ReadAhead(failingAfter(data, failure), "t")) {
      byte[] got = new byte[data.length + 100];
      int total = 0;
      IOException thrown = null;
      try {
        int n;
        while ((n = in.read(got, total, Math.min(4096, got.length - total))) > 0) {
          total += n;
        }
      } catch (IOException e) {
        thrown = e;
      }
      assertSame(failure, thrown);
      assertEquals(data.length, total);
      assertArrayEquals(data, Arrays.copyOf(got, total));
    }
    LabenvException bad = LabenvException.badInput("corrupt gzip stream");
    try (ReadAhead in = new ReadAhead(failingAfter(new byte[10], bad), "t")) {
      assertSame(bad, assertThrows(LabenvException.class, in::readAllBytes));
    }
  }

  @Test
  void closingStopsTheThread() throws IOException {
    InputStream endless = new InputStream() {
      @Override
      public int read() {
        return 1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        Arrays.fill(b, off, off + len, (byte) 1);
        return len;
      }
    };
    ReadAhead in = new ReadAhead(endless, "endless");
    in.read(new byte[10]);
    in.close();
    boolean alive = Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("labenv-read-ahead endless") && t.isAlive());
    assertFalse(alive, "the read-ahead thread ended");
  }
}
