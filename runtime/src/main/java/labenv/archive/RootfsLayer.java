package labenv.archive;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import labenv.LabenvException;
import labenv.io.ObservingInputStream;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.layer.Decompression;
import labenv.layer.LayerResult;
import labenv.layer.LayerWriter;
import labenv.layer.UnsafeArchiveEntryException;
import labenv.tar.TarEntry;
import labenv.tar.TarPath;
import labenv.tar.TarReader;

/** The one layer of an imported root filesystem, staged. */
record RootfsLayer(StagedBlob blob, String mediaType, Digest diffId, long uncompressedSize) {

  Descriptor descriptor() {
    return Descriptor.of(mediaType, blob.digest(), blob.size());
  }

  /** A directory becomes a layer the way builds make them: sorted, owners zeroed, mtimes clamped. */
  static RootfsLayer fromDirectory(Path dir, ImportOptions options, Staging staging, labenv.Progress progress) {
    Path file = staging.newFile();
    LayerResult r;
    try (OutputStream out = labenv.Progress.counting(new BufferedOutputStream(Files.newOutputStream(file,
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 256 * 1024), progress)) {
      r = LayerWriter.builder()
          .compression(options.compression())
          .sourceDateEpoch(options.sourceDateEpoch())
          .build()
          .write(dir, out);
    } catch (IOException e) {
      throw LabenvException.failed("cannot write staging file " + file + ": " + e.getMessage(), e);
    }
    return new RootfsLayer(staging.adopt(file, r.digest(), r.size()), r.mediaType(), r.diffId(), r.uncompressedSize());
  }

  /**
   * A tarball (plain, gzip, zstd, bzip2 or xz) becomes a layer whose uncompressed bytes are exactly
   * the tarball's tar stream, so its diff_id is the tar's sha256, recompressed as asked. The tar is
   * read once: the same bytes go to the compressor and, through a tee, to a {@link TarReader} that
   * refuses entries no safe unpacker would create.
   */
  static RootfsLayer fromTarball(Path tarball, String label, ImportOptions options, Staging staging,
      labenv.Progress progress) {
    Path file = staging.newFile();
    MessageDigest tarSha = Digest.newSha256();
    MessageDigest blobSha = Digest.newSha256();
    long[] tarSize = {0};
    long blobSize;
    try (InputStream raw = labenv.Progress.counting(Files.newInputStream(tarball), progress);
         InputStream plain = Decompression.open(new BufferedInputStream(raw, 256 * 1024));
         CountingOutputStream blobOut = new CountingOutputStream(new DigestOutputStream(new BufferedOutputStream(
             Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 256 * 1024),
             blobSha))) {
      OutputStream compressing = options.compression().compress(blobOut, options.compression().defaultLevel(),
          Runtime.getRuntime().availableProcessors());
      boolean done = false;
      try {
        Tee tee = new Tee(plain, compressing, tarSha, tarSize);
        TarReader reader = new TarReader(new BufferedInputStream(tee, 256 * 1024));
        int entries = 0;
        TarEntry e;
        while ((e = reader.next()) != null) {
          check(e, label);
          entries++;
        }
        if (entries == 0) {
          throw LabenvException.badInput(label + ": no entries (an empty archive makes no root filesystem)");
        }
        // Whatever follows the end-of-archive marker is part of the tar stream, and of the diff_id.
        tee.transferTo(OutputStream.nullOutputStream());
        done = true;
      } finally {
        if (!done) {
          // Stop the compressor's threads without finishing output that staging will discard, so
          // the failure that got us here is the one reported.
          labenv.layer.Compression.abort(compressing);
        }
      }
      compressing.close();
      blobSize = blobOut.count;
    } catch (java.nio.file.NoSuchFileException e) {
      throw LabenvException.failed("no such file or directory");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + tarball + ": " + e.getMessage(), e);
    }
    StagedBlob blob = staging.adopt(file, Digest.sha256(blobSha.digest()), blobSize);
    return new RootfsLayer(blob, options.compression().mediaType(), Digest.sha256(tarSha.digest()), tarSize[0]);
  }

  /** The names LayerApplier refuses: absolute, with "..", or a non-directory in place of the root. */
  private static void check(TarEntry e, String label) {
    checkPath(e, e.path().bytes(), "path", label);
    if (e.type() == TarEntry.Type.HARDLINK) {
      checkPath(e, e.linkTarget(), "hardlink target", label);
    }
    boolean isRoot = TarPath.ofRaw(e.path().bytes()).components().stream()
        .allMatch(c -> c.length == 1 && c[0] == '.');
    if (isRoot && e.type() != TarEntry.Type.DIRECTORY) {
      throw new UnsafeArchiveEntryException(label, e.path(), "a " + e.type().name().toLowerCase().replace('_', ' ')
          + " would replace the root directory");
    }
  }

  private static void checkPath(TarEntry e, byte[] name, String role, String label) {
    if (name.length > 0 && name[0] == '/') {
      throw new UnsafeArchiveEntryException(label, e.path(), role + " is absolute: leaves the root");
    }
    for (byte[] c : TarPath.ofRaw(name).components()) {
      if (c.length == 2 && c[0] == '.' && c[1] == '.') {
        throw new UnsafeArchiveEntryException(label, e.path(), role + " has a \"..\" component");
      }
    }
  }

  /** Passes what is read on to the compressor and the diff_id's hash; skipping reads, so nothing is missed. */
  private static final class Tee extends ObservingInputStream {
    private final OutputStream copy;
    private final MessageDigest sha;
    private final long[] size;

    Tee(InputStream in, OutputStream copy, MessageDigest sha, long[] size) {
      super(in);
      this.copy = copy;
      this.sha = sha;
      this.size = size;
    }

    @Override
    protected void observe(byte[] b, int off, int n) throws IOException {
      copy.write(b, off, n);
      sha.update(b, off, n);
      size[0] += n;
    }
  }

  private static final class CountingOutputStream extends java.io.FilterOutputStream {
    long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
