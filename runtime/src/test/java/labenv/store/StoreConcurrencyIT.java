package labenv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import labenv.image.Descriptor;
import labenv.image.Json;
import labenv.image.ImageIndex;
import labenv.image.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several processes and threads on one store at once. */
class StoreConcurrencyIT {
  @TempDir Path tmp;

  @Test
  void processesAndThreadsTaggingWhilePruneRunsLoseNothing() throws Exception {
    Path root = tmp.resolve("store");
    ContentStore.open(root);
    int perChild = 25;
    int threads = 3;
    int perThread = 15;
    Path stop = tmp.resolve("stop");
    Process a = Children.start(tmp.resolve("a.log"), "tagger", root.toString(), "child-a", Integer.toString(perChild), "1");
    Process b = Children.start(tmp.resolve("b.log"), "tagger", root.toString(), "child-b", Integer.toString(perChild), "2");
    Process pruner = Children.start(tmp.resolve("p.log"), "pruner", root.toString(), stop.toString());
    Children.awaitLine(pruner, tmp.resolve("p.log"));

    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      futures.add(pool.submit(() -> {
        ImageStore images = new ImageStore(ContentStore.open(root));
        Random rnd = new Random(100 + id);
        for (int i = 0; i < perThread; i++) {
          try (StoreLock gc = images.content().lockShared()) {
            Descriptor m = TestImages.image(images.content(),
                List.of(TestImages.random(rnd, 1000 + rnd.nextInt(50_000))), "2024-01-01T00:00:00Z");
            images.tag(m, "thread-" + id + "-" + i);
          }
          Thread.sleep(rnd.nextInt(30));
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get(120, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertEquals(0, waitFor(a), () -> readQuietly(tmp.resolve("a.log")));
    assertEquals(0, waitFor(b), () -> readQuietly(tmp.resolve("b.log")));
    Files.createFile(stop);
    assertEquals(0, waitFor(pruner), () -> readQuietly(tmp.resolve("p.log")));
    String pruned = new String(pruner.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();

    ImageStore images = new ImageStore(ContentStore.open(root));
    ImageIndex index = Json.parse(Files.readAllBytes(root.resolve("index.json")), ImageIndex.class, "index.json");
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < perChild; i++) {
      expected.add("child-a-" + i + ":latest");
      expected.add("child-b-" + i + ":latest");
    }
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < perThread; i++) {
        expected.add("thread-" + t + "-" + i + ":latest");
      }
    }
    Set<String> names = new HashSet<>();
    index.manifests().forEach(d -> names.add(d.annotation(ImageStore.REF_NAME)));
    assertEquals(expected, names);
    assertEquals(expected.size(), index.manifests().size());
    FsckReport report = images.fsck();
    assertTrue(report.ok(), report.problems().toString());
    for (String name : expected) {
      Image image = images.image(images.resolve(name), Platform.host());
      for (Descriptor layer : image.manifest().layers()) {
        try (InputStream in = images.content().open(layer)) {
          in.transferTo(java.io.OutputStream.nullOutputStream());
        }
      }
    }
    System.out.printf("StoreConcurrencyIT: %d names from 2 processes and %d threads, pruner %s%n",
        expected.size(), threads, pruned);
  }

  @Test
  void anotherProcessHoldingTheGcLockBlocksWritersButNotReaders() throws Exception {
    Path root = tmp.resolve("store");
    // A store deleted and made anew at the same path: this JVM must lock the new lock file.
    ContentStore.open(root).put("text/plain", "old".getBytes(StandardCharsets.UTF_8));
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    ContentStore store = ContentStore.open(root);
    Descriptor d = store.put("text/plain", "before".getBytes(StandardCharsets.UTF_8));
    Process holder = Children.start(tmp.resolve("h.log"), "hold", root.toString());
    assertEquals("held", Children.awaitLine(holder, tmp.resolve("h.log")));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CompletableFuture<Descriptor> write = CompletableFuture.supplyAsync(
          () -> store.put("text/plain", "during".getBytes(StandardCharsets.UTF_8)), pool);
      // Readers go on.
      store.index();
      try (InputStream in = store.open(d)) {
        assertArrayEquals("before".getBytes(StandardCharsets.UTF_8), in.readAllBytes());
      }
      assertThrows(TimeoutException.class, () -> write.get(700, TimeUnit.MILLISECONDS));
      holder.getOutputStream().close(); // the child releases and exits
      assertEquals(0, waitFor(holder));
      assertTrue(store.has(write.get(10, TimeUnit.SECONDS).digest()));
    } finally {
      pool.shutdownNow();
      holder.destroyForcibly();
    }
  }

  private static int waitFor(Process p) throws InterruptedException {
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("child did not finish");
    }
    return p.exitValue();
  }

  private static String readQuietly(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
