package labenv.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import labenv.image.Descriptor;

/**
 * The other process in crash and concurrency tests, started as {@code java -cp <test classpath>
 * labenv.store.StoreChild MODE ...}. Prints {@code ready} once it has the store open.
 */
public final class StoreChild {
  private StoreChild() {}

  public static void main(String[] args) throws Exception {
    ContentStore store = ContentStore.open(Path.of(args[1]));
    ImageStore images = new ImageStore(store);
    switch (args[0]) {
      case "churn" -> churn(images, new Random(Long.parseLong(args[2])));
      case "tagger" -> tagger(images, args[2], Integer.parseInt(args[3]), new Random(Long.parseLong(args[4])));
      case "pruner" -> pruner(images, Path.of(args[2]));
      case "hold" -> hold(store);
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  /** Writes, names, removes and prunes images for ever, until killed. */
  private static void churn(ImageStore images, Random rnd) {
    ContentStore store = images.content();
    List<byte[]> base = List.of(TestImages.random(rnd, 300_000), TestImages.random(rnd, 50_000));
    System.out.println("ready");
    System.out.flush();
    for (long i = 0; ; i++) {
      int op = rnd.nextInt(10);
      String name = "img-" + rnd.nextInt(6) + ":" + rnd.nextInt(2);
      if (op < 7) {
        List<byte[]> layers = new ArrayList<>();
        layers.add(base.get(rnd.nextInt(base.size())));
        for (int n = rnd.nextInt(3); n > 0; n--) {
          layers.add(TestImages.random(rnd, rnd.nextInt(1 << 20)));
        }
        try (StoreLock gc = store.lockShared()) {
          Descriptor m = TestImages.image(store, layers, "2024-01-01T00:00:00Z");
          images.tag(m, name);
        }
      } else if (op < 9) {
        try {
          images.remove(name);
        } catch (ImageNotFoundException e) {
          // not there this time
        }
      } else {
        images.prune();
      }
    }
  }

  private static void tagger(ImageStore images, String prefix, int count, Random rnd) {
    System.out.println("ready");
    System.out.flush();
    for (int i = 0; i < count; i++) {
      // One shared hold from the first blob to the name: a concurrent prune cannot collect the
      // blobs in between.
      try (StoreLock gc = images.content().lockShared()) {
        Descriptor m = TestImages.image(images.content(),
            List.of(TestImages.random(rnd, 1000 + rnd.nextInt(100_000)), TestImages.random(rnd, 10)),
            "2024-01-01T00:00:00Z");
        images.tag(m, prefix + "-" + i);
      }
      pause(rnd); // leave gaps, so the pruner gets its exclusive turns in between
    }
  }

  private static void pause(Random rnd) {
    try {
      Thread.sleep(rnd.nextInt(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void pruner(ImageStore images, Path stop) {
    System.out.println("ready");
    System.out.flush();
    int runs = 0;
    while (!Files.exists(stop)) {
      images.prune();
      runs++;
    }
    System.out.println("pruned " + runs);
  }

  /** Holds the gc lock exclusively until stdin closes. */
  private static void hold(ContentStore store) throws IOException {
    try (StoreLock l = store.lockExclusive()) {
      System.out.println("held");
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the parent to close our stdin
      }
    }
  }
}
