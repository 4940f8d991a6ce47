package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.cli.RunIT.Proc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A container keeps its image's blobs and unpacked layers through rmi and prune, until it is gone. */
class ContainerGcIT {
  @TempDir static Path dir;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(dir, List.of("true"));
  }

  private static Proc labenv(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    cmd.addAll(List.of(args));
    return RunIT.exec(cmd);
  }

  private static long count(Path d) throws Exception {
    if (!Files.isDirectory(d)) {
      return 0;
    }
    try (var s = Files.list(d)) {
      return s.count();
    }
  }

  @Test
  void aContainersLayersSurviveRmiAndPruneUntilTheContainerIsRemoved() throws Exception {
    assertEquals(0, RunIT.run(RunIT.IMAGE, "true").code());
    Path layers = RunIT.home.resolve("layers");
    Path blobs = RunIT.home.resolve("blobs/sha256");
    long layerEntries = count(layers);
    long blobCount = count(blobs);
    assertTrue(layerEntries >= 1, "the layer cache holds the image's layer");

    Proc rmi = labenv("rmi", RunIT.IMAGE);
    assertEquals(0, rmi.code(), rmi::toString);
    assertFalse(rmi.out().contains("Deleted:"), "a container still uses the image: " + rmi);
    Proc prune = labenv("prune");
    assertEquals(0, prune.code(), prune::toString);
    assertEquals(layerEntries, count(layers), prune::toString);
    assertEquals(blobCount, count(blobs), prune::toString);
    assertEquals(0, labenv("fsck").code());

    // No `rm` verb yet: the container goes the way `run --rm` removes it, with its directory.
    RunIT.exec(List.of("rm", "-rf", RunIT.home.resolve("containers").toString()));
    Proc after = labenv("prune");
    assertEquals(0, after.code(), after::toString);
    assertEquals(0, count(layers), after::toString);
    assertTrue(count(blobs) < blobCount, after::toString);
    assertEquals(0, labenv("fsck").code());
  }
}
