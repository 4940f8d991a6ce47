package labenv.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.layer.LayerApplier;
import labenv.layer.LayerSource;
import labenv.layer.UnsafeArchiveEntryException;

/**
 * Unpacks an image's root filesystem through the safe {@link LayerApplier}, checking each layer's
 * blob digest (as the store streams it) and its diff ID (the digest of the uncompressed tar the
 * config promises): a layer that does not match fails the unpack and the target is not created.
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
    List<LayerSource> sources = sources(store, image, progress);
    progress.start("unpack", image.manifest().layers().stream().mapToLong(Descriptor::size).sum());
    try {
      return applier.unpack(sources, target);
    } catch (UnsafeArchiveEntryException e) {
      throw e;
    } catch (LabenvException e) {
      // The blobs come from our own store, verified when written: one that does not decode is
      // damage to the store (exit 1), not bad input.
      throw e.kind() == LabenvException.Kind.BAD_INPUT
          ? LabenvException.failed(e.getMessage() + " (the stored blob is damaged: run labenv fsck)", e) : e;
    } finally {
      progress.done();
    }
  }

  /** The image's layers, lowest first, as sources for the applier: blobs verified as read, diff IDs checked. */
  public static List<LayerSource> sources(ContentStore store, Image image, Progress progress) {
    List<Descriptor> layers = image.manifest().layers();
    List<Digest> diffIds = image.diffIds();
    List<LayerSource> sources = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      Descriptor layer = layers.get(i);
      sources.add(new LayerSource(layer.digest().toString(), () -> Progress.counting(store.open(layer), progress),
          diffIds.get(i)));
    }
    return sources;
  }
}
