package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import labenv.layer.LayerApplier;
import labenv.layer.TreeSnapshot;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;
import labenv.store.ContentStore;
import labenv.store.FsckReport;
import labenv.store.Image;
import labenv.store.ImageStore;
import labenv.store.ImageUnpacker;
import labenv.store.PruneReport;
import labenv.store.StoreLock;
import labenv.tar.TarPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-layer image made with GNU tar (busybox in layer 1; a file added, one whited out, a directory whited out
 * and one made opaque in layers 2-3) unpacked into the layer cache and mounted as an overlay: the merged tree must
 * equal the tree the plain unpack builds, the cache must be shared and never written through, and release must
 * leave no mount behind.
 */
class RootfsIT {
  @TempDir Path tmp;
  private ContentStore store;
  private ImageStore images;
  private Image image;

  @BeforeEach
  void image() throws Exception {
    assumeTrue(Syscalls.isRoot(), "overlay mounts need root");
    store = ContentStore.open(tmp.resolve("store"));
    images = new ImageStore(store);
    Path l1 = tmp.resolve("l1");
    Files.createDirectories(l1.resolve("bin"));
    Files.copy(Path.of("/bin/busybox"), l1.resolve("bin/busybox"));
    Files.createSymbolicLink(l1.resolve("bin/sh"), Path.of("busybox"));
    write(l1, "etc/keep", "kept\n");
    write(l1, "etc/gone", "whited out in layer 2\n");
    write(l1, "data/a", "hidden by the opaque dir\n");
    write(l1, "data/sub/b", "hidden too\n");
    write(l1, "olddir/x", "whole dir whited out\n");
    Path l2 = tmp.resolve("l2");
    write(l2, "etc/added", "from layer 2\n");
    write(l2, "etc/.wh.gone", "");
    write(l2, "data/c", "hidden by layer 3's opaque marker\n");
    Path l3 = tmp.resolve("l3");
    write(l3, "etc/added", "changed in layer 3\n");
    write(l3, "data/.wh..wh..opq", "");
    write(l3, "data/new", "only this in data\n");
    write(l3, ".wh.olddir", "");
    List<Descriptor> layers = new ArrayList<>();
    try (StoreLock gc = store.lockShared()) {
      for (Path l : List.of(l1, l2, l3)) {
        Path tar = tmp.resolve(l.getFileName() + ".tar");
        run("tar", "--numeric-owner", "--sort=name", "-C", l.toString(), "-cf", tar.toString(), ".");
        layers.add(store.put(MediaTypes.OCI_LAYER, Files.readAllBytes(tar)));
      }
      Platform host = Platform.host();
      ImageConfig config = new ImageConfig(null, null, host.architecture(), host.os(), host.variant(),
          ImageConfig.Config.empty(), ImageConfig.RootFs.layers(layers.stream().map(Descriptor::digest).toList()),
          List.of());
      Descriptor c = store.put(MediaTypes.OCI_CONFIG, Json.canonical(config));
      images.tag(store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(c, layers))), "three:1");
    }
    image = images.image("three:1");
  }

  @Test
  void theOverlayShowsWhatThePlainUnpackBuilds() throws Exception {
    TreeMap<TarPath, String> expected = expected();
    assertTrue(expected.containsKey(TarPath.of("bin/busybox")));
    assertFalse(expected.containsKey(TarPath.of("etc/gone")));
    assertFalse(expected.containsKey(TarPath.of("olddir")));
    assertFalse(expected.containsKey(TarPath.of("data/a")));

    LayerCache cache = new LayerCache(store);
    List<Path> lowers = cache.layerDirs(image);
    assertEquals(3, lowers.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(store.root().resolve("layers").resolve(image.config().diffIds().get(i).hex()).resolve("rootfs"),
          lowers.get(i));
    }
    Stat gone = Syscalls.lstat(Libc.AT_FDCWD, Syscalls.cstr(lowers.get(1).resolve("etc/gone").toString()));
    assertEquals(Libc.S_IFCHR, gone.type(), "the cache holds overlayfs whiteouts");
    assertTrue(Files.exists(lowers.get(0).resolve("etc/gone")), "and deletes nothing of lower layers");

    // Commas and colons in paths must survive the mount options.
    Path container = tmp.resolve("containers/c,1:x");
    Rootfs rootfs = Rootfs.overlay(lowers, container);
    try {
      assertTrue(rootfs.isOverlay());
      assertEquals(container.resolve("merged"), rootfs.path());
      assertTrue(mounted(rootfs.path()), "mounted");
      assertEquals("", TreeSnapshot.diff(expected, snapshot(rootfs.path())));
      assertEquals("changed in layer 3\n", Files.readString(rootfs.path().resolve("etc/added")));
      assertTrue(run(rootfs.path().resolve("bin/busybox").toString(), "echo", "hi").contains("hi"));
    } finally {
      rootfs.release();
    }
    assertFalse(mounted(container.resolve("merged")), "release leaves nothing mounted");
    assertFalse(Files.exists(container.resolve("merged"), LinkOption.NOFOLLOW_LINKS));
    assertFalse(Files.exists(container.resolve("upper"), LinkOption.NOFOLLOW_LINKS));
    rootfs.release(); // idempotent
  }

  @Test
  void theCacheIsSharedAndNeverWrittenThrough() throws Exception {
    LayerCache cache = new LayerCache(store);
    List<Path> lowers = cache.layerDirs(image);
    List<String> before = new ArrayList<>();
    for (Path l : lowers) {
      before.add(Syscalls.lstat(Libc.AT_FDCWD, Syscalls.cstr(l.getParent().toString())).inodeKey() + " "
          + Files.getLastModifiedTime(l).toMillis());
    }
    TreeMap<TarPath, String> cacheBefore = TreeSnapshot.of(store.root().resolve("layers"));

    List<Path> again = new LayerCache(store).layerDirs(image);
    assertEquals(lowers, again);
    for (int i = 0; i < lowers.size(); i++) {
      assertEquals(before.get(i), Syscalls.lstat(Libc.AT_FDCWD, Syscalls.cstr(lowers.get(i).getParent().toString()))
          .inodeKey() + " " + Files.getLastModifiedTime(lowers.get(i)).toMillis(), "not unpacked again");
    }

    Rootfs one = Rootfs.overlay(again, tmp.resolve("c1"));
    Rootfs two = Rootfs.overlay(again, tmp.resolve("c2"));
    try {
      Files.writeString(one.path().resolve("etc/keep"), "changed by container one\n");
      Files.writeString(one.path().resolve("newfile"), "new\n");
      Files.delete(one.path().resolve("data/new"));
      Files.delete(one.path().resolve("bin/busybox"));
      assertEquals("changed by container one\n", Files.readString(tmp.resolve("c1/upper/etc/keep")));
      assertTrue(Files.exists(tmp.resolve("c1/upper/newfile")));
      assertEquals("kept\n", Files.readString(two.path().resolve("etc/keep")), "containers don't see each other");
      assertTrue(Files.exists(two.path().resolve("data/new")));
      assertTrue(Files.exists(two.path().resolve("bin/busybox")));
    } finally {
      one.release();
      two.release();
    }
    assertEquals("", TreeSnapshot.diff(cacheBefore, TreeSnapshot.of(store.root().resolve("layers"))),
        "writes never reach the cache");
  }

  @Test
  void concurrentBuildersOfOneLayerAgreeAndLeaveNoTemporaries() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<Path>>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit(() -> new LayerCache(store).layerDirs(image)));
      }
      List<Path> first = results.get(0).get();
      for (Future<List<Path>> f : results) {
        assertEquals(first, f.get());
      }
    } finally {
      pool.shutdown();
    }
    try (Stream<Path> s = Files.list(store.root().resolve("layers"))) {
      assertEquals(Set.copyOf(image.config().diffIds().stream().map(Digest::hex).toList()),
          Set.copyOf(s.map(p -> p.getFileName().toString()).toList()));
    }
  }

  @Test
  void theCopyFallbackGivesTheSameTree() throws Exception {
    TreeMap<TarPath, String> expected = expected();
    Rootfs copy = Rootfs.copy(new LayerCache(store).sources(image), tmp.resolve("c"));
    assertFalse(copy.isOverlay());
    assertEquals(tmp.resolve("c/rootfs"), copy.path());
    assertFalse(mounted(copy.path()));
    assertEquals("", TreeSnapshot.diff(expected, snapshot(copy.path())));
    copy.release();
    assertFalse(Files.exists(tmp.resolve("c/rootfs"), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void pruneKeepsTheLayersOfKeptImagesAndRemovesTheRest() throws Exception {
    LayerCache cache = new LayerCache(store);
    List<Path> lowers = cache.layerDirs(image);
    Path junk = Files.createDirectories(store.root().resolve("layers/.tmp-half-built/rootfs"));
    FsckReport fsck = images.fsck();
    assertTrue(fsck.ok(), fsck.problems().toString());
    assertTrue(fsck.notes().stream().anyMatch(n -> n.startsWith("layers/.tmp-half-built: half-built")),
        fsck.notes().toString());

    PruneReport kept = images.prune();
    assertEquals(List.of(), kept.layersRemoved());
    for (Path l : lowers) {
      assertTrue(Files.isDirectory(l), "a kept image keeps its unpacked layers");
    }
    assertFalse(Files.exists(junk.getParent()), "half-built entries go");

    images.remove("three:1");
    assertTrue(images.fsck().notes().stream().anyMatch(n -> n.startsWith("3 unpacked layers no image lists")));
    PruneReport pruned = images.prune();
    assertEquals(Set.copyOf(image.config().diffIds()), Set.copyOf(pruned.layersRemoved()));
    try (Stream<Path> s = Files.list(store.root().resolve("layers"))) {
      assertEquals(0, s.count());
    }
    // The store still opens with the cache directory in it.
    ContentStore.open(store.root());
  }

  private TreeMap<TarPath, String> expected() {
    Path target = tmp.resolve("expected");
    new ImageUnpacker(store, new LayerApplier()).unpack(image, target, Progress.NONE);
    return snapshot(target);
  }

  /** Everything but the root's own metadata, which an overlay takes from its upper directory. */
  private static TreeMap<TarPath, String> snapshot(Path root) {
    TreeMap<TarPath, String> s = TreeSnapshot.of(root);
    s.remove(TarPath.of("."));
    return s;
  }

  private static boolean mounted(Path mountPoint) throws IOException {
    String target = mountPoint.toAbsolutePath().normalize().toString().replace(" ", "\\040");
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(target)) {
        return true;
      }
    }
    return false;
  }

  private static void write(Path root, String rel, String content) throws IOException {
    Path p = root.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content, StandardCharsets.UTF_8);
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + ": " + out);
    }
    return out;
  }
}
