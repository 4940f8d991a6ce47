package labenv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageIndex;
import labenv.image.ImageReference;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageStoreTest {
  private static final String CREATED = "2024-05-01T12:00:00Z";

  @TempDir Path tmp;
  private final Random rnd = new Random(7);
  private ContentStore store;
  private ImageStore images;

  @BeforeEach
  void open() {
    store = ContentStore.open(tmp.resolve("store"));
    images = new ImageStore(store);
  }

  private Descriptor newImage(byte[]... layers) {
    return TestImages.image(store, List.of(layers), CREATED);
  }

  private byte[] layer(int size) {
    return TestImages.random(rnd, size);
  }

  private Set<String> blobFiles() throws Exception {
    try (var s = Files.list(store.root().resolve("blobs/sha256"))) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  @Test
  void tagThenResolveByNameDigestAndPrefix() {
    Descriptor m = newImage(layer(1000));
    images.tag(m, "busybox");
    images.tag(m, "localhost:5000/team/app:1");

    assertEquals(m, images.resolve("busybox"));
    assertEquals(m, images.resolve("busybox:latest"));
    assertEquals(m, images.resolve("docker.io/library/busybox:latest"));
    assertEquals(m, images.resolve("localhost:5000/team/app:1"));
    assertEquals(m, images.resolve(m.digest().toString()));
    assertEquals(m, images.resolve(m.digest().hex()));
    assertEquals(m, images.resolve(m.digest().hex().substring(0, 4)));
    assertEquals(m, images.resolve("sha256:" + m.digest().hex().substring(0, 10)));
    assertEquals(m, images.resolve("busybox@" + m.digest()));

    ImageNotFoundException nf = assertThrows(ImageNotFoundException.class, () -> images.resolve("busybox:1.36"));
    assertEquals("image \"busybox:1.36\" not found", nf.getMessage());
    assertEquals(LabenvException.Kind.FAILED, nf.kind());
    // Three hex digits are a name, not a prefix.
    assertThrows(ImageNotFoundException.class, () -> images.resolve(m.digest().hex().substring(0, 3)));
    assertThrows(ImageNotFoundException.class, () -> images.resolve("sha256:" + "0".repeat(64)));
    // Another repository does not match name@digest.
    assertThrows(ImageNotFoundException.class, () -> images.resolve("alpine@" + m.digest()));
    LabenvException bad = assertThrows(ImageReference.InvalidReferenceException.class, () -> images.resolve("Bad/Name:x!"));
    assertEquals(LabenvException.Kind.BAD_INPUT, bad.kind());

    // index.json holds the familiar names as OCI ref.name annotations, one descriptor per name.
    List<String> names = store.index().manifests().stream().map(d -> d.annotation(ImageStore.REF_NAME)).toList();
    assertEquals(List.of("busybox:latest", "localhost:5000/team/app:1"), names);
  }

  @Test
  void anAmbiguousPrefixListsTheCandidates() {
    // Find two manifests whose digests share four hex digits (computed, not stored, until found).
    Descriptor config = store.put(MediaTypes.OCI_CONFIG,
        Json.canonical(TestImages.config(List.of(), CREATED)));
    Map<String, byte[]> byPrefix = new HashMap<>();
    byte[] first = null;
    byte[] second = null;
    for (int i = 0; first == null; i++) {
      byte[] m = Json.canonical(new Manifest(2, MediaTypes.OCI_MANIFEST, null, config, List.of(), null,
          Map.of("n", Integer.toString(i))));
      String prefix = Digest.of(m).hex().substring(0, 4);
      if (byPrefix.containsKey(prefix)) {
        first = byPrefix.get(prefix);
        second = m;
      }
      byPrefix.put(prefix, m);
    }
    Descriptor a = store.put(MediaTypes.OCI_MANIFEST, first);
    Descriptor b = store.put(MediaTypes.OCI_MANIFEST, second);
    images.tag(a, "a");
    images.tag(b, "b:2");
    String prefix = a.digest().hex().substring(0, 4);
    AmbiguousImageException e = assertThrows(AmbiguousImageException.class, () -> images.resolve(prefix));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith("image ID prefix \"" + prefix + "\" is ambiguous: it matches "), e.getMessage());
    assertTrue(e.getMessage().contains("sha256:" + a.digest().shortHex() + " (a:latest)"), e.getMessage());
    assertTrue(e.getMessage().contains("sha256:" + b.digest().shortHex() + " (b:2)"), e.getMessage());
    // A longer prefix decides.
    int common = 4;
    while (a.digest().hex().charAt(common) == b.digest().hex().charAt(common)) {
      common++;
    }
    assertEquals(a, images.resolve(a.digest().hex().substring(0, common + 1)));
    assertEquals(b, images.resolve(b.digest().hex().substring(0, common + 1)));
    // rmi with an ambiguous prefix changes nothing.
    assertThrows(AmbiguousImageException.class, () -> images.remove(prefix));
    assertEquals(2, images.list().size());
  }

  @Test
  void retaggingMovesTheNameAndOneManifestMayHaveManyNames() throws Exception {
    Descriptor a = newImage(layer(100));
    Descriptor b = newImage(layer(200));
    images.tag(a, "app:1");
    images.tag(a, "app:stable");
    images.tag(b, "other");
    images.tag(b, "app:1"); // moves app:1 from a to b

    assertEquals(b, images.resolve("app:1"));
    List<ImageRecord> list = images.list();
    assertEquals(2, list.size());
    // The moved name keeps its place in index.json, so b is listed first.
    assertEquals(b, list.get(0).manifest());
    assertEquals(List.of("app:1", "other:latest"), list.get(0).names());
    assertEquals(a, list.get(1).manifest());
    assertEquals(List.of("app:stable"), list.get(1).names());
    long named = store.index().manifests().stream().filter(d -> "app:1".equals(d.annotation(ImageStore.REF_NAME))).count();
    assertEquals(1, named);

    // Tagging the same name again changes nothing on disk.
    byte[] before = Files.readAllBytes(store.root().resolve("index.json"));
    images.tag(b, "docker.io/library/app:1");
    assertArrayEquals(before, Files.readAllBytes(store.root().resolve("index.json")));
  }

  @Test
  void listShowsCreatedAndTheSizeOfAllBlobs() throws Exception {
    Descriptor m = newImage(layer(10_000), layer(20_000));
    images.tag(m, "x");
    ImageRecord r = images.list().get(0);
    assertEquals(Instant.parse(CREATED), r.created());
    long onDisk = 0;
    for (String f : blobFiles()) {
      onDisk += Files.size(store.root().resolve("blobs/sha256").resolve(f));
    }
    assertEquals(onDisk, r.size());
  }

  @Test
  void imageLoadsAndVerifiesManifestAndConfig() {
    byte[] l = layer(500);
    Descriptor m = newImage(l);
    images.tag(m, "x");
    Image image = images.image("x");
    assertEquals(m, image.descriptor());
    assertEquals(List.of(Digest.of(l)), image.config().diffIds());
    assertEquals(image.manifest().config().digest(), Digest.of(image.rawConfig()));
    assertEquals(Platform.host().architecture(), image.platform().architecture());

    // A multi-platform index: the host's manifest is chosen, another platform is an error.
    Platform other = Platform.of("linux", Platform.host().architecture().equals("amd64") ? "arm64" : "amd64");
    ImageIndex index = ImageIndex.oci(List.of(
        Descriptor.of(MediaTypes.OCI_MANIFEST, Digest.of("absent".getBytes(StandardCharsets.UTF_8)), 6).withPlatform(other),
        m.withPlatform(Platform.host())));
    Descriptor idx = store.put(MediaTypes.OCI_INDEX, Json.canonical(index));
    images.tag(idx, "multi");
    assertEquals(m.digest(), images.image("multi").descriptor().digest());
    LabenvException e = assertThrows(LabenvException.class,
        () -> images.image(idx, Platform.of("windows", "amd64")));
    assertTrue(e.getMessage().startsWith("index " + idx.digest() + ": no manifest for platform windows/amd64"), e.getMessage());
  }

  @Test
  void tagRefusesImagesThatAreIncompleteOrBrokenAndLeavesTheIndexAlone() throws Exception {
    Path indexFile = store.root().resolve("index.json");
    byte[] before = Files.readAllBytes(indexFile);
    Descriptor config = store.put(MediaTypes.OCI_CONFIG, Json.canonical(TestImages.config(List.of(), CREATED)));
    Descriptor missingLayer = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.of(new byte[] {1}), 1);
    Descriptor m = store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(config, List.of(missingLayer))));
    LabenvException e = assertThrows(LabenvException.class, () -> images.tag(m, "incomplete"));
    assertEquals("cannot name manifest " + m.digest() + ": its layer " + missingLayer.digest() + " is not in the store",
        e.getMessage());

    Descriptor broken = store.put(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\": 2,\n \"config\": [".getBytes(StandardCharsets.UTF_8));
    LabenvException json = assertThrows(LabenvException.class, () -> images.tag(broken, "broken"));
    assertEquals(LabenvException.Kind.BAD_INPUT, json.kind());
    assertTrue(json.getMessage().startsWith("manifest " + broken.digest() + ": invalid JSON: "), json.getMessage());
    assertTrue(json.getMessage().contains("line 2"), json.getMessage());

    Descriptor layer = store.put(MediaTypes.OCI_LAYER, new byte[] {1, 2});
    assertEquals(LabenvException.Kind.BAD_INPUT,
        assertThrows(LabenvException.class, () -> images.tag(layer, "layer")).kind());
    assertEquals(LabenvException.Kind.BAD_INPUT,
        assertThrows(LabenvException.class, () -> images.tag(newImage(layer(3)), "x@" + m.digest())).kind());
    Descriptor wrongSize = new Descriptor(m.mediaType(), m.digest(), m.size() + 1, null, null, null, null);
    assertThrows(SizeMismatchException.class, () -> images.tag(wrongSize, "wrong"));
    assertArrayEquals(before, Files.readAllBytes(indexFile));
  }

  @Test
  void rmiUntagsThenDeletesOnlyBlobsNothingElseUses() throws Exception {
    byte[] shared = layer(4000);
    byte[] onlyA = layer(5000);
    byte[] onlyB = layer(6000);
    Descriptor a = newImage(shared, onlyA);
    Descriptor b = newImage(shared, onlyB);
    images.tag(a, "a:1");
    images.tag(a, "a:2");
    images.tag(b, "b");
    Set<String> allBlobs = blobFiles();

    RemoveResult r1 = images.remove("a:1");
    assertEquals(List.of("a:1"), r1.untagged());
    assertEquals(List.of(), r1.deleted(), "a:2 still names the image");
    assertEquals(allBlobs, blobFiles());

    Manifest manifestA = images.image(a, Platform.host()).manifest();
    RemoveResult r2 = images.remove("a:2");
    assertEquals(List.of("a:2"), r2.untagged());
    List<Digest> expected = List.of(a.digest(), manifestA.config().digest(), Digest.of(onlyA));
    assertEquals(expected, r2.deleted(), "manifest first, then config and the layer only a used");
    assertEquals(a.size() + manifestA.config().size() + onlyA.length, r2.bytesFreed());
    Set<String> left = new TreeSet<>(allBlobs);
    expected.forEach(d -> left.remove(d.hex()));
    assertEquals(left, blobFiles());
    assertTrue(store.has(Digest.of(shared)), "the layer b shares is kept");
    assertTrue(images.fsck().ok(), images.fsck().problems().toString());
    assertThrows(ImageNotFoundException.class, () -> images.remove("a:2"));
  }

  @Test
  void rmiByDigestRemovesEveryName() {
    Descriptor a = newImage(layer(10));
    images.tag(a, "one");
    images.tag(a, "two:x");
    RemoveResult r = images.remove(a.digest().hex().substring(0, 8));
    assertEquals(List.of("one:latest", "two:x"), r.untagged());
    assertEquals(3, r.deleted().size());
    assertEquals(List.of(), store.index().manifests());
    assertEquals(List.of(), store.blobs());
  }

  @Test
  void rmiRefusesWhenTheRemainingImagesCannotBeReadAndChangesNothing() throws Exception {
    Descriptor a = newImage(layer(10));
    Descriptor b = newImage(layer(20));
    images.tag(a, "a");
    images.tag(b, "b");
    TestImages.flipByte(store.path(b.digest()), 5);
    byte[] index = Files.readAllBytes(store.root().resolve("index.json"));
    Set<String> blobs = blobFiles();
    LabenvException e = assertThrows(LabenvException.class, () -> images.remove("a"));
    assertTrue(e.getMessage().contains("blob " + b.digest() + ": digest mismatch"), e.getMessage());
    assertTrue(e.getMessage().endsWith("; run labenv fsck"), e.getMessage());
    assertArrayEquals(index, Files.readAllBytes(store.root().resolve("index.json")));
    assertEquals(blobs, blobFiles());
    // Removing the broken image itself works: its own graph is read leniently.
    assertEquals(List.of("b:latest"), images.remove("b").untagged());
  }

  @Test
  void pruneFreesExactlyTheUnreferencedBlobsAndLeftoverTempFiles() throws Exception {
    Descriptor a = newImage(layer(3000));
    images.tag(a, "a");
    Set<String> referenced = blobFiles();
    List<Descriptor> garbage = new ArrayList<>();
    garbage.add(store.put(MediaTypes.OCI_LAYER, layer(7000)));
    garbage.add(store.put(MediaTypes.OCI_LAYER, layer(1)));
    Descriptor untagged = newImage(layer(900));
    garbage.add(untagged);
    Manifest um = images.image(untagged, Platform.host()).manifest();
    garbage.add(um.config());
    garbage.addAll(um.layers());
    Path leftover = store.root().resolve("blobs/sha256/.tmp-deadbeef");
    Files.write(leftover, new byte[123]);
    Path leftoverIndex = store.root().resolve(".tmp-index.json-cafe");
    Files.write(leftoverIndex, new byte[45]);
    long expectedBytes = 123 + 45;
    for (Descriptor g : garbage) {
      expectedBytes += Files.size(store.path(g.digest()));
    }

    FsckReport before = images.fsck();
    assertTrue(before.ok(), before.problems().toString());
    assertTrue(before.notes().stream().anyMatch(n -> n.startsWith("5 unreferenced blobs")), before.notes().toString());
    assertTrue(before.notes().stream().anyMatch(n -> n.startsWith("blobs/sha256/.tmp-deadbeef: temporary file")),
        before.notes().toString());

    PruneReport report = images.prune();
    assertEquals(garbage.stream().map(Descriptor::digest).collect(Collectors.toSet()), Set.copyOf(report.deleted()));
    assertEquals(2, report.tempFilesRemoved());
    assertEquals(expectedBytes, report.bytesFreed());
    assertEquals(referenced, blobFiles());
    assertFalse(Files.exists(leftoverIndex));
    FsckReport after = images.fsck();
    assertTrue(after.ok() && after.notes().isEmpty(), after.toString());
    assertEquals(0, images.prune().bytesFreed(), "a second prune finds nothing");
  }

  @Test
  void extraRootsSurvivePrune() {
    Descriptor kept = store.put("application/vnd.example.cache", new byte[] {9, 9});
    Descriptor dropped = store.put("application/vnd.example.cache", new byte[] {8});
    ImageStore withRoots = new ImageStore(store, List.of(() -> List.of(kept)));
    assertEquals(List.of(dropped.digest()), withRoots.prune().deleted());
    assertTrue(store.has(kept.digest()));
  }

  @Test
  void pruneWaitsForAWriterThatHasNotPublishedYet() throws Exception {
    StoreLock writing = store.lockShared();
    Descriptor m = newImage(layer(100)); // written, not yet named
    CompletableFuture<PruneReport> prune = CompletableFuture.supplyAsync(images::prune);
    assertThrows(TimeoutException.class, () -> prune.get(400, TimeUnit.MILLISECONDS));
    images.tag(m, "late");
    writing.close();
    assertEquals(List.of(), prune.get(10, TimeUnit.SECONDS).deleted());
    assertEquals(m, images.resolve("late"));
    assertTrue(images.fsck().ok());
  }

  @Test
  void fsckReportsACorruptBlobAndTheImageItBreaks() throws Exception {
    byte[] l = layer(50_000);
    Descriptor m = newImage(l);
    images.tag(m, "app:1");
    assertTrue(images.fsck().ok());
    Path file = store.path(Digest.of(l));
    TestImages.flipByte(file, 40_000);
    Digest actual = TestImages.sha256sum(file);

    FsckReport report = images.fsck();
    assertFalse(report.ok());
    assertTrue(report.problems().contains("blob " + Digest.of(l) + ": digest mismatch (got " + actual + ")"),
        report.problems().toString());
    assertTrue(report.problems().contains("manifest " + m.digest() + " (app:1): layer " + Digest.of(l)
        + " is damaged (its content does not match its digest)"), report.problems().toString());
    assertEquals(3, report.blobsChecked());
    try (InputStream in = store.open(Digest.of(l))) {
      assertThrows(DigestMismatchException.class, in::readAllBytes);
    }
  }

  @Test
  void fsckNamesTheManifestThatReferencesAMissingBlob() throws Exception {
    byte[] l = layer(700);
    Descriptor m = newImage(l);
    images.tag(m, "app:1");
    Files.delete(store.path(Digest.of(l)));
    FsckReport report = images.fsck();
    assertEquals(List.of("manifest " + m.digest() + " (app:1): layer " + Digest.of(l) + " is missing"), report.problems());
    // prune refuses nothing here (the manifest is readable); the missing layer stays missing.
    Manifest manifest = images.image(m, Platform.host()).manifest();
    Files.delete(store.path(manifest.config().digest()));
    assertTrue(images.fsck().problems().contains("manifest " + m.digest() + " (app:1): config "
        + manifest.config().digest() + " is missing"));
  }

  @Test
  void fsckReportsBrokenJsonUnknownMediaTypesWrongSizesAndStrayFiles() throws Exception {
    Descriptor good = newImage(layer(10));
    images.tag(good, "good");
    Descriptor config = images.image(good, Platform.host()).manifest().config();
    Descriptor brokenJson = store.put(MediaTypes.OCI_MANIFEST, "{\n\"schemaVersion\": 2,\n\"layers\": ]".getBytes(StandardCharsets.UTF_8));
    Descriptor odd = store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(config,
        List.of(store.put("application/x-unknown", new byte[] {1})))));
    Descriptor wrongSize = new Descriptor(MediaTypes.OCI_MANIFEST, good.digest(), good.size() + 5, null,
        Map.of(ImageStore.REF_NAME, "wrongsize:latest"), null, null);
    // Write index.json by hand, as a damaged or foreign layout might have it.
    List<Descriptor> entries = new ArrayList<>(store.index().manifests());
    entries.add(brokenJson.withAnnotations(Map.of(ImageStore.REF_NAME, "broken:latest")));
    entries.add(odd.withAnnotations(Map.of(ImageStore.REF_NAME, "odd:latest")));
    entries.add(wrongSize);
    entries.add(Descriptor.of("application/x-what", good.digest(), good.size()));
    AtomicFile.write(store.root().resolve("index.json"), Json.canonical(ImageIndex.oci(entries)));
    Files.writeString(store.root().resolve("blobs/sha256/notadigest"), "x");

    List<String> problems = images.fsck().problems();
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("manifest " + brokenJson.digest() + " (broken:latest): invalid JSON: ")
        && p.contains("line 3")), problems.toString());
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("manifest " + odd.digest() + " (odd:latest): layer ")
        && p.endsWith("unknown media type \"application/x-unknown\"")), problems.toString());
    assertTrue(problems.contains("index.json: manifests[3] (wrongsize:latest): manifest " + good.digest() + " is "
        + good.size() + " bytes, the descriptor says " + (good.size() + 5)), problems.toString());
    assertTrue(problems.contains("index.json: manifests[4]: unknown media type \"application/x-what\" (want an image manifest or index)"),
        problems.toString());
    assertTrue(problems.contains("blobs/sha256/notadigest: not a blob (the name is not a sha256 digest)"), problems.toString());
    assertEquals(5, problems.size(), problems.toString());
    problems.forEach(p -> assertFalse(p.contains("\n")));

    // prune will not guess what a broken manifest references.
    LabenvException e = assertThrows(LabenvException.class, images::prune);
    assertTrue(e.getMessage().contains("manifest " + brokenJson.digest() + ": invalid JSON"), e.getMessage());
    assertTrue(Files.exists(store.path(brokenJson.digest())));
  }

  @Test
  void brokenIndexJsonIsReportedByEveryCommandWithFileAndLine() throws Exception {
    Path indexFile = store.root().resolve("index.json");
    Files.writeString(indexFile, "{\"schemaVersion\": 2,\n\"manifests\": [,]}");
    LabenvException e = assertThrows(LabenvException.class, images::list);
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(indexFile + ": invalid JSON: ") && e.getMessage().contains("line 2"), e.getMessage());
    assertThrows(LabenvException.class, () -> images.resolve("x"));
    FsckReport report = images.fsck();
    assertEquals(1, report.problems().size());
    assertEquals(e.getMessage(), report.problems().get(0));
    assertThrows(LabenvException.class, () -> images.tag(newImage(layer(1)), "x"));
    assertEquals("{\"schemaVersion\": 2,\n\"manifests\": [,]}", Files.readString(indexFile));
  }

  @Test
  void nameInIndexIsNormalisedWhenMatching() {
    Descriptor a = newImage(layer(5));
    // A layout written by another tool may hold the fully qualified name.
    store.updateIndex(i -> ImageIndex.oci(List.of(a.withAnnotations(Map.of(ImageStore.REF_NAME,
        "docker.io/library/ubuntu:22.04")))));
    assertEquals(a, images.resolve("ubuntu:22.04"));
    assertEquals(List.of("ubuntu:22.04"), images.list().get(0).names());
    images.tag(newImage(layer(6)), "ubuntu:22.04");
    assertEquals(1, store.index().manifests().size());
    assertNotEquals(a.digest(), images.resolve("ubuntu:22.04").digest());
    assertEquals(new HashSet<>(List.of("ubuntu:22.04")),
        store.index().manifests().stream().map(d -> d.annotation(ImageStore.REF_NAME)).collect(Collectors.toSet()));
  }
}
