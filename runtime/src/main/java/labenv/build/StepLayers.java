package labenv.build;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.layer.LayerResult;
import labenv.layer.LayerWriter;
import labenv.store.BlobWriter;
import labenv.store.ContentStore;

/** Packs what a step made into a layer blob in the store: deterministic, owners kept, times clamped. */
final class StepLayers {
  private final ContentStore store;
  private final LayerWriter writer;
  private final labenv.container.LayerCache layers;
  private final long epoch;

  /** A packed layer: its blob's descriptor and its diff ID. */
  record Packed(Descriptor layer, Digest diffId) {}

  StepLayers(ContentStore store, labenv.container.LayerCache layers, long sourceDateEpoch,
      labenv.layer.Compression compression) {
    this.store = store;
    this.layers = layers;
    this.epoch = sourceDateEpoch;
    this.writer = LayerWriter.builder().sourceDateEpoch(sourceDateEpoch).keepOwners(true).compression(compression)
        .build();
  }

  /**
   * Everything below {@code dir} (a staged tree mirroring the image, its times already the epoch) as a layer; the
   * tree then becomes the layer's unpacked copy in the layer cache (it is what unpacking the blob would give), so
   * the next step's view or overlay does not unpack it again. {@code dir} is gone afterwards.
   */
  Packed tree(Path dir) {
    Packed p = pack(dir, writer::write);
    clampTimes(dir);
    layers.adopt(p.diffId(), dir);
    return p;
  }

  /** Times after the epoch become the epoch, as the layer has them (so the unpacked copy matches the blob). */
  private void clampTimes(Path dir) {
    try {
      Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
          clamp(f, a);
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          if (e != null) {
            throw e;
          }
          clamp(d, Files.readAttributes(d, java.nio.file.attribute.BasicFileAttributes.class,
              java.nio.file.LinkOption.NOFOLLOW_LINKS));
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw LabenvException.failed("cannot set times in " + dir + ": " + e.getMessage(), e);
    }
  }

  private void clamp(Path p, java.nio.file.attribute.BasicFileAttributes a) {
    if (a.lastModifiedTime().to(java.util.concurrent.TimeUnit.SECONDS) < epoch
        || a.lastModifiedTime().toInstant().equals(java.time.Instant.ofEpochSecond(epoch))) {
      return;
    }
    long[] times = {epoch, 0, epoch, 0};
    labenv.linux.Libc.utimensat(labenv.linux.Libc.AT_FDCWD, labenv.linux.Syscalls.cstr(p.toString()), times,
        labenv.linux.Libc.AT_SYMLINK_NOFOLLOW);
  }

  /** An overlayfs upper directory (whiteouts and opaque directories translated) as a layer. */
  Packed overlayUpper(Path upper) {
    return pack(upper, writer::writeOverlayUpper);
  }

  private Packed pack(Path dir, BiFunction<Path, java.io.OutputStream, LayerResult> how) {
    BlobWriter blob = store.writer();
    try {
      LayerResult r = how.apply(dir, blob);
      Digest d = blob.commit(null, -1);
      if (!d.equals(r.digest())) {
        throw LabenvException.failed("layer of " + dir + ": stored as " + d + " but packed as " + r.digest());
      }
      return new Packed(r.descriptor(), r.diffId());
    } finally {
      blob.close();
    }
  }

  /** Whether {@code dir} holds nothing (a step that changed nothing adds no layer). */
  static boolean isEmpty(Path dir) {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }
}
