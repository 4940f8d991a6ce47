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
 * shaped like the store's documents, touches no file and keeps nothing but Jackson's own caches; a
 * failure here means nothing (the command meets the same code again and reports what it finds).
 */
final class Warmup {
  private Warmup() {}

  private static final String DIGEST = "sha256:" + "0".repeat(64);
  private static final String DESCRIPTOR = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      + "\"digest\":\"" + DIGEST + "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.ref.name\":\"a\"},"
      + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}";

  static void start() {
    Thread t = new Thread(Warmup::run, "labenv-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  private static void run() {
    try {
      Json.tree(bytes("{\"imageLayoutVersion\":\"1.0.0\"}"), "warm-up");
      ImageIndex index = Json.parse(bytes("{\"schemaVersion\":2,\"manifests\":[" + DESCRIPTOR + "]}"),
          ImageIndex.class, "warm-up");
      Json.parse(bytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":" + DESCRIPTOR + ",\"layers\":[" + DESCRIPTOR + "]}"), Manifest.class, "warm-up");
      Json.parse(bytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=b\"],"
          + "\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + DIGEST
          + "\"]},\"history\":[{\"created_by\":\"a\"}]}"), ImageConfig.class, "warm-up");
      Descriptor d = index.manifests().get(0);
      Json.canonical(d);
      Json.canonical(index);
      Json.canonical(new ContainerSpec(new ContainerSpec.Process(List.of("a"), List.of("A=b"), "/",
          new ContainerSpec.User(0, 0, List.of())), new ContainerSpec.Root("/", false), "a",
          List.of(ContainerSpec.Mount.bind("/a", "/b", true)), ContainerSpec.Network.NONE));
    } catch (RuntimeException e) {
      // nothing to report: see the class comment
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
