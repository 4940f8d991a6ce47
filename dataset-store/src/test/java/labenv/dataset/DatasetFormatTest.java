package labenv.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.image.Manifest;
import org.junit.jupiter.api.Test;

class DatasetFormatTest {
  static final Digest A = Digest.of(new byte[] {1});
  static final Digest B = Digest.of(new byte[] {2});

  static DatasetConfig config(DatasetFile... files) {
    return new DatasetConfig(DatasetConfig.Chunking.standard(), List.of(files));
  }

  @Test
  void theConfigIsCanonicalJsonThatRoundTrips() {
    DatasetConfig c = config(DatasetFile.dir("d", 0755),
        DatasetFile.file("d/x.csv", 0644, 3, A, List.of(new Chunk(A, 3))),
        DatasetFile.symlink("d/y", "x.csv"));
    byte[] json = Json.canonical(c);
    assertEquals("{\"chunking\":{\"algorithm\":\"fastcdc-2016-nc2\",\"min\":262144,\"avg\":1048576,\"max\":4194304,"
        + "\"gearSeed\":\"6c6162656e764344\"},\"files\":[{\"path\":\"d\",\"type\":\"dir\",\"mode\":493,\"size\":0},"
        + "{\"path\":\"d/x.csv\",\"type\":\"file\",\"mode\":420,\"size\":3,\"digest\":\"" + A + "\",\"chunks\":[{\"digest\":\""
        + A + "\",\"size\":3}]},{\"path\":\"d/y\",\"type\":\"symlink\",\"mode\":511,\"size\":0,\"target\":\"x.csv\"}]}",
        new String(json, java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(c, Json.parse(json, DatasetConfig.class, "test"));
  }

  @Test
  void theManifestIsAnArtifactWhoseLayersAreTheChunks() {
    Descriptor config = Descriptor.of(DatasetFormat.CONFIG_MEDIA_TYPE, B, 10);
    Manifest m = DatasetFormat.manifest(config, List.of(Descriptor.of(DatasetFormat.CHUNK_MEDIA_TYPE, A, 3)));
    assertEquals(DatasetFormat.ARTIFACT_TYPE, m.artifactType());
    assertEquals(1, m.layers().size());
    assertEquals(List.of(DatasetFormat.EMPTY), DatasetFormat.manifest(config, List.of()).layers());
    assertEquals(DatasetFormat.EMPTY.digest(), Digest.of(DatasetFormat.EMPTY_BYTES));
  }

  @Test
  void checkRefusesWhatAHostileConfigCouldHold() {
    DatasetFormat.check(config(DatasetFile.dir("a", 0755), DatasetFile.file("a/b", 0644, 0, A, List.of())), "v");
    List<DatasetConfig> bad = List.of(
        config(DatasetFile.file("../x", 0644, 0, A, List.of())),
        config(DatasetFile.file("/x", 0644, 0, A, List.of())),
        config(DatasetFile.file("a/./b", 0644, 0, A, List.of())),
        config(DatasetFile.file("a/b", 0644, 0, A, List.of())), // parent not listed
        config(DatasetFile.file("b", 0644, 0, A, List.of()), DatasetFile.file("a", 0644, 0, A, List.of())),
        config(DatasetFile.file("a", 0644, 0, A, List.of()), DatasetFile.file("a", 0644, 0, A, List.of())),
        config(DatasetFile.file("a", 0644, 5, A, List.of(new Chunk(A, 3)))),
        config(DatasetFile.symlink("l", "/etc/passwd")),
        config(DatasetFile.symlink("l", "../x")));
    for (DatasetConfig c : bad) {
      LabenvException e = assertThrows(LabenvException.class, () -> DatasetFormat.check(c, "v"), c::toString);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    }
  }

  @Test
  void symlinksMayClimbOnlyWithinTheDataset() {
    assertNull(DatasetFormat.symlinkProblem("a/b/l", "../../x"));
    assertNull(DatasetFormat.symlinkProblem("a/l", "./../a/./x"));
    assertTrue(DatasetFormat.symlinkProblem("a/l", "../../x").contains("leaves the dataset"));
    assertTrue(DatasetFormat.symlinkProblem("l", "/x").contains("absolute"));
  }

  @Test
  void namesAndTags() {
    assertEquals(new DatasetName("data", "v1"), DatasetName.parse("data:v1", null));
    assertEquals(new DatasetName("team/data", "latest"), DatasetName.parse("team/data", "latest"));
    assertEquals(new DatasetName("localhost:5000/d", "1"), DatasetName.parse("localhost:5000/d:1", null));
    assertNull(DatasetName.parse("data", null).tag());
    for (String bad : List.of("", "Data", "da ta", "data:", "data:-x", "-data", "data@sha256:" + "a".repeat(64),
        "data:" + "x".repeat(129), "a//b")) {
      assertThrows(LabenvException.class, () -> DatasetName.parse(bad, null), bad);
    }
  }
}
