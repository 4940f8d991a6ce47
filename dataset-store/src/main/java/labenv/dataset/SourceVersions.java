package labenv.dataset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import labenv.build.StatCache;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.MediaTypes;
import labenv.store.AtomicFile;

/**
 * The version a source directory gave, by what its scan saw ({@code statcache/sources/<hex>}): every
 * entry's path, type, mode and target, and every file's stat-cache key (device, inode, size, mtime,
 * ctime). When nothing of that changed, re-adding the directory reads no file and writes nothing: it
 * is the stat cache's trust, applied to the whole tree at once. Remembered only when every file was
 * older than a second when its add began (the stat cache's rule against racily clean files).
 */
final class SourceVersions {
  private static final long RACY_NANOS = 1_000_000_000L;

  private final Path dir;

  SourceVersions(Path dir) {
    this.dir = dir;
  }

  static byte[] key(List<SourceScan.Entry> entries) {
    MessageDigest md = Digest.newSha256();
    DatasetConfig.Chunking c = DatasetConfig.Chunking.standard();
    md.update(("labenv-source-v1\0" + c.algorithm() + "/" + c.min() + "/" + c.avg() + "/" + c.max() + "/" + c.gearSeed()
        + "/" + Packer.PACK_LIMIT + "\0").getBytes(StandardCharsets.UTF_8));
    ByteBuffer b = ByteBuffer.allocate(64);
    for (SourceScan.Entry e : entries) {
      md.update(e.rel().getBytes(StandardCharsets.UTF_8));
      b.clear();
      b.put((byte) 0).put((byte) e.type().ordinal()).putInt(e.mode()).putLong(e.size());
      StatCache.Key k = e.key();
      if (k != null) {
        b.putInt(k.devMajor()).putInt(k.devMinor()).putLong(k.ino()).putLong(k.mtimeSec()).putInt(k.mtimeNsec())
            .putLong(k.ctimeSec()).putInt(k.ctimeNsec());
      }
      md.update(b.array(), 0, b.position());
      if (e.target() != null) {
        md.update(e.target().getBytes(StandardCharsets.UTF_8));
      }
      md.update((byte) 0);
    }
    return md.digest();
  }

  /** True when every file of {@code entries} was changed more than a second before {@code startNanos}. */
  static boolean settled(List<SourceScan.Entry> entries, long startNanos) {
    for (SourceScan.Entry e : entries) {
      StatCache.Key k = e.key();
      if (k != null && k.ctimeSec() * 1_000_000_000L + k.ctimeNsec() > startNanos - RACY_NANOS) {
        return false;
      }
    }
    return true;
  }

  /** The version remembered for {@code key}, or null. */
  Descriptor get(byte[] key) {
    try {
      String[] s = Files.readString(dir.resolve(HexFormat.of().formatHex(key))).trim().split(" ");
      if (s.length != 2) {
        return null;
      }
      return new Descriptor(MediaTypes.OCI_MANIFEST, Digest.parse(s[0]), Long.parseLong(s[1]), null, null, null,
          DatasetFormat.ARTIFACT_TYPE);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Remembers {@code version} for {@code key}; failing to is not an error. */
  void put(byte[] key, Descriptor version) {
    try {
      Files.createDirectories(dir);
      AtomicFile.write(dir.resolve(HexFormat.of().formatHex(key)),
          (version.digest() + " " + version.size() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      // only a cache
    }
  }
}
