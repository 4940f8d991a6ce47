package labenv.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.ImageIndex;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.layer.Compression;
import labenv.layer.UnsafeArchiveEntryException;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchivesTest {
  @TempDir Path tmp;
  private Path rootfs;
  private ImageStore images;
  private Archives archives;

  @BeforeEach
  void setUp() throws Exception {
    rootfs = Fixtures.smallRootfs(tmp.resolve("rootfs"));
    images = new ImageStore(ContentStore.open(tmp.resolve("store")));
    archives = new Archives(images);
  }

  private Archives freshStore(String name) {
    return new Archives(new ImageStore(ContentStore.open(tmp.resolve(name))));
  }

  // --- import

  @Test
  void importOfATarballKeepsItsTarStreamAsTheLayer() throws Exception {
    Path tar = Fixtures.gnuTar(rootfs, tmp.resolve("rootfs.tar"));
    ImportResult r = archives.importRootfs(tar, "lab/rootfs:1", Compression.GZIP);
    assertEquals("lab/rootfs:1", r.name());
    assertEquals(Fixtures.sha256sum(tar), r.diffId(), "diff_id is the tarball's own sha256");
    assertEquals(Files.size(tar), r.uncompressedSize());
    assertEquals(MediaTypes.OCI_LAYER_GZIP, r.layer().mediaType());
    Path blob = images.content().path(r.layer().digest());
    assertEquals(r.layer().digest(), Fixtures.sha256sum(blob));
    // gunzip gives back the tarball byte for byte
    Path unzipped = tmp.resolve("unzipped.tar");
    Files.writeString(unzipped, "");
    Fixtures.run("sh", "-c", "gzip -dc < " + blob + " > " + unzipped);
    assertArrayEquals(Files.readAllBytes(tar), Files.readAllBytes(unzipped));

    Image image = images.image("lab/rootfs:1");
    assertEquals(r.manifest().digest(), image.descriptor().digest());
    assertEquals(r.config(), image.manifest().config().digest());
    assertEquals(List.of(r.diffId()), image.config().diffIds());
    assertEquals("linux", image.config().os());
    assertEquals("1970-01-01T00:00:00Z", image.config().created());
    assertEquals(1, image.config().history().size());
  }

  @Test
  void theSameTarballGivesTheSameImageWhateverItsCompression() throws Exception {
    Path tar = Fixtures.gnuTar(rootfs, tmp.resolve("rootfs.tar"));
    Fixtures.run("sh", "-c", "gzip -9 -c " + tar + " > " + tar + ".gz && zstd -q -19 -c " + tar + " > " + tar
        + ".zst && xz -c " + tar + " > " + tar + ".xz");
    ImportResult plain = archives.importRootfs(tar, "a", Compression.ZSTD);
    ImportResult gz = freshStore("s2").importRootfs(Path.of(tar + ".gz"), "a", Compression.ZSTD);
    ImportResult zst = freshStore("s3").importRootfs(Path.of(tar + ".zst"), "a", Compression.ZSTD);
    ImportResult xz = freshStore("s4").importRootfs(Path.of(tar + ".xz"), "a", Compression.ZSTD);
    assertEquals(plain.manifest(), gz.manifest());
    assertEquals(plain.manifest(), zst.manifest());
    assertEquals(plain.manifest(), xz.manifest());
    assertEquals(MediaTypes.OCI_LAYER_ZSTD, plain.layer().mediaType());
    ImportResult none = freshStore("s5").importRootfs(tar, "a", Compression.NONE);
    assertEquals(none.diffId(), none.layer().digest(), "an uncompressed layer is its own diff");
    assertEquals(plain.diffId(), none.diffId());
    ImportResult later = freshStore("s6").importRootfs(tar, "a",
        ImportOptions.defaults().withCompression(Compression.NONE).withSourceDateEpoch(1_700_000_000));
    assertNotEquals(none.manifest().digest(), later.manifest().digest(), "created is part of the image");
  }

  @Test
  void importOfADirectoryIsDeterministic() throws Exception {
    ImportResult a = archives.importRootfs(rootfs, "dir:1", Compression.GZIP);
    Files.setLastModifiedTime(rootfs.resolve("etc/hostname"), java.nio.file.attribute.FileTime.fromMillis(12345));
    ImportResult b = freshStore("other").importRootfs(rootfs, "dir:1", Compression.GZIP);
    assertEquals(a.manifest(), b.manifest());
    // GNU tar lists what labenv packed
    Path blob = images.content().path(a.layer().digest());
    List<String> names = Fixtures.lines(Fixtures.run("tar", "-tzf", blob.toString()));
    assertTrue(names.contains("usr/share/doc/x/blob.bin"), names.toString());
    assertTrue(names.contains("bin/sh"), names.toString());
  }

  @Test
  void importRefusesHostileEntriesAndLeavesTheStoreAlone() throws Exception {
    archives.importRootfs(rootfs, "before:1", Compression.GZIP);
    Map<String, String> before = Fixtures.snapshot(images.content().root());
    for (String evil : List.of("../escape", "/etc/passwd", "a/../../b")) {
      Path tar = tmp.resolve("evil.tar");
      try (OutputStream out = Files.newOutputStream(tar);
           TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
        TarArchiveEntry ok = new TarArchiveEntry("ok.txt");
        ok.setSize(2);
        t.putArchiveEntry(ok);
        t.write("ok".getBytes(StandardCharsets.UTF_8));
        t.closeArchiveEntry();
        TarArchiveEntry e = new TarArchiveEntry(evil, true);
        e.setSize(1);
        t.putArchiveEntry(e);
        t.write('x');
        t.closeArchiveEntry();
      }
      LabenvException x = assertThrows(LabenvException.class, () -> archives.importRootfs(tar, "evil:1",
          Compression.GZIP));
      assertEquals(2, x.exitCode(), x.getMessage());
      assertTrue(x.getMessage().startsWith("import " + tar + ": layer evil.tar: entry \"" + evil + "\": "),
          x.getMessage());
      assertInstanceOf(UnsafeArchiveEntryException.class, x.getCause());
      assertEquals(before, Fixtures.snapshot(images.content().root()), "store unchanged after " + evil);
    }
    Path tar = Fixtures.gnuTar(rootfs, tmp.resolve("good.tar"));
    Fixtures.run("sh", "-c", "gzip -c " + tar + " | head -c 3000 > " + tar + ".gz");
    LabenvException cut = assertThrows(LabenvException.class, () -> archives.importRootfs(Path.of(tar + ".gz"),
        "cut:1", Compression.GZIP));
    assertEquals(2, cut.exitCode(), cut.getMessage());
    assertTrue(cut.getMessage().startsWith("import " + tar + ".gz: truncated gzip stream"), cut.getMessage());
    assertEquals(before, Fixtures.snapshot(images.content().root()));
    LabenvException missing = assertThrows(LabenvException.class, () -> archives.load(tmp.resolve("nope.tar")));
    assertEquals("load " + tmp.resolve("nope.tar") + ": no such file or directory", missing.getMessage());
    assertEquals(1, missing.exitCode());
    LabenvException bad = assertThrows(LabenvException.class, () -> archives.importRootfs(rootfs, "Bad Name",
        Compression.GZIP));
    assertEquals(2, bad.exitCode());
    assertTrue(bad.getMessage().contains("invalid reference \"Bad Name\""), bad.getMessage());
    assertEquals(before, Fixtures.snapshot(images.content().root()));
  }

  // --- save and load round trips

  @Test
  void ociRoundTripKeepsTheManifestDigestAndName() throws Exception {
    ImportResult r = archives.importRootfs(rootfs, "lab/app:2", Compression.ZSTD);
    Path out = tmp.resolve("app.oci.tar");
    SaveResult saved = archives.save(List.of("lab/app:2"), out, Archives.Format.OCI);
    assertEquals(Files.size(out), saved.size());
    List<String> names = Fixtures.lines(Fixtures.run("tar", "-tvf", out.toString()));
    assertTrue(names.stream().allMatch(l -> l.contains(" 0/0 ")), names.toString());
    JsonNode index = Json.tree(Fixtures.run("tar", "-xOf", out.toString(), "index.json")
        .getBytes(StandardCharsets.UTF_8), "index.json");
    JsonNode entry = index.get("manifests").get(0);
    assertEquals(r.manifest().digest().toString(), entry.get("digest").asText());
    assertEquals("2", entry.get("annotations").get("org.opencontainers.image.ref.name").asText());
    assertEquals("docker.io/lab/app:2", entry.get("annotations").get("io.containerd.image.name").asText());

    Archives other = freshStore("other");
    LoadResult loaded = other.load(out);
    assertEquals(ArchiveKind.OCI_ARCHIVE, loaded.kind());
    assertEquals(1, loaded.images().size());
    assertEquals(r.manifest().digest(), loaded.images().get(0).descriptor().digest());
    assertEquals(List.of("lab/app:2"), loaded.images().get(0).names());
    assertEquals(3, loaded.blobsAdded());
    ImageStore otherImages = new ImageStore(ContentStore.open(tmp.resolve("other")));
    assertEquals(r.manifest().digest(), otherImages.resolve("lab/app:2").digest());
    var fsck = otherImages.fsck();
    assertTrue(fsck.ok() && fsck.notes().isEmpty(), fsck.toString());

    // Loading again adds nothing and names the same image.
    LoadResult again = other.load(out);
    assertEquals(0, again.blobsAdded());
  }

  @Test
  void savingTwiceGivesTheSameBytes() throws Exception {
    archives.importRootfs(rootfs, "a:1", Compression.GZIP);
    archives.importRootfs(Fixtures.gnuTar(rootfs, tmp.resolve("r.tar")), "b:1", Compression.ZSTD);
    for (Archives.Format f : Archives.Format.values()) {
      Path one = tmp.resolve("one-" + f);
      Path two = tmp.resolve("two-" + f);
      archives.save(List.of("a:1", "b:1"), one, f);
      archives.save(List.of("a:1", "b:1"), two, f);
      assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(two), f.toString());
    }
    try (var files = Files.list(tmp)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no temporary files left");
    }
  }

  @Test
  void dockerRoundTripKeepsTheImageIdAndDiffIds() throws Exception {
    ImportResult r = archives.importRootfs(rootfs, "lab/app:3", Compression.GZIP);
    archives.importRootfs(rootfs, "lab/app:latest", Compression.GZIP);
    Path out = tmp.resolve("app.docker.tar");
    archives.save(List.of("lab/app:3", "lab/app"), out, Archives.Format.DOCKER);

    // What GNU tar sees: Docker's layout, layers uncompressed under their diff_ids.
    Path x = Files.createDirectory(tmp.resolve("x"));
    Fixtures.run("tar", "-C", x.toString(), "-xf", out.toString());
    JsonNode manifest = Json.tree(Files.readAllBytes(x.resolve("manifest.json")), "manifest.json");
    assertEquals(1, manifest.size(), "two names of one image are one entry");
    assertEquals(r.config().hex() + ".json", manifest.get(0).get("Config").asText());
    assertEquals(List.of("docker.io/lab/app:3", "docker.io/lab/app:latest"),
        List.of(manifest.get(0).get("RepoTags").get(0).asText(), manifest.get(0).get("RepoTags").get(1).asText()));
    String layer = manifest.get(0).get("Layers").get(0).asText();
    assertEquals(r.diffId().hex() + "/layer.tar", layer);
    assertEquals(r.diffId(), Fixtures.sha256sum(x.resolve(layer)));
    assertEquals(r.config(), Fixtures.sha256sum(x.resolve(r.config().hex() + ".json")));
    JsonNode repositories = Json.tree(Files.readAllBytes(x.resolve("repositories")), "repositories");
    assertEquals(r.diffId().hex(), repositories.get("lab/app").get("3").asText());

    Archives other = freshStore("other");
    LoadResult loaded = other.load(out);
    assertEquals(ArchiveKind.DOCKER_ARCHIVE, loaded.kind());
    ImageStore otherImages = new ImageStore(ContentStore.open(tmp.resolve("other")));
    Image image = otherImages.image("lab/app:3");
    assertEquals(r.config(), image.manifest().config().digest(), "the image ID survives");
    assertEquals(List.of(r.diffId()), image.config().diffIds());
    assertEquals(MediaTypes.OCI_LAYER, image.manifest().layers().get(0).mediaType());
    assertEquals(r.diffId(), image.manifest().layers().get(0).digest());
    assertEquals(image.descriptor().digest(), otherImages.resolve("lab/app:latest").digest());

    // The layout directory GNU tar unpacked loads the same (docker-archives are read as tars only,
    // but an extracted oci-archive is a layout directory).
    Path ociOut = tmp.resolve("o.tar");
    other.save(List.of("lab/app:3"), ociOut, Archives.Format.OCI);
    Path layout = Files.createDirectory(tmp.resolve("layout"));
    Fixtures.run("tar", "-C", layout.toString(), "-xf", ociOut.toString());
    LoadResult fromDir = freshStore("third").load(layout);
    assertEquals(ArchiveKind.OCI_LAYOUT, fromDir.kind());
    assertEquals(image.descriptor().digest(), fromDir.images().get(0).descriptor().digest());
  }

  @Test
  void loadsArchivesCompressedAsAWhole() throws Exception {
    ImportResult r = archives.importRootfs(rootfs, "z:1", Compression.GZIP);
    Path out = tmp.resolve("z.tar");
    archives.save(List.of("z:1"), out, Archives.Format.OCI);
    Fixtures.run("sh", "-c", "gzip -c " + out + " > " + out + ".gz && zstd -q -c " + out + " > " + out + ".zst");
    assertEquals(r.manifest().digest(), freshStore("g").load(Path.of(out + ".gz")).images().get(0).descriptor()
        .digest());
    assertEquals(r.manifest().digest(), freshStore("z").load(Path.of(out + ".zst")).images().get(0).descriptor()
        .digest());
  }

  @Test
  void loadsPodmanStyleDockerArchivesWithLinkedAndCompressedLayers() throws Exception {
    // podman save writes <diffid>.tar and links <id>/layer.tar to it; some tools gzip the layers.
    Path plainTar = Fixtures.gnuTar(rootfs, tmp.resolve("l1.tar"));
    Path second = Files.createDirectories(tmp.resolve("second/etc"));
    Files.writeString(second.resolve("motd"), "hello\n");
    Path secondTar = Fixtures.gnuTar(tmp.resolve("second"), tmp.resolve("l2.tar"));
    Digest d1 = Fixtures.sha256sum(plainTar);
    Digest d2 = Fixtures.sha256sum(secondTar);
    Path a = Files.createDirectory(tmp.resolve("a"));
    Files.copy(plainTar, a.resolve(d1.hex() + ".tar"));
    Files.createDirectory(a.resolve("0123"));
    Files.createSymbolicLink(a.resolve("0123/layer.tar"), Path.of("../" + d1.hex() + ".tar"));
    Fixtures.run("sh", "-c", "gzip -n -c " + secondTar + " > " + a.resolve("second.tar.gz"));
    ImageConfig config = new ImageConfig("2024-01-01T00:00:00Z", null, "amd64", "linux", null, null,
        ImageConfig.RootFs.layers(List.of(d1, d2)), null);
    byte[] configBytes = Json.pretty(config).getBytes(StandardCharsets.UTF_8);
    Digest configDigest = Digest.of(configBytes);
    Files.write(a.resolve(configDigest.hex() + ".json"), configBytes);
    Files.writeString(a.resolve("manifest.json"), "[{\"Config\":\"" + configDigest.hex() + ".json\","
        + "\"RepoTags\":[\"localhost/podman/made:7\"],\"Layers\":[\"0123/layer.tar\",\"second.tar.gz\"]}]");
    Path archive = Fixtures.gnuTar(a, tmp.resolve("podman-style.tar"));

    LoadResult loaded = archives.load(archive);
    assertEquals(List.of("localhost/podman/made:7"), loaded.images().get(0).names());
    Image image = images.image("localhost/podman/made:7");
    assertEquals(configDigest, image.manifest().config().digest());
    assertArrayEquals(configBytes, image.rawConfig(), "the config keeps its bytes");
    assertEquals(List.of(d1, d2), image.config().diffIds());
    assertEquals(MediaTypes.OCI_LAYER, image.manifest().layers().get(0).mediaType());
    assertEquals(MediaTypes.OCI_LAYER_GZIP, image.manifest().layers().get(1).mediaType());
    assertEquals(Fixtures.sha256sum(a.resolve("second.tar.gz")), image.manifest().layers().get(1).digest());
  }

  @Test
  void loadsDocker25Archives() throws Exception {
    // Docker 25+ writes an OCI layout and a manifest.json over the same blobs/sha256/ files.
    Path tar = Fixtures.gnuTar(rootfs, tmp.resolve("layer.tar"));
    Digest diffId = Fixtures.sha256sum(tar);
    Path d = Files.createDirectories(tmp.resolve("d25/blobs/sha256")).getParent().getParent();
    Files.copy(tar, d.resolve("blobs/sha256/" + diffId.hex()));
    byte[] config = Json.canonical(new ImageConfig("2024-01-01T00:00:00Z", null, "amd64", "linux", null, null,
        ImageConfig.RootFs.layers(List.of(diffId)), null));
    Digest configDigest = Digest.of(config);
    Files.write(d.resolve("blobs/sha256/" + configDigest.hex()), config);
    byte[] manifest = Json.canonical(Manifest.oci(Descriptor.of(MediaTypes.OCI_CONFIG, configDigest, config.length),
        List.of(Descriptor.of(MediaTypes.OCI_LAYER, diffId, Files.size(tar)))));
    Digest manifestDigest = Digest.of(manifest);
    Files.write(d.resolve("blobs/sha256/" + manifestDigest.hex()), manifest);
    Files.writeString(d.resolve("manifest.json"), "[{\"Config\":\"blobs/sha256/" + configDigest.hex()
        + "\",\"RepoTags\":[\"app:1\"],\"Layers\":[\"blobs/sha256/" + diffId.hex() + "\"]}]");
    Path dockerOnly = Fixtures.gnuTar(d, tmp.resolve("docker-only.tar"));
    Files.writeString(d.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    Files.write(d.resolve("index.json"), Json.canonical(ImageIndex.oci(List.of(Descriptor.of(MediaTypes.OCI_MANIFEST,
        manifestDigest, manifest.length).withAnnotations(Map.of("io.containerd.image.name", "docker.io/library/app:1",
        "org.opencontainers.image.ref.name", "1"))))));
    Path both = Fixtures.gnuTar(d, tmp.resolve("docker25.tar"));

    LoadResult viaIndex = archives.load(both);
    assertEquals(ArchiveKind.OCI_ARCHIVE, viaIndex.kind(), "the OCI index wins: it keeps the manifest digest");
    assertEquals(manifestDigest, viaIndex.images().get(0).descriptor().digest());
    assertEquals(List.of("app:1"), viaIndex.images().get(0).names());

    LoadResult viaManifest = freshStore("other").load(dockerOnly);
    assertEquals(ArchiveKind.DOCKER_ARCHIVE, viaManifest.kind());
    assertEquals(List.of("app:1"), viaManifest.images().get(0).names());
    Image image = new ImageStore(ContentStore.open(tmp.resolve("other"))).image("app:1");
    assertEquals(configDigest, image.manifest().config().digest());
    assertEquals(diffId, image.manifest().layers().get(0).digest());
    assertEquals(manifestDigest, image.descriptor().digest(), "our conversion writes the manifest Docker wrote");

    // A blobs/sha256/ name that its bytes do not hash to is refused.
    Files.writeString(d.resolve("blobs/sha256/" + configDigest.hex()), "{}");
    Files.delete(d.resolve("index.json"));
    refused(Fixtures.gnuTar(d, tmp.resolve("bad25.tar")), "config " + configDigest + ": digest mismatch (got "
        + Digest.of("{}".getBytes(StandardCharsets.UTF_8)) + ")");
  }

  @Test
  void concurrentLoadsOfTheSameArchiveBothSucceed() throws Exception {
    ImportResult r = archives.importRootfs(rootfs, "c:1", Compression.GZIP);
    Path out = tmp.resolve("c.tar");
    archives.save(List.of("c:1"), out, Archives.Format.OCI);
    ImageStore target = new ImageStore(ContentStore.open(tmp.resolve("target")));
    var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<LoadResult>> runs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        runs.add(pool.submit(() -> new Archives(target).load(out)));
      }
      int added = 0;
      for (var f : runs) {
        LoadResult l = f.get();
        assertEquals(r.manifest().digest(), l.images().get(0).descriptor().digest());
        added += l.blobsAdded();
      }
      assertTrue(added >= 3, "every blob was added by someone: " + added);
    } finally {
      pool.shutdown();
    }
    var fsck = target.fsck();
    assertTrue(fsck.ok() && fsck.notes().isEmpty(), fsck.toString());
    assertFalse(Files.exists(target.content().root().resolve(Archives.INGEST_DIR)), "no staging left behind");
  }

  @Test
  void removesStagingThatAKilledLoadLeftBehind() throws Exception {
    Path dead = Files.createDirectories(images.content().root().resolve(Archives.INGEST_DIR).resolve("load-dead"));
    Files.writeString(dead.resolve(".lock"), "");
    Files.writeString(dead.resolve("0"), "half a layer");
    archives.importRootfs(rootfs, "after:1", Compression.GZIP);
    assertFalse(Files.exists(dead), "a staging directory nobody holds is removed");
    assertFalse(Files.exists(images.content().root().resolve(Archives.INGEST_DIR)));
  }

  // --- bad input: a one-line error, exit 2, and the store exactly as it was

  /** An extracted oci-archive of one image, for tests to damage and tar up again. */
  private record Layout(Path dir, ImportResult image) {
    Path blob(Digest d) {
      return dir.resolve("blobs/sha256/" + d.hex());
    }
  }

  private Layout layout() throws Exception {
    ImportResult r = archives.importRootfs(rootfs, "good:1", Compression.GZIP);
    Path out = tmp.resolve("good.tar");
    archives.save(List.of("good:1"), out, Archives.Format.OCI);
    Path dir = Files.createDirectory(tmp.resolve("layout-" + System.nanoTime()));
    Fixtures.run("tar", "-C", dir.toString(), "-xf", out.toString());
    Fixtures.run("chmod", "-R", "u+w", dir.toString());
    return new Layout(dir, r);
  }

  /** Loads {@code input} into the test's store; asserts bad input, the message, and an unchanged store. */
  private String refused(Path input, String expectedMessage) throws Exception {
    Map<String, String> before = Fixtures.snapshot(images.content().root());
    LabenvException e = assertThrows(LabenvException.class, () -> archives.load(input));
    assertEquals(2, e.exitCode(), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    assertTrue(e.getMessage().startsWith("load " + input + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(expectedMessage), "want \"" + expectedMessage + "\" in: " + e.getMessage());
    assertEquals(before, Fixtures.snapshot(images.content().root()), "store unchanged");
    return e.getMessage();
  }

  private Path tarOf(Path dir, String name) throws Exception {
    return Fixtures.gnuTar(dir, tmp.resolve(name));
  }

  @Test
  void refusesATruncatedArchive() throws Exception {
    Layout l = layout();
    Path good = tarOf(l.dir(), "full.tar");
    byte[] all = Files.readAllBytes(good);
    // Cut in the middle of the layer, the largest blob.
    Path cut = tmp.resolve("cut.tar");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    refused(cut, "truncated archive at entry \"./blobs/sha256/");
    // Cut at an entry boundary: complete entries, but no end-of-archive marker.
    String listing = Fixtures.run("tar", "--block-number", "-tvf", good.toString());
    String last = Fixtures.lines(listing).get(Fixtures.lines(listing).size() - 1);
    long block = Long.parseLong(last.substring(last.indexOf("block ") + 6, last.indexOf(':')));
    Path boundary = tmp.resolve("boundary.tar");
    Files.write(boundary, java.util.Arrays.copyOf(all, (int) (block * 512)));
    refused(boundary, "truncated archive after entry");
    // And a compressed archive cut short.
    Path gz = tmp.resolve("full.tar.gz");
    Fixtures.run("sh", "-c", "gzip -c " + good + " > " + gz);
    byte[] zipped = Files.readAllBytes(gz);
    Files.write(tmp.resolve("cut.tar.gz"), java.util.Arrays.copyOf(zipped, zipped.length - 100));
    refused(tmp.resolve("cut.tar.gz"), "truncated archive at entry \"./");
  }

  @Test
  void refusesAFlippedByteInALayer() throws Exception {
    Layout l = layout();
    Path layer = l.blob(l.image().layer().digest());
    byte[] b = Files.readAllBytes(layer);
    b[b.length / 2] ^= 0x40;
    Files.write(layer, b);
    String msg = refused(tarOf(l.dir(), "flipped.tar"), "layer " + l.image().layer().digest()
        + ": digest mismatch (got sha256:");
    assertTrue(msg.endsWith(Digest.of(b) + ")"), msg);
    // The same damage in a layout directory.
    refused(l.dir(), "layer " + l.image().layer().digest() + ": digest mismatch (got " + Digest.of(b) + ")");
  }

  @Test
  void refusesAManifestThatPointsAtAMissingBlob() throws Exception {
    Layout l = layout();
    Files.delete(l.blob(l.image().layer().digest()));
    refused(tarOf(l.dir(), "missing.tar"), "manifest " + l.image().manifest().digest()
        + " references missing blob " + l.image().layer().digest());
  }

  @Test
  void refusesBrokenJson() throws Exception {
    Layout l = layout();
    Files.writeString(l.dir().resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[");
    refused(tarOf(l.dir(), "broken.tar"), "index.json: invalid JSON");
    Path garbage = tmp.resolve("garbage.tar");
    Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    refused(garbage, "not an image archive");
    Path empty = Files.createFile(tmp.resolve("empty.tar"));
    refused(empty, "not an image archive (empty file)");
    Path other = Files.createDirectories(tmp.resolve("plain/dir"));
    Files.writeString(other.resolve("readme"), "hi");
    refused(tarOf(tmp.resolve("plain"), "plain.tar"), "not an image archive (no index.json or manifest.json)");
  }

  /** Rewrites the image's manifest in the layout with {@code change} and points index.json at the result. */
  private Path withManifest(Layout l, Consumer<ObjectNode> change, String name) throws Exception {
    Path old = l.blob(l.image().manifest().digest());
    ObjectNode m = (ObjectNode) Json.tree(Files.readAllBytes(old), "manifest");
    change.accept(m);
    byte[] bytes = Json.mapper().writeValueAsBytes(m);
    Digest d = Digest.of(bytes);
    Files.write(l.blob(d), bytes);
    ImageIndex index = Json.parse(Files.readAllBytes(l.dir().resolve("index.json")), ImageIndex.class, "index");
    Descriptor top = index.manifests().get(0);
    Descriptor moved = new Descriptor(top.mediaType(), d, bytes.length, null, top.annotations(), null, null);
    Files.write(l.dir().resolve("index.json"), Json.canonical(ImageIndex.oci(List.of(moved))));
    return tarOf(l.dir(), name);
  }

  @Test
  void refusesUnknownMediaTypes() throws Exception {
    Layout l = layout();
    Path layerType = withManifest(l, m -> ((ObjectNode) m.get("layers").get(0)).put("mediaType",
        "application/x-mystery"), "mystery-layer.tar");
    refused(layerType, "layer " + l.image().layer().digest() + " has unknown media type \"application/x-mystery\"");
    Layout l2 = layout();
    Path configType = withManifest(l2, m -> ((ObjectNode) m.get("config")).put("mediaType", "text/plain"),
        "mystery-config.tar");
    refused(configType, "has unknown media type \"text/plain\"");
    Layout l3 = layout();
    String index = Files.readString(l3.dir().resolve("index.json"));
    Files.writeString(l3.dir().resolve("index.json"), index.replace(MediaTypes.OCI_MANIFEST, "application/x-nope"));
    refused(tarOf(l3.dir(), "mystery-manifest.tar"), "index.json: manifest " + l3.image().manifest().digest()
        + " has unknown media type \"application/x-nope\"");
  }

  @Test
  void refusesSizeMismatchesAndDiffIdCounts() throws Exception {
    Layout l = layout();
    long size = l.image().layer().size();
    Path wrongSize = withManifest(l, m -> ((ObjectNode) m.get("layers").get(0)).put("size", size + 1),
        "size.tar");
    refused(wrongSize, "layer " + l.image().layer().digest() + ": size mismatch (manifest sha256:");
    Layout l2 = layout();
    Path twice = withManifest(l2, m -> ((com.fasterxml.jackson.databind.node.ArrayNode) m.get("layers"))
        .add(m.get("layers").get(0).deepCopy()), "twice.tar");
    refused(twice, "1 diff_ids for 2 layers");
  }

  @Test
  void refusesInvalidNamesAndDockerLayersThatAreNotTheirDiffIds() throws Exception {
    Layout l = layout();
    String index = Files.readString(l.dir().resolve("index.json"));
    Files.writeString(l.dir().resolve("index.json"), index.replace("docker.io/library/good:1", "UPPER/Case:1"));
    refused(tarOf(l.dir(), "badname.tar"), "invalid reference \"UPPER/Case:1\"");

    archives.importRootfs(rootfs, "dock:1", Compression.NONE);
    Path out = tmp.resolve("dock.tar");
    archives.save(List.of("dock:1"), out, Archives.Format.DOCKER);
    Path x = Files.createDirectory(tmp.resolve("dock"));
    Fixtures.run("tar", "-C", x.toString(), "-xf", out.toString());
    Fixtures.run("chmod", "-R", "u+w", x.toString());
    JsonNode manifest = Json.tree(Files.readAllBytes(x.resolve("manifest.json")), "manifest.json");
    Path layer = x.resolve(manifest.get(0).get("Layers").get(0).asText());
    byte[] b = Files.readAllBytes(layer);
    b[700] ^= 1;
    Files.write(layer, b);
    refused(tarOf(x, "dock-flipped.tar"), "diff_id mismatch (config sha256:");
    Files.delete(layer);
    refused(tarOf(x, "dock-missing.tar"), "manifest.json[0] references missing layer \"");
  }

  @Test
  void reportsImagesWithoutNamesAndKeepsThem() throws Exception {
    ImportResult r = archives.importRootfs(rootfs, "named:1", Compression.GZIP);
    Path out = tmp.resolve("byid.tar");
    archives.save(List.of(r.manifest().digest().toString()), out, Archives.Format.OCI);
    Archives other = freshStore("other");
    LoadResult loaded = other.load(out);
    assertFalse(loaded.images().get(0).named());
    ImageStore otherImages = new ImageStore(ContentStore.open(tmp.resolve("other")));
    assertEquals(r.manifest().digest(), otherImages.resolve(r.manifest().digest().toString()).digest());
    assertEquals(0, otherImages.prune().deleted().size(), "an unnamed loaded image survives prune");
  }

  @Test
  void saveFailsCleanlyForAnUnknownImage() {
    Path out = tmp.resolve("none.tar");
    LabenvException e = assertThrows(LabenvException.class, () -> archives.save(List.of("nope:1"), out,
        Archives.Format.OCI));
    assertEquals(1, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().startsWith("save " + out + ": "), e.getMessage());
    assertFalse(Files.exists(out));
    archives.importRootfs(rootfs, "real:1", Compression.GZIP);
    Path nowhere = tmp.resolve("no/such/dir/x.tar");
    LabenvException n = assertThrows(LabenvException.class, () -> archives.save(List.of("real:1"), nowhere,
        Archives.Format.DOCKER));
    assertEquals("save " + nowhere + ": no such directory " + nowhere.getParent(), n.getMessage());
  }

  static List<String> names(LoadResult r) {
    List<String> out = new ArrayList<>();
    r.images().forEach(i -> out.addAll(i.names()));
    return out;
  }
}
