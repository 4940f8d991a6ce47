package labenv.build;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import labenv.LabenvException;
import labenv.container.LayerCache;
import labenv.container.Rootfs;
import labenv.image.Digest;
import labenv.image.Platform;
import labenv.store.Image;
import labenv.store.ImageStore;

/**
 * {@code labenv.lock} from a build: the base images as they resolved, and what the built image holds (Debian
 * packages, Python and R packages, the MAVEN jars), read from the image's files without running anything in it.
 */
public final class Locking {
  private Locking() {}

  public static final String FILE = Lockfile.FILE_NAME;

  /** The lock that describes what {@code result} made. */
  public static Lockfile actual(ImageStore images, BuildResult result) {
    Image image = images.image(result.manifest(), Platform.host());
    List<Path> dirs = new LayerCache(images.content()).layerDirs(image);
    byte[] random = new byte[6];
    new java.security.SecureRandom().nextBytes(random);
    Path mountpoint = images.content().root().resolve("build").resolve("lock-" + HexFormat.of().formatHex(random));
    Rootfs view = Rootfs.readOnlyView(dirs, mountpoint);
    Inventory inventory;
    try {
      inventory = Inventory.of(view.path());
    } finally {
      view.release(); // unmounts and removes the mount point
    }
    List<Lockfile.BaseImage> bases = result.bases().stream().filter(b -> b.digest() != null) // scratch
        .map(b -> new Lockfile.BaseImage(b.stage(), b.image(), Digest.parse(b.digest()))).toList();
    return Lockfile.of(bases, inventory, new Lockfile.Maven(
        result.maven().stream().map(MavenCoordinates::parse).toList(), inventory.maven()));
  }

  /** Fails (exit 1) with a {@link DriftException} when what {@code result} made differs from {@code locked}. */
  public static void check(ImageStore images, BuildResult result, Lockfile locked, String lockPath) {
    List<Lockfile.Drift> drift = Lockfile.compare(locked, actual(images, result));
    if (!drift.isEmpty()) {
      throw new DriftException(drift, lockPath);
    }
  }

  /**
   * A build that differs from its lock. The message is one line (what and where); {@link #report()} has the lines
   * people need to act on, one per difference, which a CLI prints before it.
   */
  public static final class DriftException extends LabenvException {
    private final List<Lockfile.Drift> drift;
    private final String report;

    DriftException(List<Lockfile.Drift> drift, String lockPath) {
      super(Kind.FAILED, "the build differs from " + lockPath + " in " + drift.size()
          + (drift.size() == 1 ? " place" : " places") + "; the image was not tagged", null);
      this.drift = List.copyOf(drift);
      this.report = Lockfile.report(drift, lockPath);
    }

    public List<Lockfile.Drift> drift() {
      return drift;
    }

    /** {@link Lockfile#report}: a line per difference ("debian package libc6: 2.36-9 → 2.36-10"), then what to do. */
    public String report() {
      return report;
    }
  }
}
