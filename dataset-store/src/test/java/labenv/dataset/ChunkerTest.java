package labenv.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import labenv.image.Digest;
import org.junit.jupiter.api.Test;

class ChunkerTest {
  private static final Chunker STANDARD = Chunker.standard();

  record Piece(long offset, int size, Digest digest) {}

  static List<Piece> chunks(Chunker c, InputStream in) throws IOException {
    List<Piece> out = new ArrayList<>();
    long[] offset = {0};
    c.split(in, (buf, off, len) -> {
      byte[] copy = java.util.Arrays.copyOfRange(buf, off, off + len);
      out.add(new Piece(offset[0], len, Digest.of(copy)));
      offset[0] += len;
    });
    return out;
  }

  static byte[] random(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Reads at most {@code step} bytes at a time, as a pipe or a slow disk would. */
  static InputStream trickle(byte[] data, int step) {
    return new FilterInputStream(new ByteArrayInputStream(data)) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return super.read(b, off, Math.min(len, step));
      }
    };
  }

  @Test
  void theGearTableIsFixed() {
    // Part of the format: a different table gives different digests for every dataset.
    long[] gear = Chunker.gear(Chunker.GEAR_SEED);
    assertEquals(256, gear.length);
    assertArrayEquals(gear, Chunker.gear(Chunker.GEAR_SEED));
    assertEquals(256, java.util.Arrays.stream(gear).distinct().count());
  }

  @Test
  void boundariesArePinned() throws IOException {
    // java.util.Random's sequence is specified, so these are the cuts on every host; if they change, every
    // dataset digest changes with them.
    List<Integer> sizes = chunks(STANDARD, new ByteArrayInputStream(random(42, 12 << 20))).stream()
        .map(Piece::size).toList();
    assertEquals(List.of(1072352, 1088574, 1063549, 1144802, 1101615, 1297860, 1518094, 1415469, 353148, 1052889,
        1295920, 178640), sizes);
  }

  @Test
  void boundariesAreDeterministicAndIndependentOfReadSizes() throws IOException {
    byte[] data = random(1, 24 << 20);
    List<Piece> a = chunks(STANDARD, new ByteArrayInputStream(data));
    List<Piece> b = chunks(STANDARD, trickle(data, 4093));
    assertEquals(a, b);
    assertTrue(a.size() > 8, "24 MiB of random data in " + a.size() + " chunks");
  }

  @Test
  void sizesStayWithinBoundsAndCoverTheInput() throws IOException {
    byte[] data = random(2, 40 << 20);
    List<Piece> pieces = chunks(STANDARD, new ByteArrayInputStream(data));
    long total = 0;
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      assertEquals(total, p.offset());
      total += p.size();
      assertTrue(p.size() <= Chunker.MAX_SIZE, "chunk " + i + ": " + p.size());
      if (i < pieces.size() - 1) {
        assertTrue(p.size() >= Chunker.MIN_SIZE, "chunk " + i + ": " + p.size());
      }
    }
    assertEquals(data.length, total);
    double mean = (double) total / pieces.size();
    // Normalised chunking keeps the mean near the target (min + about avg in practice).
    assertTrue(mean > 0.75 * Chunker.AVG_SIZE && mean < 2.0 * Chunker.AVG_SIZE, "mean " + mean);
  }

  @Test
  void zeroesCutAtTheMaximum() throws IOException {
    // No content, no boundaries: a run of zeroes is cut at the maximum, and such chunks dedup.
    List<Piece> pieces = chunks(STANDARD, new ByteArrayInputStream(new byte[10 << 20]));
    assertEquals(List.of(Chunker.MAX_SIZE, Chunker.MAX_SIZE, 2 << 20), pieces.stream().map(Piece::size).toList());
    assertEquals(pieces.get(0).digest(), pieces.get(1).digest());
  }

  @Test
  void anInsertionNearTheStartChangesOnlyAFewChunks() throws IOException {
    byte[] data = random(3, 64 << 20);
    byte[] edited = new byte[data.length + 100];
    int at = 300_000;
    System.arraycopy(data, 0, edited, 0, at);
    System.arraycopy(random(4, 100), 0, edited, at, 100);
    System.arraycopy(data, at, edited, at + 100, data.length - at);
    List<Piece> before = chunks(STANDARD, new ByteArrayInputStream(data));
    List<Piece> after = chunks(STANDARD, new ByteArrayInputStream(edited));
    Set<Digest> old = new HashSet<>();
    before.forEach(p -> old.add(p.digest()));
    long newChunks = after.stream().filter(p -> !old.contains(p.digest())).count();
    assertTrue(newChunks >= 1 && newChunks <= 2, newChunks + " of " + after.size() + " chunks changed");
    assertTrue(before.size() > 30);
  }

  @Test
  void emptyAndTinyInputs() throws IOException {
    assertEquals(List.of(), chunks(STANDARD, new ByteArrayInputStream(new byte[0])));
    List<Piece> one = chunks(STANDARD, new ByteArrayInputStream(new byte[] {42}));
    assertEquals(1, one.size());
    assertEquals(Digest.of(new byte[] {42}), one.get(0).digest());
    byte[] small = random(5, Chunker.MIN_SIZE);
    List<Piece> minimum = chunks(STANDARD, new ByteArrayInputStream(small));
    assertEquals(List.of(new Piece(0, small.length, Digest.of(small))), minimum);
  }
}
