package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import labenv.cli.RunIT.Proc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a container cannot do: busybox inside tries, the kernel answers. Each attempt prints what happened,
 * so a failure shows which wall is missing.
 */
class SecurityIT {
  /** Docker's default capabilities (CHOWN … SETFCAP) as /proc/PID/status prints them. */
  static final String DOCKER_DEFAULT_CAPS = "00000000a80425fb";

  @TempDir static Path dir;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(dir, List.of("umount", "unshare", "insmod", "kill", "mkdir", "wc"));
  }

  @Test
  void mountsAndNewUserNamespacesAreRefusedBySeccomp() throws Exception {
    Proc p = RunIT.sh("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir -p /mnt;"
        + " mount -t proc proc /mnt && echo mounted; umount /proc && echo unmounted;"
        + " unshare -U true && echo unshared; echo done");
    List<String> out = p.out().lines().map(s -> s.replaceAll("\\s+", " ")).toList();
    // mode 2 is a filter; in a user namespace nothing else stops unshare(CLONE_NEWUSER)
    assertEquals(List.of("NoNewPrivs: 1", "Seccomp: 2", "done"), out, p::toString);
    assertTrue(p.err().contains("unshare(0x10000000): Operation not permitted"), p::toString);
    assertTrue(p.err().contains("can't unmount /proc"), p::toString);
  }

  /** Root keeps CAP_MKNOD (docker's set) but cannot make a device node, so it cannot open the host's disks. */
  @Test
  void deviceNodesCannotBeMadeButFifosCan() throws Exception {
    Proc p = RunIT.sh("busybox mknod /tmp/disk b 7 0 || echo no-block; busybox mknod /tmp/mem c 1 1 || echo no-char;"
        + " busybox mknod /tmp/pipe p && echo fifo", "--tmpfs", "/tmp");
    assertEquals(List.of("no-block", "no-char", "fifo"), p.out().lines().toList(), p::toString);
    assertTrue(p.err().contains("Operation not permitted"), p::toString);
  }

  @Test
  void securityOptTurnsTheFilterOffOnlyWhenAskedAndRefusesWhatItDoesNotKnow() throws Exception {
    Proc off = RunIT.sh("grep -E '^Seccomp:' /proc/self/status", "--security-opt", "seccomp=unconfined");
    assertEquals(List.of("Seccomp: 0"), off.out().lines().map(s -> s.replaceAll("\\s+", " ")).toList(), off::toString);
    Proc bad = RunIT.sh("true", "--security-opt", "apparmor=foo");
    assertEquals(125, bad.code(), bad::toString);
    assertEquals(1, bad.err().lines().count(), bad::toString);
    assertTrue(bad.err().contains("--security-opt \"apparmor=foo\""), bad::toString);
  }

  @Test
  void maskedPathsShowNothingAndReadOnlyPathsRefuseWrites() throws Exception {
    List<String> masked = List.of("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
        "/proc/latency_stats", "/proc/acpi", "/sys/firmware", "/proc/scsi");
    List<String> readOnly = List.of("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs");
    StringBuilder script = new StringBuilder();
    for (String f : masked) {
      script.append("echo ").append(f).append(" $(cat ").append(f).append(" 2>/dev/null | wc -c)")
          .append(" $(ls ").append(f).append(" 2>/dev/null | wc -l);");
    }
    // the same value back: harmless if the wall were missing
    script.append("echo $(cat /proc/sys/kernel/domainname) > /proc/sys/kernel/domainname && echo sysctl-written;")
        .append("echo b > /proc/sysrq-trigger && echo sysrq-written;")
        .append("cat /proc/self/mountinfo");
    Proc p = RunIT.sh(script.toString());
    assertEquals(0, p.code(), p::toString);
    List<String> lines = p.out().lines().toList();
    for (int i = 0; i < masked.size(); i++) {
      String f = masked.get(i);
      // a masked file reads empty; a masked directory lists empty
      assertTrue(lines.get(i).startsWith(f + " 0 "), p::toString);
      if (Files.isDirectory(Path.of(f))) {
        assertTrue(lines.get(i).endsWith(" 0"), "empty: " + p);
      }
    }
    assertFalse(p.out().contains("sysctl-written"), p::toString);
    assertFalse(p.out().contains("sysrq-written"), p::toString);
    assertTrue(p.err().contains("/proc/sys/kernel/domainname: Read-only file system"), p::toString);
    Map<String, String> options = lines.subList(masked.size(), lines.size()).stream()
        .map(l -> l.split(" "))
        .collect(Collectors.toMap(f -> f[4], f -> f[5], (a, b) -> b));
    for (String f : masked) {
      assertEquals(Files.exists(Path.of(f)), options.containsKey(f), () -> f + " masked: " + p);
    }
    for (String f : readOnly) {
      if (Files.exists(Path.of(f))) {
        assertTrue(options.get(f).startsWith("ro,"), () -> f + " read-only: " + p);
      }
    }
  }

  @Test
  void rootHasDockersDefaultCapabilitiesAndOthersNone() throws Exception {
    Map<String, String> root = caps(RunIT.sh("grep -E '^Cap' /proc/self/status"));
    assertEquals(Map.of("CapInh", "0000000000000000", "CapPrm", DOCKER_DEFAULT_CAPS, "CapEff", DOCKER_DEFAULT_CAPS,
        "CapBnd", DOCKER_DEFAULT_CAPS, "CapAmb", "0000000000000000"), root);
    Map<String, String> alice = caps(RunIT.sh("grep -E '^Cap' /proc/self/status", "-u", "alice"));
    assertEquals(Map.of("CapInh", "0000000000000000", "CapPrm", "0000000000000000", "CapEff", "0000000000000000",
        "CapBnd", DOCKER_DEFAULT_CAPS, "CapAmb", "0000000000000000"), alice);
  }

  private static Map<String, String> caps(Proc p) {
    assertEquals(0, p.code(), p::toString);
    return p.out().lines().map(l -> l.split(":\\s*")).collect(Collectors.toMap(f -> f[0], f -> f[1]));
  }

  @Test
  void aModuleCannotBeLoaded() throws Exception {
    Proc p = RunIT.sh("insmod /bin/busybox && echo loaded");
    assertNotEquals(0, p.code(), p::toString);
    assertEquals("", p.out(), p::toString);
    assertTrue(p.err().contains("insmod"), p::toString);
  }

  @Test
  void hostProcessesAreOutOfReach() throws Exception {
    long host = ProcessHandle.current().pid();
    Proc p = RunIT.sh("kill -0 1 && echo own; kill -0 " + host + " && echo host; ls /proc | grep -c '^[0-9]'");
    List<String> lines = p.out().lines().toList();
    assertEquals("own", lines.get(0), p::toString);
    assertEquals(2, lines.size(), p::toString);
    // sh, ls and grep at most
    assertTrue(Integer.parseInt(lines.get(1)) <= 3, p::toString);
  }

  @Test
  void writesCannotLeaveTheRoot() throws Exception {
    String m = "escape-" + UUID.randomUUID();
    Proc p = RunIT.sh("cd /../../..; echo a > " + m + "-a; echo b > /proc/1/root/../../" + m + "-b;"
        + " echo c > /proc/1/cwd/../../../" + m + "-c; cat /" + m + "-a /" + m + "-b /" + m + "-c");
    // every write landed, at the container's root
    assertEquals("a\nb\nc\n", p.out(), p::toString);
    for (String s : List.of("-a", "-b", "-c")) {
      assertFalse(Files.exists(Path.of("/", m + s)));
      assertFalse(Files.exists(dir.resolve(m + s)));
    }
  }
}
