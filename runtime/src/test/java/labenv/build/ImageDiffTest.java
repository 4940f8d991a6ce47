package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import labenv.archive.Archives;
import labenv.archive.ImportOptions;
import labenv.archive.ImportResult;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.layer.Compression;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;
import labenv.tar.TarEntry;
import labenv.tar.TarPath;
import labenv.tar.TarWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two images made the way labenv makes them (a directory imported by the deterministic layer writer, and a second
 * layer with whiteouts on top), compared; the differences are exactly the ones planted.
 */
class ImageDiffTest {
  /** A late epoch: the planted mtimes are earlier, so the layer writer keeps them. */
  static final long EPOCH = 2_000_000_000L;
  static final long T0 = 1_600_000_000L;

  @TempDir Path tmp;
  ImageStore images;
  Archives archives;
  ContentStore store;

  @BeforeEach
  void setUp() {
    store = ContentStore.open(tmp.resolve("store"));
    images = new ImageStore(store);
    archives = new Archives(images);
  }

  @Test
  void listsTheContentModeMtimeAddedAndWhitedOutPathsAndNothingElse() throws Exception {
    Path a = tree(tmp.resolve("a"));
    Path b = tree(tmp.resolve("b"));
    Files.writeString(b.resolve("etc/changed.conf"), "two\n");
    Files.setAttribute(b.resolve("bin/tool"), "unix:mode", 0755);
    touchAll(b);
    setMtime(b.resolve("var/time.txt"), T0 + 3600);
    Image ia = importDir(a, "a:1");
    Image base = importDir(b, "b:base");
    // the second layer: a whiteout, an opaque directory, an added file (owned by 1000:1000), a symlink moved
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    try (TarWriter w = new TarWriter(tar)) {
      w.write(TarEntry.file(TarPath.of("added.txt"), 0644, 3, T0).withOwner(1000, 1000, "", ""),
          new ByteArrayInputStream("new".getBytes(StandardCharsets.UTF_8)));
      w.write(TarEntry.directory(TarPath.of("opq"), 0755, T0));
      w.write(TarEntry.file(TarPath.of("opq/.wh..wh..opq"), 0644, 0, T0));
      w.write(TarEntry.file(TarPath.of("opq/fresh"), 0644, 0, T0), new ByteArrayInputStream(new byte[0]));
      w.write(TarEntry.file(TarPath.of("var/.wh.gone.txt"), 0644, 0, T0));
      w.write(TarEntry.symlink(TarPath.of("link"), "etc/same.conf".getBytes(StandardCharsets.UTF_8), T0));
      w.finish();
    }
    Image ib = addLayer(base, tar.toByteArray(), "b:1");

    List<ImageDiff.FileDifference> diffs = ImageDiff.compare(store, ia, ib);

    List<String> got = diffs.stream().map(d -> d.path() + " " + d.kind() + " " + d.detail()).toList();
    assertEquals(List.of(
        "/added.txt only-in-b file, 3 bytes",
        "/bin/tool mode 0644 vs 0755",
        "/etc/changed.conf content sha256 " + sha("one\n") + "… vs " + sha("two\n") + "…",
        "/link link-target etc/changed.conf vs etc/same.conf",
        "/opq/fresh only-in-b file, 0 bytes",
        "/opq/old only-in-a file, 4 bytes",
        "/var/gone.txt only-in-a file, 5 bytes",
        "/var/time.txt mtime 1600000000 vs 1600003600"), got);
    assertEquals(List.of(), ImageDiff.compare(store, ia, ia), "an image is its own twin");

    String report = ImageDiff.describe(diffs, 3);
    assertEquals(List.of("8 paths differ:",
        "  /added.txt: only in b (file, 3 bytes)",
        "  /bin/tool: mode 0644 vs 0755",
        "  /etc/changed.conf: content differs (sha256 " + sha("one\n") + "… vs " + sha("two\n") + "…)",
        "  … and 5 more paths"), report.lines().toList());
  }

  @Test
  void ownerTypeAndSeveralKindsOfOnePathAreOneLine() throws Exception {
    Path a = tree(tmp.resolve("a"));
    Image ia = importDir(a, "a:1");
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    try (TarWriter w = new TarWriter(tar)) {
      // same content as a's, another owner, mode and time: three kinds, one path
      w.write(TarEntry.file(TarPath.of("etc/same.conf"), 0600, 5, 1_700_000_000L).withOwner(1000, 1000, "", ""),
          new ByteArrayInputStream("same\n".getBytes(StandardCharsets.UTF_8)));
      // a directory where a had a file: what a had below nothing, the type is the difference
      w.write(TarEntry.directory(TarPath.of("var/time.txt"), 0755, T0));
      w.finish();
    }
    Image ib = addLayer(ia, tar.toByteArray(), "b:1");
    List<ImageDiff.FileDifference> diffs = ImageDiff.compare(store, ia, ib);
    List<String> got = diffs.stream().map(d -> d.path() + " " + d.kind() + " " + d.detail()).toList();
    assertEquals(List.of(
        "/etc/same.conf mode 0644 vs 0600",
        "/etc/same.conf owner 0:0 vs 1000:1000",
        "/etc/same.conf mtime 1600000000 vs 1700000000",
        "/var/time.txt type file, 4 bytes vs directory"), got);
    String report = ImageDiff.describe(diffs, 10);
    assertTrue(report.contains("/etc/same.conf: mode 0644 vs 0600, owner 0:0 vs 1000:1000, mtime 1600000000 vs "
        + "1700000000\n"), report);
    assertEquals("the file systems are the same", ImageDiff.describe(List.of(), 10));
  }

  @Test
  void aHardLinkThatBecameACopyShows() throws Exception {
    Path a = tree(tmp.resolve("a"));
    Path b = tree(tmp.resolve("b"));
    Files.createLink(a.resolve("etc/twin.conf"), a.resolve("etc/same.conf"));
    Files.copy(b.resolve("etc/same.conf"), b.resolve("etc/twin.conf"), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    touchAll(a);
    touchAll(b);
    List<ImageDiff.FileDifference> diffs = ImageDiff.compare(store, importDir(a, "a:1"), importDir(b, "b:1"));
    assertEquals(List.of(new ImageDiff.FileDifference("/etc/twin.conf", "link-target",
        "hard link to /etc/same.conf vs not a hard link")), diffs);
  }

  /** A small root: every time T0, files 0644 (the layer writer makes owners 0:0). */
  private static Path tree(Path root) throws Exception {
    Files.createDirectories(root.resolve("etc"));
    Files.createDirectories(root.resolve("bin"));
    Files.createDirectories(root.resolve("var"));
    Files.createDirectories(root.resolve("opq"));
    Files.writeString(root.resolve("etc/same.conf"), "same\n");
    Files.writeString(root.resolve("etc/changed.conf"), "one\n");
    Files.writeString(root.resolve("bin/tool"), "#!/bin/sh\n");
    Files.writeString(root.resolve("var/time.txt"), "time");
    Files.writeString(root.resolve("var/gone.txt"), "gone\n");
    Files.writeString(root.resolve("opq/old"), "old\n");
    Files.createSymbolicLink(root.resolve("link"), Path.of("etc/changed.conf"));
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.toList()) {
        if (!Files.isSymbolicLink(p)) {
          Files.setAttribute(p, "unix:mode", Files.isDirectory(p) ? 0755 : 0644);
        }
      }
    }
    touchAll(root);
    return root;
  }

  private static void touchAll(Path root) throws Exception {
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = new ArrayList<>(s.toList());
    }
    // deepest first: setting a child's time does not touch its directory's
    for (int i = all.size() - 1; i >= 0; i--) {
      setMtime(all.get(i), T0);
    }
  }

  private static void setMtime(Path p, long seconds) throws Exception {
    Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .setTimes(FileTime.fromMillis(seconds * 1000), null, null);
  }

  private Image importDir(Path dir, String name) {
    ImportResult r = archives.importRootfs(dir, name,
        ImportOptions.defaults().withCompression(Compression.GZIP).withSourceDateEpoch(EPOCH));
    return images.image(r.manifest().digest().toString());
  }

  /** {@code base} with one more (uncompressed) layer, stored and named {@code name}. */
  private Image addLayer(Image base, byte[] layerTar, String name) {
    Descriptor layer = store.put(MediaTypes.OCI_LAYER, layerTar);
    List<Digest> diffIds = new ArrayList<>(base.config().diffIds());
    diffIds.add(layer.digest());
    ImageConfig c = base.config();
    ImageConfig config = new ImageConfig(c.created(), c.author(), c.architecture(), c.os(), c.variant(), c.config(),
        ImageConfig.RootFs.layers(diffIds), c.history());
    Descriptor configBlob = store.put(MediaTypes.OCI_CONFIG, Json.canonical(config));
    List<Descriptor> layers = new ArrayList<>(base.manifest().layers());
    layers.add(layer);
    Descriptor manifest = store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(configBlob, layers)));
    images.tag(manifest, name);
    return images.image(name);
  }

  private static String sha(String s) {
    return Digest.sha256(Digest.newSha256().digest(s.getBytes(StandardCharsets.UTF_8))).toString()
        .substring("sha256:".length(), "sha256:".length() + 12);
  }
}
