package labenv.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.io.ObservingInputStream;
import labenv.layer.Decompression;
import labenv.layer.LayerApplier;
import labenv.layer.LayerSource;

/**
 * Unpacks an image's root filesystem through the safe {@link LayerApplier}, checking each layer's
 * blob digest and its diff ID (the digest of the uncompressed tar the config promises) as it goes:
 * a layer that does not match fails the unpack and the target is not created.
 */
public final class ImageUnpacker {
  private final ContentStore store;
  private final LayerApplier applier;

  public ImageUnpacker(ContentStore store, LayerApplier applier) {
    this.store = store;
    this.applier = applier;
  }

  /** Unpacks {@code image} into {@code target}, which must not exist; returns the applier's warnings. */
  public List<String> unpack(Image image, Path target, Progress progress) {
    List<Descriptor> layers = image.manifest().layers();
    List<Digest> diffIds = image.config().diffIds();
    if (diffIds.size() != layers.size()) {
      throw LabenvException.badInput("image " + image.descriptor().digest() + ": " + layers.size()
          + " layers but " + diffIds.size() + " diff IDs in the config");
    }
    long total = layers.stream().mapToLong(Descriptor::size).sum();
    progress.start("unpack", total);
    List<LayerSource> sources = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      Descriptor layer = layers.get(i);
      Digest diffId = diffIds.get(i);
      sources.add(new LayerSource(layer.digest().toString(), () -> {
        InputStream blob = Progress.counting(store.open(layer), progress);
        return new DiffIdCheck(Decompression.open(blob), diffId);
      }));
    }
    try {
      return applier.unpack(sources, target);
    } finally {
      progress.done();
    }
  }

  /**
   * Hashes the uncompressed tar and compares it with the config's diff ID when closed. Closing
   * first reads to the end, so the blob's own verification beneath sees every byte too (a tar ends
   * with zero blocks the applier need not read).
   */
  private static final class DiffIdCheck extends ObservingInputStream {
    private final Digest expected;
    private final java.security.MessageDigest hash = Digest.newSha256();
    private boolean closed;

    DiffIdCheck(InputStream in, Digest expected) {
      super(in);
      this.expected = expected;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (LabenvException e) {
        // The blob came from our own store: a stream that doesn't decode is damage, not bad input.
        throw e.kind() == LabenvException.Kind.BAD_INPUT
            ? LabenvException.failed("stored blob is damaged: " + e.getMessage() + " (run labenv fsck)", e) : e;
      }
    }

    @Override
    protected void observe(byte[] b, int off, int n) {
      hash.update(b, off, n);
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      try {
        drain();
        Digest actual = Digest.sha256(hash.digest());
        if (!actual.equals(expected)) {
          throw LabenvException.failed("uncompressed content is " + actual + " but the config's diff ID is "
              + expected + " (run labenv fsck)");
        }
      } finally {
        super.close();
      }
    }
  }
}
