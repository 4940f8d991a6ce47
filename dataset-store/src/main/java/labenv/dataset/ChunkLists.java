package labenv.dataset;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import labenv.image.Digest;
import labenv.store.ChecksummedFile;

/**
 * The chunks of a file by the sha256 of its content ({@code statcache/chunks/<hex>}), so that a file
 * the stat cache knows needs no reading at all, and the pieces of packed small files by the sha256
 * of their sequence ({@code statcache/chunks/pack-<hex>}; see {@link Packer}). Chunking is a function
 * of the content, so an entry is never stale; one that does not parse, or whose chunks do not add
 * up, is ignored (it is only a cache). Files of one chunk need no entry: the chunk is the file.
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
      byte[] data = ChecksummedFile.read(dir.resolve(HexFormat.of().formatHex(sha256)));
      int body = data == null ? -1 : data.length;
      if (body < 4 || (body - 4) % 40 != 0) {
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
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Remembers {@code chunks} for the content {@code sha256}; failing to is not an error. */
  void put(byte[] sha256, long size, List<Chunk> chunks) {
    if (size <= Chunker.MIN_SIZE) {
      return;
    }
    ByteBuffer b = ByteBuffer.allocate(4 + 40 * chunks.size());
    b.putInt(chunks.size());
    for (Chunk c : chunks) {
      b.put(HexFormat.of().parseHex(c.digest().hex()));
      b.putLong(c.size());
    }
    ChecksummedFile.write(dir.resolve(HexFormat.of().formatHex(sha256)), b.array(), b.position());
  }

  /** The pieces of packed files and the chunks they are in (with their sizes). */
  record Pack(List<List<Chunk>> files, java.util.Map<Digest, Long> chunks) {}

  /** The key of a sequence of packed files: their contents' sha256 and sizes, in order. */
  static byte[] packKey(List<byte[]> sha256s, List<Long> sizes) {
    MessageDigest md = Digest.newSha256();
    md.update("labenv-pack-v1\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    ByteBuffer b = ByteBuffer.allocate(8);
    for (int i = 0; i < sha256s.size(); i++) {
      md.update(sha256s.get(i));
      b.clear();
      md.update(b.putLong(sizes.get(i)).array());
    }
    return md.digest();
  }

  /** The pieces of the packed files of {@code key}, whose sizes are {@code sizes}, or null when unknown. */
  Pack getPack(byte[] key, List<Long> sizes) {
    try {
      byte[] data = ChecksummedFile.read(dir.resolve("pack-" + HexFormat.of().formatHex(key)));
      if (data == null || data.length < 8) {
        return null;
      }
      ByteBuffer b = ByteBuffer.wrap(data);
      int n = b.getInt();
      if (n != sizes.size()) {
        return null;
      }
      List<List<Chunk>> files = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        int pieces = b.getInt();
        if (pieces <= 0 || pieces > 64) {
          return null;
        }
        List<Chunk> out = new ArrayList<>(pieces);
        long sum = 0;
        for (int j = 0; j < pieces; j++) {
          byte[] d = new byte[32];
          b.get(d);
          long offset = b.getLong();
          long size = b.getLong();
          out.add(new Chunk(Digest.sha256(d), size, offset));
          sum += size;
        }
        if (sum != sizes.get(i)) {
          return null;
        }
        files.add(out);
      }
      int m = b.getInt();
      java.util.Map<Digest, Long> chunks = new java.util.LinkedHashMap<>();
      for (int i = 0; i < m; i++) {
        byte[] d = new byte[32];
        b.get(d);
        chunks.put(Digest.sha256(d), b.getLong());
      }
      if (b.hasRemaining()) {
        return null;
      }
      for (List<Chunk> f : files) {
        for (Chunk c : f) {
          Long size = chunks.get(c.digest());
          if (size == null || c.start() + c.size() > size) {
            return null;
          }
        }
      }
      return new Pack(files, chunks);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Remembers {@code pack} for {@code key}; failing to is not an error. */
  void putPack(byte[] key, Pack pack) {
    int pieces = pack.files().stream().mapToInt(List::size).sum();
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * pack.files().size() + 48 * pieces + 4 + 40 * pack.chunks().size());
    b.putInt(pack.files().size());
    for (List<Chunk> f : pack.files()) {
      b.putInt(f.size());
      for (Chunk c : f) {
        b.put(HexFormat.of().parseHex(c.digest().hex()));
        b.putLong(c.start());
        b.putLong(c.size());
      }
    }
    b.putInt(pack.chunks().size());
    pack.chunks().forEach((d, size) -> {
      b.put(HexFormat.of().parseHex(d.hex()));
      b.putLong(size);
    });
    ChecksummedFile.write(dir.resolve("pack-" + HexFormat.of().formatHex(key)), b.array(), b.position());
  }
}
