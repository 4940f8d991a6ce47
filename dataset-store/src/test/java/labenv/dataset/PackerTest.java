package labenv.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import labenv.image.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackerTest {
  /** Small sizes, so that a few hundred files of up to 2 KiB make many chunks. */
  private static final Chunker SMALL = new Chunker(2048, 8192, 32768);

  private record Packed(List<List<Chunk>> files, Map<Digest, byte[]> blobs) {}

  private static List<byte[]> files(long seed, int count) {
    Random r = new Random(seed);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] b = new byte[1 + r.nextInt(2048)];
      r.nextBytes(b);
      out.add(b);
    }
    return out;
  }

  private static Packed pack(List<byte[]> files, boolean inPieces) {
    Map<Digest, byte[]> blobs = new HashMap<>();
    Packer p = new Packer(SMALL, (buf, off, len) -> {
      byte[] copy = java.util.Arrays.copyOfRange(buf, off, off + len);
      Digest d = Digest.of(copy);
      blobs.put(d, copy);
      return d;
    });
    List<List<Chunk>> pieces = new ArrayList<>();
    for (byte[] f : files) {
      int slot = pieces.size();
      pieces.add(null);
      p.file(f.length, c -> pieces.set(slot, c));
      if (inPieces && f.length > 3) {
        p.write(f, 0, 3);
        p.write(f, 3, f.length - 3);
      } else {
        p.write(f, 0, f.length);
      }
    }
    p.finish();
    assertEquals(blobs.keySet(), p.chunks().keySet());
    return new Packed(pieces, blobs);
  }

  private static byte[] read(List<Chunk> pieces, Map<Digest, byte[]> blobs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Chunk c : pieces) {
      byte[] blob = blobs.get(c.digest());
      assertTrue(c.start() + c.size() <= blob.length, c::toString);
      out.write(blob, (int) c.start(), (int) c.size());
    }
    return out.toByteArray();
  }

  @Test
  void everyFileIsItsPiecesAndSomeSpanACut() {
    List<byte[]> files = files(1, 400);
    Packed packed = pack(files, true);
    int spanning = 0;
    for (int i = 0; i < files.size(); i++) {
      assertNotNull(packed.files().get(i), "file " + i + " got its pieces");
      assertArrayEquals(files.get(i), read(packed.files().get(i), packed.blobs()), "file " + i);
      spanning += packed.files().get(i).size() > 1 ? 1 : 0;
    }
    assertTrue(packed.blobs().size() > 10, "400 files of up to 2 KiB over 8 KiB chunks: " + packed.blobs().size());
    assertTrue(spanning > 0, "a cut falls inside some file");
    // The stream is the files in order: the same bytes chunked as one file give the same chunks.
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    files.forEach(all::writeBytes);
    Set<Digest> whole = new HashSet<>();
    try {
      SMALL.split(new java.io.ByteArrayInputStream(all.toByteArray()), (b, o, l) ->
          whole.add(Digest.of(java.util.Arrays.copyOfRange(b, o, o + l))));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    assertEquals(whole, packed.blobs().keySet());
  }

  @Test
  void anEditedFileChangesOnlyTheChunksAroundIt() {
    List<byte[]> files = files(2, 400);
    Packed before = pack(files, false);
    files.get(200)[5] ^= 1;
    Packed after = pack(files, false);
    Set<Digest> added = new HashSet<>(after.blobs().keySet());
    added.removeAll(before.blobs().keySet());
    assertTrue(added.size() >= 1 && added.size() <= 3, "new chunks: " + added.size() + " of " + after.blobs().size());
    for (int i = 0; i < files.size(); i++) {
      assertArrayEquals(files.get(i), read(after.files().get(i), after.blobs()));
    }
  }

  @Test
  void thePackCacheRoundTripsAndIgnoresWhatDoesNotAddUp(@TempDir Path dir) throws Exception {
    List<byte[]> files = files(3, 50);
    Packed packed = pack(files, false);
    List<byte[]> shas = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    for (byte[] f : files) {
      shas.add(java.security.MessageDigest.getInstance("SHA-256").digest(f));
      sizes.add((long) f.length);
    }
    Map<Digest, Long> chunks = new java.util.LinkedHashMap<>();
    packed.blobs().forEach((d, b) -> chunks.put(d, (long) b.length));
    ChunkLists lists = new ChunkLists(dir);
    byte[] key = ChunkLists.packKey(shas, sizes);
    assertNull(lists.getPack(key, sizes));
    lists.putPack(key, new ChunkLists.Pack(packed.files(), chunks));
    ChunkLists.Pack back = lists.getPack(key, sizes);
    assertNotNull(back);
    assertEquals(packed.files(), back.files());
    assertEquals(chunks, back.chunks());

    List<Long> otherSizes = new ArrayList<>(sizes);
    otherSizes.set(0, sizes.get(0) + 1);
    assertNull(lists.getPack(key, otherSizes), "pieces that do not add up to a file's size");
    Path file;
    try (var s = Files.list(dir)) {
      file = s.filter(p -> p.getFileName().toString().startsWith("pack-")).findFirst().orElseThrow();
    }
    byte[] data = Files.readAllBytes(file);
    data[10] ^= 1;
    Files.write(file, data);
    assertNull(lists.getPack(key, sizes), "a corrupt entry is ignored");
  }
}
