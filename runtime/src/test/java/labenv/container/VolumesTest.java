package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import labenv.LabenvException;
import labenv.store.ContentStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VolumesTest {
  @TempDir Path tmp;

  @Test
  void createListFindAndRemove() throws Exception {
    Volumes volumes = new Volumes(ContentStore.open(tmp.resolve("store")));
    assertEquals(List.of(), volumes.list());
    Volumes.Volume b = volumes.create("b");
    Volumes.Volume a = volumes.create("a.1");
    assertEquals(b, volumes.create("b"), "create is idempotent and keeps the data");
    assertEquals(tmp.resolve("store/volumes/b/_data"), b.mountpoint());
    assertTrue(Files.isDirectory(b.mountpoint()));
    assertEquals(List.of("a.1", "b"), volumes.list().stream().map(Volumes.Volume::name).toList());
    assertEquals(a, volumes.find("a.1").orElseThrow());

    // What a container might leave: a read-only directory and a symlink out of the volume.
    Path outside = Files.writeString(tmp.resolve("outside"), "keep");
    Path sub = Files.createDirectories(b.mountpoint().resolve("sub"));
    Files.writeString(sub.resolve("f"), "x");
    Files.createSymbolicLink(b.mountpoint().resolve("link"), outside);
    Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("r-xr-xr-x"));
    volumes.remove("b");
    assertFalse(Files.exists(b.mountpoint().getParent()));
    assertEquals("keep", Files.readString(outside));
    assertEquals(List.of("a.1"), volumes.list().stream().map(Volumes.Volume::name).toList());
    try (var s = Files.list(tmp.resolve("store/volumes"))) {
      assertEquals(List.of("a.1"), s.map(p -> p.getFileName().toString()).toList(), "nothing left aside");
    }

    LabenvException missing = assertThrows(LabenvException.class, () -> volumes.remove("b"));
    assertEquals(LabenvException.Kind.BAD_INPUT, missing.kind());
    for (String bad : List.of("", ".x", "-x", "a/b", "..", "a b")) {
      LabenvException e = assertThrows(LabenvException.class, () -> volumes.create(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), bad);
    }
  }

  @Test
  void resolveBindsAVolumesDataAndLeavesOtherMountsAlone() {
    Volumes volumes = new Volumes(ContentStore.open(tmp.resolve("store")));
    ContainerSpec.Mount bound = volumes.resolve(Volumes.mount("auto", "/d", true));
    assertEquals(ContainerSpec.Mount.bind(tmp.resolve("store/volumes/auto/_data").toString(), "/d", true), bound);
    assertTrue(volumes.find("auto").isPresent(), "created on first use");
    ContainerSpec.Mount tmpfs = ContainerSpec.Mount.tmpfs("/t", List.of());
    assertEquals(tmpfs, volumes.resolve(tmpfs));
  }
}
