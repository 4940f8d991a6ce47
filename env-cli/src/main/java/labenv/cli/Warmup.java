package labenv.cli;

import java.nio.charset.StandardCharsets;
import java.util.List;
import labenv.container.ContainerSpec;
import labenv.image.Descriptor;
import labenv.image.ImageConfig;
import labenv.image.ImageIndex;
import labenv.image.Json;
import labenv.image.Manifest;

/**
 * Gets Jackson ready on the second core while the first builds the command line: in a fresh JVM, the
 * mapper and the (de)serialisers of the store's JSON types take longer than anything a short command
 * does (about 60 ms interpreted), and nearly every verb reads the store. It parses and writes samples
 * shaped like the store's documents, parses a reference and hashes a byte (the JDK's security providers),
 * touches no file and keeps nothing but caches; a failure here means nothing (the command meets the same
 * code again and reports what it finds). For the verbs that start containers it also binds libc through
 * JNA, when the build unpacked JNA's library beside the jar (so that loading it can hardly fail: a class
 * whose initialisation failed here would fail the command with a vaguer message).
 */
final class Warmup {
  private Warmup() {}

  private static final String DIGEST = "sha256:" + "0".repeat(64);
  private static final String DESCRIPTOR = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      + "\"digest\":\"" + DIGEST + "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.ref.name\":\"a\"},"
      + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}";

  static void start(boolean containers) {
    Thread t = new Thread(() -> run(containers && System.getProperty("jna.boot.library.path") != null),
        "labenv-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  private static void run(boolean libc) {
    try {
      // In the order the command needs them.
      Json.tree(bytes("{\"imageLayoutVersion\":\"1.0.0\"}"), "warm-up");
      labenv.image.ImageReference.parse("a/b:c");
      java.security.MessageDigest.getInstance("SHA-256").digest(new byte[1]);
      ImageIndex index = Json.parse(bytes("{\"schemaVersion\":2,\"manifests\":[" + DESCRIPTOR + "]}"),
          ImageIndex.class, "warm-up");
      Json.parse(bytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":" + DESCRIPTOR + ",\"layers\":[" + DESCRIPTOR + "]}"), Manifest.class, "warm-up");
      Json.parse(bytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=b\"],"
          + "\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + DIGEST
          + "\"]},\"history\":[{\"created_by\":\"a\"}]}"), ImageConfig.class, "warm-up");
      Descriptor d = index.manifests().get(0);
      Json.canonical(d);
      Json.canonical(new ContainerSpec(new ContainerSpec.Process(List.of("a"), List.of("A=b"), "/",
          new ContainerSpec.User(0, 0, List.of())), new ContainerSpec.Root("/", false), "a",
          List.of(ContainerSpec.Mount.bind("/a", "/b", true)), ContainerSpec.Network.NONE));
      if (libc) {
        labenv.linux.Libc.geteuid();
      }
    } catch (RuntimeException | LinkageError | java.security.NoSuchAlgorithmException e) {
      // nothing to report: see the class comment
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
