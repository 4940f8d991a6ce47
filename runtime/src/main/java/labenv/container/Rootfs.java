package labenv.container;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.layer.LayerApplier;
import labenv.layer.LayerSource;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.store.Image;

/**
 * A container's root filesystem: an overlayfs mount of the cached layers with the container's own upper directory
 * ({@code <container>/upper}, {@code work}, mounted at {@code merged}), or, where overlayfs is not available, a copy
 * of the image unpacked into {@code <container>/rootfs}. The overlay is mounted in the caller's mount namespace (the
 * host's, when the runtime calls it), so {@link #release} must be called to unmount it.
 */
public final class Rootfs {
  /** The kernel copies mount data into one page; longer option strings are cut (EINVAL at best). */
  static final int MAX_MOUNT_DATA = 4095;

  private final Path path;
  private final List<Path> created;
  private final boolean mounted;
  private boolean released;

  private Rootfs(Path path, List<Path> created, boolean mounted) {
    this.path = path;
    this.created = created;
    this.mounted = mounted;
  }

  /** The root directory the container sees. */
  public Path path() {
    return path;
  }

  /** Whether this is an overlay mount (false: a copy). */
  public boolean isOverlay() {
    return mounted;
  }

  /** Thrown when the kernel will not mount overlayfs here (EPERM, ENODEV, EINVAL, or options too long). */
  public static final class OverlayUnavailableException extends LabenvException {
    OverlayUnavailableException(String message, Throwable cause) {
      super(Kind.FAILED, message, cause);
    }
  }

  /**
   * Mounts overlayfs over {@code lowersBottomFirst} (the image's layers, lowest first, as {@link LayerCache} gives
   * them) at {@code containerDir/merged}, writes going to {@code containerDir/upper}. {@code containerDir} is created
   * if missing; upper, work and merged must not exist.
   */
  public static Rootfs overlay(List<Path> lowersBottomFirst, Path containerDir) {
    if (lowersBottomFirst.isEmpty()) {
      throw new IllegalArgumentException("an overlay needs at least one lower directory");
    }
    Path dir = containerDir.toAbsolutePath().normalize();
    Path upper = dir.resolve("upper");
    Path work = dir.resolve("work");
    Path merged = dir.resolve("merged");
    String data = options(lowersBottomFirst, upper, work);
    if (data.length() > MAX_MOUNT_DATA) {
      throw new OverlayUnavailableException("overlay at " + merged + ": " + lowersBottomFirst.size()
          + " layers make mount options of " + data.length() + " bytes (the kernel takes " + MAX_MOUNT_DATA + ")",
          null);
    }
    List<Path> made = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      for (Path p : List.of(upper, work, merged)) {
        Files.createDirectory(p);
        made.add(p);
      }
    } catch (IOException e) {
      cleanup(made);
      throw LabenvException.failed("overlay at " + merged + ": creating " + e.getMessage(), e);
    }
    try {
      Libc.mount(Syscalls.cstr("overlay"), Syscalls.cstr(merged.toString()), Syscalls.cstr("overlay"), 0,
          Syscalls.cstr(data));
    } catch (LastErrorException e) {
      cleanup(made);
      int errno = e.getErrorCode();
      String message = "overlay at " + merged + ": " + new ErrnoException("mount", "overlay", errno).getMessage();
      if (errno == Libc.EPERM || errno == Libc.ENODEV || errno == Libc.EINVAL) {
        throw new OverlayUnavailableException(message, e);
      }
      throw LabenvException.failed(message, e);
    }
    return new Rootfs(merged, made, true);
  }

  /**
   * The same root filesystem, except that {@link #release} keeps the container's writes: the overlay's upper
   * directory ({@code containerDir/upper}) or the copy stays for the caller (the builder packs it as a layer) to
   * remove. Work and merged still go.
   */
  public Rootfs keepingChanges() {
    List<Path> made = created.stream().filter(p -> !p.getFileName().toString().equals("upper")).toList();
    return new Rootfs(path, mounted ? made : List.of(), mounted);
  }

  /**
   * A read-only view of {@code lowersBottomFirst} merged, at {@code mountpoint} (created; must not exist): an
   * overlay with no upper directory for two or more layers, a read-only bind mount of the one layer, an empty
   * directory for none. Released like any other.
   */
  public static Rootfs readOnlyView(List<Path> lowersBottomFirst, Path mountpoint) {
    Path merged = mountpoint.toAbsolutePath().normalize();
    try {
      Files.createDirectories(merged.getParent());
      Files.createDirectory(merged);
    } catch (IOException e) {
      throw LabenvException.failed("read-only view at " + merged + ": " + e.getMessage(), e);
    }
    if (lowersBottomFirst.isEmpty()) {
      return new Rootfs(merged, List.of(merged), false);
    }
    try {
      if (lowersBottomFirst.size() == 1) {
        Libc.mount(Syscalls.cstr(lowersBottomFirst.get(0).toString()), Syscalls.cstr(merged.toString()), null,
            Libc.MS_BIND, null);
        Libc.mount(null, Syscalls.cstr(merged.toString()), null, Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY,
            null);
      } else {
        String data = options(lowersBottomFirst, null, null);
        if (data.length() > MAX_MOUNT_DATA) {
          throw new OverlayUnavailableException("read-only view at " + merged + ": " + lowersBottomFirst.size()
              + " layers make mount options of " + data.length() + " bytes (the kernel takes " + MAX_MOUNT_DATA + ")",
              null);
        }
        Libc.mount(Syscalls.cstr("overlay"), Syscalls.cstr(merged.toString()), Syscalls.cstr("overlay"),
            Libc.MS_RDONLY, Syscalls.cstr(data));
      }
    } catch (LastErrorException e) {
      try {
        Libc.umount2(Syscalls.cstr(merged.toString()), Libc.MNT_DETACH);
      } catch (LastErrorException notMounted) {
        // the bind's remount failed before, or nothing was mounted
      }
      cleanup(List.of(merged));
      throw LabenvException.failed("read-only view at " + merged + ": "
          + new ErrnoException("mount", merged.toString(), e.getErrorCode()).getMessage(), e);
    }
    return new Rootfs(merged, List.of(merged), true);
  }

  /** The fallback: {@code layers} unpacked (whiteouts applied) into {@code containerDir/rootfs}, which must not exist. */
  public static Rootfs copy(List<LayerSource> layers, Path containerDir) {
    Path dir = containerDir.toAbsolutePath().normalize();
    Path rootfs = dir.resolve("rootfs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw LabenvException.failed("copy at " + rootfs + ": creating " + dir + ": " + e.getMessage(), e);
    }
    new LayerApplier().unpack(layers, rootfs);
    return new Rootfs(rootfs, List.of(rootfs), false);
  }

  /**
   * The root filesystem for a container of {@code image}: an overlay of the cached layers when we are root and the
   * kernel mounts it, a copy otherwise.
   */
  public static Rootfs forImage(LayerCache cache, Image image, Path containerDir) {
    if (Syscalls.isRoot() && !image.manifest().layers().isEmpty()) {
      try {
        return overlay(cache.layerDirs(image), containerDir);
      } catch (OverlayUnavailableException e) {
        // fall through to the copy
      }
    }
    return copy(cache.sources(image), containerDir);
  }

  /**
   * The root filesystem {@link #forImage} made earlier in {@code containerDir}, for a process other than the one that
   * made it (a monitor, a reconciling {@code ps}, {@code rm}): releasing it unmounts and removes what is there.
   */
  public static Rootfs existing(Path containerDir) {
    Path dir = containerDir.toAbsolutePath().normalize();
    if (Files.exists(dir.resolve("merged"), LinkOption.NOFOLLOW_LINKS)) {
      return new Rootfs(dir.resolve("merged"), List.of(dir.resolve("upper"), dir.resolve("work"), dir.resolve("merged")),
          true);
    }
    return new Rootfs(dir.resolve("rootfs"), List.of(dir.resolve("rootfs")), false);
  }

  /**
   * Detaches the mount (lazily: a process still inside keeps its view until it leaves) and removes what this
   * made: the upper directory with the container's writes, work and merged, or the copy. Idempotent.
   */
  public void release() {
    if (released) {
      return;
    }
    if (mounted) {
      try {
        Libc.umount2(Syscalls.cstr(path.toString()), Libc.MNT_DETACH);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINVAL) { // EINVAL: not mounted (any more)
          throw LabenvException.failed("release " + path + ": "
              + new ErrnoException("umount2", path.toString(), e.getErrorCode()).getMessage(), e);
        }
      }
    }
    released = true;
    cleanup(created);
  }

  private static void cleanup(List<Path> paths) {
    LayerApplier remover = new LayerApplier();
    for (int i = paths.size() - 1; i >= 0; i--) {
      if (Files.exists(paths.get(i), LinkOption.NOFOLLOW_LINKS)) {
        remover.remove(paths.get(i));
      }
    }
  }

  /** overlayfs options: lowerdir is topmost first; "\", "," and ":" in paths are escaped as the kernel expects. */
  static String options(List<Path> lowersBottomFirst, Path upper, Path work) {
    StringBuilder lower = new StringBuilder();
    for (int i = lowersBottomFirst.size() - 1; i >= 0; i--) {
      if (lower.length() > 0) {
        lower.append(':');
      }
      lower.append(escape(lowersBottomFirst.get(i).toAbsolutePath().normalize().toString()));
    }
    if (upper == null) {
      return "lowerdir=" + lower;
    }
    return "lowerdir=" + lower + ",upperdir=" + escape(upper.toString()) + ",workdir=" + escape(work.toString());
  }

  static String escape(String path) {
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '\\' || c == ',' || c == ':') {
        out.append('\\');
      }
      out.append(c);
    }
    return out.toString();
  }
}
