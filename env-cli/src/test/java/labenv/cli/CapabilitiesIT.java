package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import labenv.cli.RunIT.Proc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --cap-add/--cap-drop}: what the kernel shows and what root inside can then do. */
class CapabilitiesIT {
  @TempDir static Path dir;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(dir, List.of("chown", "ip", "mkdir"));
  }

  /** What each probe prints: the Cap* lines of /proc/self/status, then whether chown and ip worked. */
  private static final String PROBE = "grep -E '^Cap(Eff|Bnd)' /proc/self/status;"
      + " touch /f || echo no-file; chown 1000 /f 2>/dev/null && echo chown-ok || echo chown-denied;"
      + " ip link set lo mtu 1400 2>/dev/null && echo net-admin-ok || echo net-admin-denied";

  private static Map<String, String> lines(Proc p) {
    assertEquals(0, p.code(), p::toString);
    return p.out().lines().collect(Collectors.toMap(l -> l.split(":")[0].replace("-ok", "").replace("-denied", ""),
        l -> l.contains(":") ? l.split(":\\s*")[1] : l));
  }

  @Test
  void theDefaultIsDockersSetWithChownButNotNetAdmin() throws Exception {
    Map<String, String> p = lines(RunIT.sh(PROBE));
    assertEquals(Map.of("CapEff", SecurityIT.DOCKER_DEFAULT_CAPS, "CapBnd", SecurityIT.DOCKER_DEFAULT_CAPS,
        "chown", "chown-ok", "net-admin", "net-admin-denied"), p);
  }

  @Test
  void capDropTakesAwayAndCapAddGivesAnyCaseWithOrWithoutThePrefix() throws Exception {
    Map<String, String> p = lines(RunIT.sh(PROBE, "--cap-drop", "chown", "--cap-add", "CAP_NET_ADMIN"));
    // docker's set without CHOWN (bit 0), with NET_ADMIN (bit 12)
    String expected = String.format("%016x", (0xa80425fbL & ~1L) | (1L << 12));
    assertEquals(Map.of("CapEff", expected, "CapBnd", expected, "chown", "chown-denied", "net-admin", "net-admin-ok"), p);
  }

  @Test
  void capDropAllLeavesRootWithNothing() throws Exception {
    Map<String, String> p = lines(RunIT.sh(PROBE, "--cap-drop", "ALL"));
    assertEquals(Map.of("CapEff", "0000000000000000", "CapBnd", "0000000000000000", "chown", "chown-denied",
        "net-admin", "net-admin-denied"), p);
  }

  /** CAP_SYS_ADMIN is in the sets, but the seccomp filter still refuses mount(2). */
  @Test
  void sysAdminDoesNotGetPastTheSeccompFilter() throws Exception {
    Proc p = RunIT.sh("grep -E '^CapEff' /proc/self/status; mkdir -p /mnt; mount -t tmpfs t /mnt && echo mounted",
        "--cap-add", "sys_admin");
    assertEquals("CapEff:\t" + String.format("%016x", 0xa80425fbL | (1L << 21)), p.out().lines().findFirst().get(),
        p::toString);
    assertTrue(!p.out().contains("mounted"), p::toString);
    assertTrue(p.err().startsWith("mount: "), p::toString);
    // the capability is real: without the filter the same mount works
    Proc unconfined = RunIT.sh("mkdir -p /mnt; mount -t tmpfs t /mnt && echo mounted", "--cap-add", "sys_admin",
        "--security-opt", "seccomp=unconfined");
    assertEquals("mounted\n", unconfined.out(), unconfined::toString);
  }

  /** The identity changes before the capability sets do: a user without CAP_SETUID/SETGID is still set. */
  @Test
  void aUserIsSetEvenWithoutSetuidAndSetgid() throws Exception {
    Proc p = RunIT.run("--rm", "--cap-drop", "SETUID", "--cap-drop", "SETGID", "-u", "alice", RunIT.IMAGE, "id");
    assertEquals(new Proc(0, "uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)\n", ""), p);
  }

  @Test
  void anUnknownCapabilityIsOneLineAnd125() throws Exception {
    Proc p = RunIT.sh("true", "--cap-add", "NET_ADMINN");
    assertEquals(125, p.code(), p::toString);
    assertEquals("labenv: --cap-add \"NET_ADMINN\": unknown capability (e.g. NET_ADMIN, CAP_SYS_PTRACE, ALL)\n",
        p.err());
  }
}
