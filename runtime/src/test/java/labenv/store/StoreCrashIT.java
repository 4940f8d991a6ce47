package labenv.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import labenv.image.Descriptor;
import labenv.image.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A process killed with SIGKILL at any moment leaves a store that fsck passes. */
class StoreCrashIT {
  @TempDir Path tmp;

  @Test
  void sigkillAtRandomMomentsLeavesAConsistentStore() throws Exception {
    Path root = tmp.resolve("store");
    Path log = tmp.resolve("child.log");
    Random rnd = new Random();
    long seed = rnd.nextLong();
    System.out.println("StoreCrashIT seed " + seed);
    rnd = new Random(seed);
    int iterations = 10;
    int sawTemps = 0;
    int maxImages = 0;
    for (int i = 0; i < iterations; i++) {
      Process child = Children.start(log, "churn", root.toString(), Long.toString(rnd.nextLong()));
      assertEquals("ready", Children.awaitLine(child, log));
      Thread.sleep(100 + rnd.nextInt(1400));
      assertTrue(child.isAlive(), () -> "child died on its own: " + readQuietly(log));
      Children.killHard(child);

      ImageStore images = new ImageStore(ContentStore.open(root));
      FsckReport report = images.fsck();
      assertTrue(report.ok(), "after kill " + i + ": " + report.problems());
      if (report.notes().stream().anyMatch(n -> n.contains("temporary file"))) {
        sawTemps++;
      }
      var list = images.list();
      maxImages = Math.max(maxImages, list.size());
      for (ImageRecord r : list) {
        for (String name : r.names()) {
          assertEquals(r.manifest(), images.resolve(name), name);
        }
        Image image = images.image(r.manifest(), Platform.host());
        for (Descriptor layer : image.manifest().layers()) {
          try (InputStream in = images.content().open(layer)) {
            in.transferTo(java.io.OutputStream.nullOutputStream()); // verifies digest and size
          }
        }
      }
    }
    // What the killed writers left behind goes with prune, and the store is clean.
    ImageStore images = new ImageStore(ContentStore.open(root));
    images.prune();
    FsckReport end = images.fsck();
    assertTrue(end.ok() && end.notes().isEmpty(), end.toString());
    System.out.printf("StoreCrashIT: %d kills, %d left temporary files, up to %d images, %d blobs at the end%n",
        iterations, sawTemps, maxImages, end.blobsChecked());
  }

  private static String readQuietly(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
