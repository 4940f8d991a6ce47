package labenv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageIndex;
import labenv.image.Json;
import labenv.image.MediaTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentStoreTest {
  @TempDir Path tmp;
  private final Random rnd = new Random(42);

  @Test
  void openCreatesAnOciLayoutAndReopensIt() throws Exception {
    Path root = tmp.resolve("a/b/store");
    ContentStore store = ContentStore.open(root);
    assertEquals("{\"imageLayoutVersion\":\"1.0.0\"}", Files.readString(root.resolve("oci-layout")));
    JsonNode index = Json.tree(Files.readAllBytes(root.resolve("index.json")), "index.json");
    assertEquals(2, index.get("schemaVersion").asInt());
    assertEquals(MediaTypes.OCI_INDEX, index.get("mediaType").asText());
    assertTrue(Files.isDirectory(root.resolve("blobs/sha256")));
    assertEquals(List.of(), store.index().manifests());
    try (Stream<Path> files = Files.list(root)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no temporary files left");
    }
    Descriptor d = store.put("text/plain", "x".getBytes(StandardCharsets.UTF_8));
    assertTrue(ContentStore.open(root).has(d.digest()), "reopening keeps the blobs");
  }

  @Test
  void finishesAnInitialisationThatWasInterrupted() throws Exception {
    // What a process killed between creating blobs/ and writing oci-layout leaves.
    Path root = tmp.resolve("store");
    Files.createDirectories(root.resolve("blobs/sha256"));
    Files.writeString(root.resolve(".tmp-index.json-0123"), "{");
    ContentStore.open(root);
    assertTrue(Files.exists(root.resolve("oci-layout")));
    assertEquals(2, ContentStore.open(root).index().schemaVersion());
  }

  @Test
  void refusesADirectoryThatIsNotALayout() throws Exception {
    Path home = tmp.resolve("home");
    Files.createDirectories(home.resolve("Documents"));
    Files.writeString(home.resolve("notes.txt"), "mine");
    InvalidStoreException e = assertThrows(InvalidStoreException.class, () -> ContentStore.open(home));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(home.toRealPath() + ": not an OCI image layout"), e.getMessage());
    assertTrue(e.getMessage().contains("notes.txt") || e.getMessage().contains("Documents"), e.getMessage());
    assertFalse(Files.exists(home.resolve("blobs")), "nothing created in a foreign directory");

    Path file = tmp.resolve("file");
    Files.writeString(file, "x");
    assertTrue(assertThrows(InvalidStoreException.class, () -> ContentStore.open(file)).getMessage()
        .endsWith(": not a directory, cannot hold a store"));

    Path future = tmp.resolve("future");
    Files.createDirectories(future);
    Files.writeString(future.resolve("oci-layout"), "{\"imageLayoutVersion\":\"2.0.0\"}");
    Files.writeString(future.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[]}");
    assertTrue(assertThrows(InvalidStoreException.class, () -> ContentStore.open(future)).getMessage()
        .contains("unsupported imageLayoutVersion \"2.0.0\""));
  }

  @Test
  void putStoresUnderTheDigestSha256sumComputes() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    byte[] data = TestImages.random(rnd, 100_000);
    Descriptor d = store.put(MediaTypes.OCI_LAYER, data);
    Path file = store.path(d.digest());
    assertEquals(TestImages.sha256sum(file), d.digest());
    assertEquals(store.root().resolve("blobs/sha256/" + d.digest().hex()), file);
    assertArrayEquals(data, Files.readAllBytes(file));
    assertEquals(100_000, d.size());
    assertEquals(100_000, store.size(d.digest()));
    assertTrue(store.has(d.digest()));
    assertEquals(List.of(d.digest()), store.blobs());
    assertArrayEquals(data, store.read(d, 1 << 20));
    try (InputStream in = store.open(d)) {
      assertArrayEquals(data, in.readAllBytes());
    }
  }

  @Test
  void writerIsInvisibleUntilCommittedAndVerifiesWhatItWasPromised() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    byte[] data = TestImages.random(rnd, 3 << 20);
    Path source = tmp.resolve("source");
    Files.write(source, data);
    Digest expected = TestImages.sha256sum(source);

    try (BlobWriter w = store.writer()) {
      for (int off = 0; off < data.length; off += 70_001) {
        w.write(data, off, Math.min(70_001, data.length - off));
      }
      List<Path> temps = store.tempFiles();
      assertEquals(1, temps.size());
      assertTrue(temps.get(0).getFileName().toString().startsWith(".tmp-"));
      assertEquals(store.blobDir("sha256"), temps.get(0).getParent(), "temp file is in the blob directory");
      assertFalse(store.has(expected));
      assertEquals(List.of(), store.blobs(), "a blob being written is not a blob");
      assertEquals(expected, w.commit(expected, data.length));
    }
    assertTrue(store.has(expected));
    assertEquals(List.of(), store.tempFiles());

    // Wrong digest: bad input, nothing stored, nothing left behind.
    byte[] other = TestImages.random(rnd, 1000);
    Digest wrong = Digest.of("something else".getBytes(StandardCharsets.UTF_8));
    DigestMismatchException e = assertThrows(DigestMismatchException.class, () -> {
      try (BlobWriter w = store.writer()) {
        w.write(other);
        w.commit(wrong, other.length);
      }
    });
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals("blob " + wrong + ": digest mismatch (got " + Digest.of(other) + ")", e.getMessage());
    assertFalse(store.has(Digest.of(other)));
    assertEquals(List.of(), store.tempFiles());

    // Wrong size.
    SizeMismatchException s = assertThrows(SizeMismatchException.class, () -> {
      try (BlobWriter w = store.writer()) {
        w.write(other);
        w.commit(Digest.of(other), 999);
      }
    });
    assertEquals(LabenvException.Kind.BAD_INPUT, s.kind());
    assertTrue(s.getMessage().contains("size mismatch (expected 999 bytes, got 1000 bytes)"), s.getMessage());
    assertEquals(List.of(), store.tempFiles());

    // Closing without commit removes the temp file.
    try (OutputStream w = store.writer()) {
      w.write(other);
    }
    assertEquals(List.of(), store.tempFiles());
    assertEquals(List.of(expected), store.blobs());
  }

  @Test
  void committingABlobThatIsAlreadyThereSucceeds() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    byte[] data = TestImages.random(rnd, 5000);
    Descriptor first = store.put("x/y", data);
    long inode = (Long) Files.getAttribute(store.path(first.digest()), "unix:ino");
    Descriptor second = store.put("x/y", data);
    assertEquals(first, second);
    assertEquals(inode, (Long) Files.getAttribute(store.path(first.digest()), "unix:ino"), "existing blob kept");
    assertEquals(List.of(), store.tempFiles());
  }

  @Test
  void copyCutsOffAStreamLongerThanPromised() {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    byte[] data = TestImages.random(rnd, 200_000);
    // An endless source: the copy must stop at the promised size, not read to the end.
    InputStream endless = new InputStream() {
      @Override
      public int read() {
        return 7;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        java.util.Arrays.fill(b, off, off + len, (byte) 7);
        return len;
      }
    };
    SizeMismatchException e = assertThrows(SizeMismatchException.class,
        () -> store.copy(endless, MediaTypes.OCI_LAYER, Digest.of(data), data.length));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals(List.of(), store.blobs());
    assertEquals(List.of(), store.tempFiles());

    Descriptor d = store.copy(new java.io.ByteArrayInputStream(data), MediaTypes.OCI_LAYER, Digest.of(data), data.length);
    assertEquals(Descriptor.of(MediaTypes.OCI_LAYER, Digest.of(data), data.length), d);
  }

  @Test
  void readingACorruptBlobFailsAtTheEnd() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    byte[] data = TestImages.random(rnd, 300_000);
    Descriptor d = store.put(MediaTypes.OCI_LAYER, data);
    TestImages.flipByte(store.path(d.digest()), 123_456);
    Digest actual = TestImages.sha256sum(store.path(d.digest()));
    try (InputStream in = store.open(d.digest())) {
      DigestMismatchException e = assertThrows(DigestMismatchException.class, in::readAllBytes);
      assertEquals(LabenvException.Kind.FAILED, e.kind());
      assertEquals("blob " + d.digest() + ": digest mismatch (got " + actual + ")", e.getMessage());
    }
    assertThrows(DigestMismatchException.class, () -> store.read(d.digest(), 1 << 20));
    BlobNotFoundException missing = assertThrows(BlobNotFoundException.class,
        () -> store.open(Digest.of(new byte[1])));
    assertTrue(missing.getMessage().contains("not found in store"));
    LabenvException tooBig = assertThrows(LabenvException.class, () -> store.read(d.digest(), 1000));
    assertTrue(tooBig.getMessage().contains("more than the 1000"), tooBig.getMessage());
  }

  @Test
  void brokenIndexJsonIsAnErrorNamingTheFileAndLine() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    Path index = store.root().resolve("index.json");
    Files.writeString(index, "{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n    {\"digest\": }\n  ]\n}\n");
    LabenvException e = assertThrows(LabenvException.class, store::index);
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(index + ": invalid JSON: "), e.getMessage());
    assertTrue(e.getMessage().contains("line 4"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));

    Files.writeString(index, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
        + "\",\"size\":3}]}");
    assertEquals(index + ": manifests[0]: no digest", assertThrows(LabenvException.class, store::index).getMessage());
    // A failed update leaves the file as it was.
    byte[] before = Files.readAllBytes(index);
    assertThrows(LabenvException.class, () -> store.updateIndex(i -> i));
    assertArrayEquals(before, Files.readAllBytes(index));
  }

  @Test
  void concurrentIndexUpdatesLoseNothing() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    int threads = 6;
    int each = 15;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      futures.add(pool.submit(() -> {
        start.await();
        // Each thread opens its own ContentStore, as separate commands would.
        ContentStore mine = ContentStore.open(store.root());
        for (int i = 0; i < each; i++) {
          Descriptor d = Descriptor.of(MediaTypes.OCI_MANIFEST, Digest.of(("m" + id + "-" + i).getBytes(StandardCharsets.UTF_8)), 1);
          mine.updateIndex(idx -> {
            List<Descriptor> list = new ArrayList<>(idx.manifests());
            list.add(d);
            return ImageIndex.oci(list);
          });
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertEquals(threads * each, store.index().manifests().size());
    assertEquals(List.of(), store.tempFiles());
  }

  @Test
  void gcLockExcludesWritersButNotReaders() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("s"));
    Descriptor d = store.put("text/plain", "hello".getBytes(StandardCharsets.UTF_8));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (StoreLock exclusive = store.lockExclusive()) {
      assertNotNull(exclusive);
      // Readers do not wait for the lock.
      Future<byte[]> reader = pool.submit(() -> {
        store.index();
        try (InputStream in = store.open(d.digest())) {
          return in.readAllBytes();
        }
      });
      assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), reader.get(5, TimeUnit.SECONDS));
      // Writers do.
      Future<Descriptor> writer = pool.submit(() -> store.put("text/plain", "world".getBytes(StandardCharsets.UTF_8)));
      assertThrows(TimeoutException.class, () -> writer.get(300, TimeUnit.MILLISECONDS));
      exclusive.close();
      assertEquals(Digest.of("world".getBytes(StandardCharsets.UTF_8)), writer.get(5, TimeUnit.SECONDS).digest());
    }
    // And an exclusive hold waits for shared holders.
    StoreLock shared = store.lockShared();
    CompletableFuture<Void> excl = CompletableFuture.runAsync(() -> store.lockExclusive().close(), pool);
    assertThrows(TimeoutException.class, () -> excl.get(300, TimeUnit.MILLISECONDS));
    shared.close();
    excl.get(5, TimeUnit.SECONDS);
    pool.shutdown();
  }

  @Test
  void defaultRootFollowsLabenvHomeThenXdgThenHome() {
    assertEquals(Path.of("/srv/lab"), ContentStore.defaultRoot(Map.of("LABENV_HOME", "/srv/lab", "XDG_DATA_HOME", "/x")));
    assertEquals(Path.of("/x/labenv"), ContentStore.defaultRoot(Map.of("XDG_DATA_HOME", "/x", "HOME", "/home/u")));
    assertEquals(Path.of("/home/u/.local/share/labenv"),
        ContentStore.defaultRoot(Map.of("XDG_DATA_HOME", "relative", "HOME", "/home/u")));
    assertEquals(Path.of("/home/u/.local/share/labenv"), ContentStore.defaultRoot(Map.of("LABENV_HOME", "", "HOME", "/home/u")));
  }
}
