package labenv.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.layer.Compression;
import labenv.layer.LayerApplier;
import labenv.layer.LayerResult;
import labenv.layer.LayerWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageUnpackerTest {
  @TempDir Path tmp;

  /** Stores a one-layer image of {@code dir} whose config claims {@code diffId} (null: the true one). */
  private Image store(ContentStore store, Path dir, Compression compression, Digest diffId) {
    ByteArrayOutputStream layer = new ByteArrayOutputStream();
    LayerResult r = LayerWriter.builder().compression(compression).build().write(dir, layer);
    Descriptor layerDesc = store.put(r.mediaType(), layer.toByteArray());
    ImageConfig config = new ImageConfig("1970-01-01T00:00:00Z", null, "amd64", "linux", null,
        ImageConfig.Config.empty(), ImageConfig.RootFs.layers(List.of(diffId != null ? diffId : r.diffId())), null);
    Descriptor configDesc = store.put(MediaTypes.OCI_CONFIG, Json.canonical(config));
    Descriptor manifest = store.put(MediaTypes.OCI_MANIFEST, Json.canonical(Manifest.oci(configDesc, List.of(layerDesc))));
    ImageStore images = new ImageStore(store);
    images.tag(manifest, "t:1");
    return images.image("t:1");
  }

  @Test
  void aLayerWhoseFirstNameLooksLikeAMagicNumberUnpacks() throws Exception {
    // Decompressing a tar a second time would take "BZh9…" for a bzip2 header.
    Path dir = Files.createDirectories(tmp.resolve("tree"));
    Files.writeString(dir.resolve("BZh91AY&SY"), "not bzip2\n");
    Files.writeString(dir.resolve("data.csv"), "a,b\n1,2\n");
    ContentStore store = ContentStore.open(tmp.resolve("home"));
    for (Compression c : Compression.values()) {
      Image image = store(store, dir, c, null);
      Path out = tmp.resolve("out-" + c);
      new ImageUnpacker(store, new LayerApplier()).unpack(image, out, Progress.NONE);
      assertEquals("not bzip2\n", Files.readString(out.resolve("BZh91AY&SY")), c.toString());
      assertEquals("a,b\n1,2\n", Files.readString(out.resolve("data.csv")));
    }
  }

  @Test
  void aDiffIdThatDoesNotMatchFailsTheUnpackAndCreatesNothing() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("tree"));
    Files.writeString(dir.resolve("f"), "x");
    ContentStore store = ContentStore.open(tmp.resolve("home"));
    Digest wrong = Digest.of("something else".getBytes(StandardCharsets.UTF_8));
    Image image = store(store, dir, Compression.GZIP, wrong);
    Path out = tmp.resolve("out");
    LabenvException e = assertThrows(LabenvException.class,
        () -> new ImageUnpacker(store, new LayerApplier()).unpack(image, out, Progress.NONE));
    assertEquals(LabenvException.Kind.FAILED, e.kind());
    assertTrue(e.getMessage().contains("but the config's diff ID is " + wrong), e.getMessage());
    assertFalse(Files.exists(out));
    try (var s = Files.list(tmp)) {
      assertEquals(List.of("home", "tree"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }
}
