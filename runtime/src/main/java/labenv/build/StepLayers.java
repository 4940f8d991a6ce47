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

  /** A packed layer: its blob's descriptor and its diff ID. */
  record Packed(Descriptor layer, Digest diffId) {}

  StepLayers(ContentStore store, long sourceDateEpoch, labenv.layer.Compression compression) {
    this.store = store;
    this.writer = LayerWriter.builder().sourceDateEpoch(sourceDateEpoch).keepOwners(true).compression(compression)
        .build();
  }

  /** Everything below {@code dir} (a staged tree mirroring the image) as a layer. */
  Packed tree(Path dir) {
    return pack(dir, writer::write);
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
