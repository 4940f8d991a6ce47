package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import labenv.archive.ImportResult;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BusyboxBootstrapTest {
  @TempDir Path tmp;

  private ImportResult bootstrap(String store, long epoch) {
    ImageStore images = new ImageStore(ContentStore.open(tmp.resolve(store)));
    return new BusyboxBootstrap(images, labenv.Progress.NONE).bootstrap(BusyboxBootstrap.HOST_BUSYBOX, epoch,
        "busybox:latest");
  }

  @Test
  void theSameBusyboxAndEpochGiveTheSameDigest() {
    assumeTrue(Files.isRegularFile(BusyboxBootstrap.HOST_BUSYBOX), "busybox-static is not installed");
    ImportResult a = bootstrap("a", 0);
    ImportResult b = bootstrap("b", 0);
    assertEquals(a.manifest(), b.manifest());
    ImportResult later = bootstrap("c", 4_000_000_000L);
    assertNotEquals(a.manifest().digest(), later.manifest().digest());
    assertNotEquals(a.diffId(), later.diffId(), "file times are the epoch, even one in the future");
    assertEquals(later.diffId(), bootstrap("d", 4_000_000_000L).diffId());
    Image image = new ImageStore(ContentStore.open(tmp.resolve("a"))).image("busybox");
    assertEquals(List.of("sh"), image.config().config().cmd());
    assertEquals("labenv bootstrap busybox", image.config().history().get(0).createdBy());
    assertTrue(image.config().history().get(0).comment().startsWith("busybox v"),
        image.config().history().get(0).comment());
  }

  @Test
  void theRootHasEveryAppletAndTheUsualFiles() throws Exception {
    assumeTrue(Files.isRegularFile(BusyboxBootstrap.HOST_BUSYBOX), "busybox-static is not installed");
    List<String> applets = BusyboxBootstrap.applets(BusyboxBootstrap.HOST_BUSYBOX);
    assertTrue(applets.containsAll(List.of("sh", "ls", "cat", "[")), applets.toString());
    Path root = tmp.resolve("root");
    BusyboxBootstrap.makeRoot(BusyboxBootstrap.HOST_BUSYBOX, applets, root, 0);
    for (String a : applets) {
      assertEquals(Path.of("busybox"), Files.readSymbolicLink(root.resolve("bin").resolve(a)), a);
    }
    assertEquals(01777, (int) Files.getAttribute(root.resolve("tmp"), "unix:mode") & 07777);
    assertEquals(0700, (int) Files.getAttribute(root.resolve("root"), "unix:mode") & 07777);
    assertTrue(Files.readString(root.resolve("etc/passwd")).contains("nobody:x:65534:65534:"));
    assertTrue(Files.readString(root.resolve("etc/group")).startsWith("root:x:0:\n"));
  }

  @Test
  void aMissingOrDynamicBusyboxNamesThePackage() {
    LabenvException missing = assertThrows(LabenvException.class,
        () -> BusyboxBootstrap.checkStatic(tmp.resolve("nosuch")));
    assertTrue(missing.getMessage().endsWith("apt-get install busybox-static"), missing.getMessage());
    LabenvException dynamic = assertThrows(LabenvException.class,
        () -> BusyboxBootstrap.checkStatic(Path.of("/bin/ls")));
    assertEquals("/bin/ls is dynamically linked: apt-get install busybox-static", dynamic.getMessage());
    assumeTrue(Files.isRegularFile(BusyboxBootstrap.HOST_BUSYBOX));
    BusyboxBootstrap.checkStatic(BusyboxBootstrap.HOST_BUSYBOX);
  }
}
