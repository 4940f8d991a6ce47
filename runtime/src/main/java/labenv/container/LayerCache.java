package labenv.container;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.layer.LayerApplier;
import labenv.layer.LayerSource;
import labenv.layer.UnsafeArchiveEntryException;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageUnpacker;
import labenv.store.StoreLock;

/**
 * Layers unpacked once into the store, each alone, as overlayfs lower directories ({@code
 * layers/<diff ID hex>/rootfs}) that every container of every image sharing the layer mounts. An entry appears
 * whole or not at all: it is built beside its place and renamed in; of two processes building it at once, the
 * second rename fails and that one discards its copy. Entries are written under the store's shared gc lock, so
 * prune (exclusive) never sees a half-built one in use; prune removes entries no kept image lists.
 */
public final class LayerCache {
  private final ContentStore store;
  private final LayerApplier applier;

  public LayerCache(ContentStore store) {
    this(store, new LayerApplier(LayerApplier.Options.forCurrentUser().withOverlayWhiteouts()));
  }

  /** {@code applier} must build overlay lower directories ({@link LayerApplier.Options#overlayWhiteouts}). */
  public LayerCache(ContentStore store, LayerApplier applier) {
    if (!applier.options().overlayWhiteouts()) {
      throw new IllegalArgumentException("the layer cache needs an applier with overlayWhiteouts");
    }
    this.store = store;
    this.applier = applier;
  }

  public ContentStore store() {
    return store;
  }

  /** Where the unpacked layer with this diff ID lives (or would). */
  public Path entry(Digest diffId) {
    return store.root().resolve(ContentStore.LAYERS_DIR).resolve(diffId.hex());
  }

  /**
   * The lower directory of {@code layer}, unpacked from the store's blob if not cached yet; the blob digest and the
   * diff ID are checked while unpacking.
   */
  public Path layerDir(Descriptor layer, Digest diffId) {
    Path entry = entry(diffId);
    Path rootfs = entry.resolve("rootfs");
    if (Files.isDirectory(rootfs, LinkOption.NOFOLLOW_LINKS)) {
      return rootfs;
    }
    StoreLock gc = store.lockShared();
    try {
      // The entry first, then its rootfs: an entry appears with its rootfs in one rename, so an entry seen here has
      // one, unless it is damaged. (The other order raced a builder publishing between the two looks.)
      if (Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
        if (Files.isDirectory(rootfs, LinkOption.NOFOLLOW_LINKS)) {
          return rootfs;
        }
        throw LabenvException.failed("unpacked layer " + diffId + ": " + entry
            + " holds no rootfs directory; remove it to unpack the layer again");
      }
      Path layers = entry.getParent();
      byte[] random = new byte[6];
      new SecureRandom().nextBytes(random);
      Path staging = layers.resolve(AtomicFile.TEMP_PREFIX + diffId.hex() + "-" + HexFormat.of().formatHex(random));
      try {
        Files.createDirectories(layers);
        Files.createDirectory(staging);
      } catch (IOException e) {
        throw LabenvException.failed("unpacked layer " + diffId + ": creating " + staging + ": " + e.getMessage(), e);
      }
      try {
        applier.unpack(List.of(new LayerSource(layer.digest().toString(), () -> store.open(layer), diffId)),
            staging.resolve("rootfs"));
        publish(staging, entry, diffId);
      } catch (UnsafeArchiveEntryException e) {
        throw e;
      } catch (LabenvException e) {
        // Our own blobs were verified when stored: one that does not decode is damage (exit 1).
        throw e.kind() == LabenvException.Kind.BAD_INPUT
            ? LabenvException.failed(e.getMessage() + " (the stored blob is damaged: run labenv fsck)", e) : e;
      } finally {
        applier.remove(staging);
      }
      return rootfs;
    } finally {
      gc.close();
    }
  }

  /**
   * Takes {@code tree}, a directory holding exactly what layer {@code diffId} unpacks to (the tree a builder just
   * packed into it), as the layer's unpacked copy, so that the next step does not unpack what was just packed.
   * Nothing changes when the layer is unpacked already; {@code tree} is gone afterwards either way. It must be on
   * the store's filesystem (it is renamed).
   */
  public void adopt(Digest diffId, Path tree) {
    Path entry = entry(diffId);
    if (Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
      applier.remove(tree);
      return;
    }
    Path layers = entry.getParent();
    byte[] random = new byte[6];
    new SecureRandom().nextBytes(random);
    Path staging = layers.resolve(AtomicFile.TEMP_PREFIX + diffId.hex() + "-" + HexFormat.of().formatHex(random));
    try {
      Files.createDirectories(layers);
      Files.createDirectory(staging);
      Files.move(tree, staging.resolve("rootfs"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      publish(staging, entry, diffId);
    } catch (IOException e) {
      throw LabenvException.failed("unpacked layer " + diffId + ": adopting " + tree + ": " + e.getMessage(), e);
    } finally {
      if (Files.exists(staging, LinkOption.NOFOLLOW_LINKS)) {
        applier.remove(staging);
      }
      if (Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) {
        applier.remove(tree);
      }
    }
  }

  /** The lower directories of {@code image}, bottom layer first. */
  public List<Path> layerDirs(Image image) {
    List<Descriptor> layers = image.manifest().layers();
    List<Digest> diffIds = image.diffIds();
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      out.add(layerDir(layers.get(i), diffIds.get(i)));
    }
    return out;
  }

  /** The image's layers as sources for a plain (copying) unpack, diff IDs checked. */
  public List<LayerSource> sources(Image image) {
    return ImageUnpacker.sources(store, image, labenv.Progress.NONE);
  }


  /** Renames the staging directory into place; losing the race to another builder is fine (theirs is as good). */
  private static void publish(Path staging, Path entry, Digest diffId) {
    try {
      Libc.renameat2(Libc.AT_FDCWD, Syscalls.cstr(staging.toString()), Libc.AT_FDCWD,
          Syscalls.cstr(entry.toString()), Libc.RENAME_NOREPLACE);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Libc.EEXIST && Files.isDirectory(entry.resolve("rootfs"), LinkOption.NOFOLLOW_LINKS)) {
        return;
      }
      throw new LabenvException(LabenvException.Kind.FAILED, "unpacked layer " + diffId + ": "
          + new ErrnoException("renameat2", entry.toString(), e.getErrorCode()).getMessage(), e);
    }
    AtomicFile.syncDirectory(entry.getParent());
  }
}
