package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One store per test JVM with {@code debian:bookworm} bootstrapped, shared by the slow end-to-end classes that build
 * on Debian (templates, notebooks): the bootstrap runs once instead of once per class, and what one class builds
 * (Jupyter from the mirror) is a build-cache hit for the next. The classes name their projects apart and never
 * prune or remove images, so sharing the store changes nothing they check. Deleted when the JVM exits.
 */
final class DebianStore {
  private DebianStore() {}

  private static Path home;

  static synchronized Path home() throws Exception {
    assumeTrue(BootstrapIT.mmdebstrapInstalled(), "mmdebstrap is not installed");
    if (home == null) {
      Path dir = Files.createTempDirectory("labenv-debian-store-");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> RegistryFixture.deleteTree(dir)));
      Path h = dir.resolve("home");
      long start = System.nanoTime();
      RunIT.Proc boot = LifecycleIT.labenvIn(h, "bootstrap", "debian:bookworm", "--progress", "quiet");
      assertEquals(0, boot.code(), boot::toString);
      System.out.printf("DebianStore: bootstrap debian:bookworm %.1f s%n", (System.nanoTime() - start) / 1e9);
      home = h;
    }
    return home;
  }
}
