package labenv.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;

/** Builds small images in a store for tests: random layer bytes, a config, a manifest. */
final class TestImages {
  private TestImages() {}

  static byte[] random(Random rnd, int size) {
    byte[] b = new byte[size];
    rnd.nextBytes(b);
    return b;
  }

  static ImageConfig config(List<Descriptor> layers, String created) {
    Platform host = Platform.host();
    List<Digest> diffIds = new ArrayList<>();
    layers.forEach(l -> diffIds.add(l.digest()));
    return new ImageConfig(created, null, host.architecture(), host.os(), host.variant(),
        new ImageConfig.Config(null, null, List.of("PATH=/bin"), null, List.of("/bin/sh"), null, null, null,
            null, null, null, null, null),
        ImageConfig.RootFs.layers(diffIds),
        List.of(new ImageConfig.History(created, "test", null, null, null)));
  }

  /** Stores the layers, a config and a manifest; returns the manifest's descriptor (not named). */
  static Descriptor image(ContentStore store, List<byte[]> layerBytes, String created) {
    try (StoreLock gc = store.lockShared()) {
      List<Descriptor> layers = new ArrayList<>();
      for (byte[] b : layerBytes) {
        layers.add(store.put(MediaTypes.OCI_LAYER_GZIP, b));
      }
      Descriptor config = store.put(MediaTypes.OCI_CONFIG, Json.canonical(config(layers, created)));
      return store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(config, layers)));
    }
  }

  /** The digest GNU coreutils' sha256sum computes for a file: an independent check of ours. */
  static Digest sha256sum(Path file) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sha256sum", file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    if (p.waitFor() != 0) {
      throw new IOException("sha256sum failed: " + out);
    }
    return new Digest("sha256", out.substring(0, 64));
  }

  /** Flips one bit of a stored blob in place (blobs are read-only; the test runs as their owner). */
  static void flipByte(Path file, long offset) throws IOException {
    file.toFile().setWritable(true);
    byte[] all = Files.readAllBytes(file);
    all[(int) offset] ^= 0x01;
    Files.write(file, all);
  }
}
