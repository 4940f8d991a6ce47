package labenv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store is an OCI image layout other tools read and write: skopeo and umoci. */
class StoreInteropIT {
  @TempDir Path tmp;

  @Test
  void skopeoAndUmociReadOurLayoutAndWeReadSkopeos() throws Exception {
    // A real gzip'd tar layer made by GNU tar; its digests computed by coreutils.
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("hello.txt"), "hello from labenv\n");
    Path tgz = tmp.resolve("layer.tgz");
    run("tar", "-C", src.toString(), "-czf", tgz.toString(), ".");
    Digest layerDigest = TestImages.sha256sum(tgz);
    Digest diffId = new Digest("sha256", run("sh", "-c", "gzip -dc '" + tgz + "' | sha256sum").substring(0, 64));

    Path root = tmp.resolve("store");
    ContentStore store = ContentStore.open(root);
    ImageStore images = new ImageStore(store);
    Descriptor manifest;
    try (StoreLock gc = store.lockShared(); InputStream in = Files.newInputStream(tgz)) {
      Descriptor layer = store.copy(in, MediaTypes.OCI_LAYER_GZIP, layerDigest, Files.size(tgz));
      var config = TestImages.config(List.of(layer), "2024-05-01T12:00:00Z");
      config = new labenv.image.ImageConfig(config.created(), null, config.architecture(), config.os(), config.variant(),
          config.config(), labenv.image.ImageConfig.RootFs.layers(List.of(diffId)), config.history());
      Descriptor configDescriptor = store.put(MediaTypes.OCI_CONFIG, Json.canonical(config));
      manifest = store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(configDescriptor, List.of(layer))));
      images.tag(manifest, "app:1");
    }

    // skopeo finds the image by our ref.name and gets the bytes we stored.
    byte[] raw = runBytes("skopeo", "inspect", "--raw", "oci:" + root + ":app:1");
    assertArrayEquals(Files.readAllBytes(store.path(manifest.digest())), raw);

    // skopeo copies it out (checking every digest and size on the way) ...
    Path other = tmp.resolve("other");
    run("skopeo", "copy", "--quiet", "oci:" + root + ":app:1", "oci:" + other + ":copied:2");
    ImageStore theirs = new ImageStore(ContentStore.open(other));
    assertEquals(manifest.digest(), theirs.resolve("copied:2").digest());
    FsckReport report = theirs.fsck();
    assertTrue(report.ok(), report.problems().toString());
    assertEquals(List.of(diffId), theirs.image("copied:2").config().diffIds());

    // ... and writes into our store, which stays consistent.
    run("skopeo", "copy", "--quiet", "oci:" + other + ":copied:2", "oci:" + root + ":third");
    assertEquals(manifest.digest(), images.resolve("third").digest());
    assertEquals(List.of("app:1", "third:latest"), images.list().get(0).names().stream().sorted().toList());
    report = images.fsck();
    assertTrue(report.ok(), report.problems().toString());

    // umoci unpacks it: the layer is a real filesystem layer, found by our name.
    Path bundle = tmp.resolve("bundle");
    run("umoci", "unpack", "--rootless", "--image", root + ":app:1", bundle.toString());
    assertEquals("hello from labenv\n", Files.readString(bundle.resolve("rootfs/hello.txt")));
    assertEquals(Platform.host().architecture(), images.image("app:1").platform().architecture());
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    return new String(runBytes(cmd), StandardCharsets.UTF_8);
  }

  private static byte[] runBytes(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new AssertionError(String.join(" ", cmd) + " failed: " + err);
    }
    return out;
  }
}
