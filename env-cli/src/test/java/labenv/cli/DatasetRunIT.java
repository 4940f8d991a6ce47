package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code labenv run --dataset}: a version mounted read-only, assembled once, kept by prune while mounted. */
class DatasetRunIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path data;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("rm", "chmod", "mkdir", "sha256sum", "find", "wc", "true"));
    home = RunIT.home;
  }

  static RunIT.Proc labenv(String... args) throws Exception {
    return LifecycleIT.labenvIn(home, args);
  }

  private void add(String name) throws Exception {
    Files.createDirectories(data.resolve("raw"));
    Files.writeString(data.resolve("raw/measurements.csv"), "id,value\n1,2.5\n2,3.5\n");
    Files.writeString(data.resolve("notes.txt"), "collected 2026\n");
    RunIT.Proc p = labenv("dataset", "add", name, data.toString());
    assertEquals(0, p.code(), p::toString);
  }

  @Test
  void aDatasetIsMountedReadOnlyAndProvablyUnchanged() throws Exception {
    add("obs:v1");
    RunIT.Proc read = labenv("run", "--rm", "--dataset", "obs:v1:/data/obs", RunIT.IMAGE, "cat",
        "/data/obs/raw/measurements.csv", "/data/obs/notes.txt");
    assertEquals(0, read.code(), read::toString);
    assertEquals("id,value\n1,2.5\n2,3.5\ncollected 2026\n", read.out());

    // Root in the container cannot change it: not by writing, removing, chmod or remounting.
    RunIT.Proc tamper = labenv("run", "--rm", "--dataset", "obs:/data", RunIT.IMAGE, "sh", "-c",
        "echo x >> /data/notes.txt; rm /data/notes.txt; chmod 777 /data/raw; mkdir /data/new; "
            + "mount -o remount,rw /data; echo x >> /data/notes.txt; cat /data/notes.txt");
    assertEquals("collected 2026\n", tamper.out(), tamper::toString);
    assertTrue(tamper.err().contains("Read-only file system"), tamper::toString);
    RunIT.Proc verify = labenv("dataset", "verify", "obs:v1");
    assertEquals(0, verify.code(), verify::toString);
  }

  @Test
  void laterMountsReuseTheAssembledTree() throws Exception {
    add("reuse:1");
    assertEquals(0, labenv("run", "--rm", "--dataset", "reuse:1:/d", RunIT.IMAGE, "true").code());
    Path trees = home.resolve("datasets/trees");
    Path tree;
    try (var s = Files.list(trees)) {
      tree = s.filter(p -> !p.getFileName().toString().startsWith(".")).findFirst().orElseThrow();
    }
    Object inode = Files.getAttribute(tree.resolve("root/notes.txt"), "unix:ino");
    assertEquals(0, labenv("run", "--rm", "--dataset", "reuse:1:/d", RunIT.IMAGE, "true").code());
    assertEquals(inode, Files.getAttribute(tree.resolve("root/notes.txt"), "unix:ino"), "assembled once");
  }

  @Test
  void pruneKeepsTheTreeOfARemovedVersionWhileAContainerMountsIt() throws Exception {
    add("gone:1");
    RunIT.Proc d = labenv("run", "-d", "--name", "reader", "--dataset", "gone:1:/data", RunIT.IMAGE, "sleep", "30");
    assertEquals(0, d.code(), d::toString);
    try {
      assertEquals(0, labenv("dataset", "rm", "gone:1").code());
      assertEquals(0, labenv("dataset", "rm", "gone:latest").code());
      RunIT.Proc prune = labenv("prune");
      assertEquals(0, prune.code(), prune::toString);
      RunIT.Proc still = labenv("exec", "reader", "cat", "/data/notes.txt");
      assertEquals("collected 2026\n", still.out(), "the mounted version survives prune: " + still);
    } finally {
      labenv("rm", "-f", "reader");
    }
    RunIT.Proc prune = labenv("prune");
    assertTrue(prune.out().contains("assembled dataset trees"), prune::toString);
  }

  @Test
  void badDatasetSpecsAreOneLine() throws Exception {
    RunIT.Proc p = labenv("run", "--rm", "--dataset", "nope:1:/data", RunIT.IMAGE, "true");
    assertNotEquals(0, p.code(), p::toString);
    assertEquals(1, p.err().strip().lines().count(), p::toString);
    p = labenv("run", "--rm", "--dataset", "nope", RunIT.IMAGE, "true");
    assertEquals(125, p.code(), p::toString);
    assertTrue(p.err().contains("NAME[:TAG]:/PATH"), p::toString);
  }
}
