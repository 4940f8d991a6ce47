package labenv.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import labenv.Progress;
import labenv.store.ContentStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trees, verify and prune on a real store in a temporary directory. */
class DatasetStoreTest {
  @TempDir Path dir;

  DatasetStore datasets() {
    return new DatasetStore(ContentStore.open(dir.resolve("store")));
  }

  Path source() throws Exception {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("sub"));
    Files.writeString(src.resolve("sub/a.csv"), "a,b\n1,2\n");
    Files.writeString(src.resolve("run.sh"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(src.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("sub/a.csv"));
    return src;
  }

  @Test
  void theTreeIsReadOnlyAssembledOnceAndVerified() throws Exception {
    DatasetStore ds = datasets();
    AddResult r = ds.add("d:1", source(), false, Progress.NONE);
    Path tree = ds.tree(r.version());
    assertEquals(tree, ds.tree(r.version()));
    assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("sub/a.csv"))));
    assertEquals("r-xr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("run.sh"))));
    assertEquals("r-xr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("sub"))));
    assertEquals("r-xr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(tree)));
    assertEquals("a,b\n1,2\n", Files.readString(tree.resolve("link")));
    assertTrue(ds.show("d:1").cost().assembled());

    VerifyReport ok = ds.verify("d:1");
    assertTrue(ok.ok(), ok::toString);
    assertTrue(ok.versions().get(0).treeChecked());
    // What a container could not do through a read-only mount, the host can: verify must see it.
    Path f = tree.resolve("sub/a.csv");
    f.toFile().setWritable(true);
    Files.writeString(f, "a,b\n1,3\n");
    VerifyReport bad = ds.verify("d:1");
    assertFalse(bad.ok());
    assertEquals(List.of("sub/a.csv"), bad.versions().get(0).badTreeFiles());
  }

  @Test
  void concurrentCallersGetOneTree() throws Exception {
    DatasetStore ds = datasets();
    AddResult r = ds.add("d", source(), false, Progress.NONE);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Path>> trees = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        trees.add(pool.submit(() -> new DatasetStore(ContentStore.open(dir.resolve("store"))).tree(r.version())));
      }
      for (Future<Path> t : trees) {
        assertEquals(ds.tree(r.version()), t.get());
      }
    } finally {
      pool.shutdown();
    }
    try (var s = Files.list(dir.resolve("store/datasets/trees"))) {
      assertEquals(1, s.count(), "no temporary trees left");
    }
  }

  @Test
  void pruneKeepsTreesOfNamedVersionsAndThoseInUse() throws Exception {
    DatasetStore ds = datasets();
    Path src = source();
    AddResult one = ds.add("d:1", src, false, Progress.NONE);
    Files.writeString(src.resolve("more"), "x");
    AddResult two = ds.add("d:2", src, false, Progress.NONE);
    Files.writeString(src.resolve("more2"), "y");
    AddResult three = ds.add("e:3", src, false, Progress.NONE);
    Path t1 = ds.tree(one.version());
    Path t2 = ds.tree(two.version());
    Path t3 = ds.tree(three.version());
    ds.remove("d:1");
    ds.remove("d:2");
    ds.remove("d:latest");
    ds.remove("e"); // latest
    DatasetPruneReport r = ds.prune(root -> root.equals(t2));
    assertEquals(List.of(one.version().digest()), r.treesRemoved());
    assertFalse(Files.exists(t1));
    assertTrue(Files.exists(t2), "in use");
    assertTrue(Files.exists(t3), "still named e:3");
  }
}
