package labenv.dataset;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import labenv.build.StatCache;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.MediaTypes;
import labenv.store.ChecksummedFile;

/**
 * The version a source directory gave, by what its scan saw ({@code statcache/sources/<hex>}): every
 * entry's path, type, mode and target, and every file's stat-cache key (device, inode, size, mtime,
 * ctime). When nothing of that changed, re-adding the directory reads no file and writes nothing: it
 * is the stat cache's trust, applied to the whole tree at once. Remembered only when every file was
 * older than a second when its add began (the stat cache's rule against racily clean files).
 *
 * <p>An entry also lists the version's blobs (manifest, config, chunks), so that checking the store
 * still has them costs a stat each, without parsing the manifest. Binary, checksummed; an entry that
 * does not parse is ignored (it is only a cache).
 */
final class SourceVersions {
  private static final long RACY_NANOS = 1_000_000_000L;
  private static final int MAGIC = 0x4c425356; // "LBSV"

  /** A remembered version: its manifest's descriptor and every blob it needs. */
  record Version(Descriptor manifest, List<Digest> blobs) {}

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
  Version get(byte[] key) {
    try {
      byte[] data = ChecksummedFile.read(dir.resolve(HexFormat.of().formatHex(key)));
      if (data == null || data.length < 4 + 32 + 8 + 4) {
        return null;
      }
      ByteBuffer b = ByteBuffer.wrap(data);
      if (b.getInt() != MAGIC) {
        return null;
      }
      Digest manifest = digest(b);
      long size = b.getLong();
      int n = b.getInt();
      if (n < 0 || b.remaining() != 32L * n) {
        return null;
      }
      List<Digest> blobs = new ArrayList<>(n + 1);
      blobs.add(manifest);
      for (int i = 0; i < n; i++) {
        blobs.add(digest(b));
      }
      return new Version(new Descriptor(MediaTypes.OCI_MANIFEST, manifest, size, null, null, null,
          DatasetFormat.ARTIFACT_TYPE), blobs);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static Digest digest(ByteBuffer b) {
    byte[] d = new byte[32];
    b.get(d);
    return Digest.sha256(d);
  }

  /** Remembers {@code version} (with its config and layers) for {@code key}; failing to is not an error. */
  void put(byte[] key, Descriptor version, Descriptor config, List<Descriptor> layers) {
    List<Digest> blobs = new ArrayList<>();
    blobs.add(config.digest());
    layers.forEach(l -> blobs.add(l.digest()));
    ByteBuffer b = ByteBuffer.allocate(4 + 32 + 8 + 4 + 32 * blobs.size());
    b.putInt(MAGIC).put(HexFormat.of().parseHex(version.digest().hex())).putLong(version.size()).putInt(blobs.size());
    blobs.forEach(d -> b.put(HexFormat.of().parseHex(d.hex())));
    ChecksummedFile.write(dir.resolve(HexFormat.of().formatHex(key)), b.array(), b.position());
  }
}
