package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import labenv.LabenvException;
import org.junit.jupiter.api.Test;

class BaseImagesTest {
  @Test
  void debianCodenamesAndBusyboxAreTargets() {
    assertEquals(new BaseImages.Debian("bookworm"), BaseImages.parse("debian:bookworm"));
    assertEquals(new BaseImages.Debian("trixie"), BaseImages.parse("debian:trixie"));
    assertEquals("debian:sid", BaseImages.parse("debian:sid").defaultName());
    assertEquals(new BaseImages.Busybox(), BaseImages.parse("busybox"));
    assertEquals("busybox:latest", BaseImages.parse("busybox").defaultName());
  }

  @Test
  void otherNamesAreBadInputSayingWhatCanBeMade() {
    for (String bad : new String[] {"ubuntu:jammy", "alpine", "debian", "debian:stable", "debian:latest",
        "debian:12", "debian:Bookworm", ""}) {
      LabenvException e = assertThrows(LabenvException.class, () -> BaseImages.parse(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), bad);
      assertTrue(e.getMessage().contains("bookworm"), e.getMessage());
      assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
  }

  @Test
  void howToGetNamesBootstrapWhereLabenvCanMakeTheImageAndAlwaysPullAndLoad() {
    assertEquals("run: labenv bootstrap debian:bookworm (with mmdebstrap, from a Debian mirror), or labenv pull "
        + "debian:bookworm (from a registry) or labenv load FILE (from an archive)",
        BaseImages.howToGet("debian:bookworm"));
    assertTrue(BaseImages.howToGet("docker.io/library/debian:trixie").startsWith("run: labenv bootstrap debian:trixie "));
    assertTrue(BaseImages.howToGet("debian:stable").startsWith(
        "run: labenv bootstrap debian:bookworm -t debian:stable "), BaseImages.howToGet("debian:stable"));
    assertTrue(BaseImages.howToGet("busybox").startsWith("run: labenv bootstrap busybox (from this host"));
    assertTrue(BaseImages.howToGet("busybox:1.36").startsWith("run: labenv bootstrap busybox -t busybox:1.36 "));
    assertEquals("run: labenv pull python:3.12 (from a registry) or labenv load FILE (from an archive)",
        BaseImages.howToGet("python:3.12"));
    String pinned = "debian@sha256:" + "a".repeat(64);
    assertEquals("run: labenv pull " + pinned + " (from a registry) or labenv load FILE (from an archive)",
        BaseImages.howToGet(pinned));
    assertTrue(BaseImages.howToGet("Not A Name!").contains("labenv load FILE"));
  }
}
