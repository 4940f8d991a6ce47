package labenv.dataset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import labenv.image.Digest;
import labenv.store.AtomicFile;

/**
 * The chunks of a file by the sha256 of its content ({@code statcache/chunks/<hex>}), so that a file
 * the stat cache knows needs no reading at all. Chunking is a function of the content, so an entry
 * is never stale; a file that does not parse, or whose chunks do not add up, is ignored (it is only a
 * cache). Files of one chunk need no entry: the chunk is the file.
 */
final class ChunkLists {
  private final Path dir;

  ChunkLists(Path dir) {
    this.dir = dir;
  }

  /** The chunks of a file with this content and size, or null when unknown. */
  List<Chunk> get(byte[] sha256, long size) {
    if (size == 0) {
      return List.of();
    }
    if (size <= Chunker.MIN_SIZE) {
      return List.of(new Chunk(Digest.sha256(sha256), size));
    }
    try {
      byte[] data = Files.readAllBytes(dir.resolve(HexFormat.of().formatHex(sha256)));
      int body = data.length - 32;
      if (body < 4 || (body - 4) % 40 != 0) {
        return null;
      }
      MessageDigest check = Digest.newSha256();
      check.update(data, 0, body);
      if (!MessageDigest.isEqual(check.digest(), Arrays.copyOfRange(data, body, data.length))) {
        return null;
      }
      ByteBuffer b = ByteBuffer.wrap(data, 0, body);
      int n = b.getInt();
      if (n != (body - 4) / 40) {
        return null;
      }
      List<Chunk> out = new ArrayList<>(n);
      long sum = 0;
      for (int i = 0; i < n; i++) {
        byte[] d = new byte[32];
        b.get(d);
        long s = b.getLong();
        out.add(new Chunk(Digest.sha256(d), s));
        sum += s;
      }
      return sum == size ? out : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Remembers {@code chunks} for the content {@code sha256}; failing to is not an error. */
  void put(byte[] sha256, long size, List<Chunk> chunks) {
    if (size <= Chunker.MIN_SIZE) {
      return;
    }
    ByteBuffer b = ByteBuffer.allocate(4 + 40 * chunks.size() + 32);
    b.putInt(chunks.size());
    for (Chunk c : chunks) {
      b.put(HexFormat.of().parseHex(c.digest().hex()));
      b.putLong(c.size());
    }
    MessageDigest check = Digest.newSha256();
    check.update(b.array(), 0, b.position());
    b.put(check.digest());
    try {
      Files.createDirectories(dir);
      AtomicFile.write(dir.resolve(HexFormat.of().formatHex(sha256)), b.array());
    } catch (IOException | RuntimeException e) {
      // only a cache
    }
  }
}
