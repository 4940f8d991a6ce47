package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import labenv.cli.RunIT.Proc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run --memory/--cpus/--pids-limit} against the real kernel's cgroups. Where the container's
 * processes landed is read from {@code /proc/<pid>/cgroup} on the host, not from labenv.
 */
class LimitsIT {
  @TempDir static Path shared;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, java.util.List.of());
  }

  @Test
  void aPidsLimitStopsForks() throws Exception {
    // Counting to 300 first: labenv tightens the limit when it sees init exec the command (see Launcher).
    Proc p = RunIT.sh("i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; "
        + "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait", "--pids-limit", "5");
    assertTrue(p.err().contains("can't fork"), p::toString);
    assertTrue(p.code() != 0, p::toString);
    Proc within = RunIT.sh("for i in 1 2 3; do sleep 0.1 & done; wait; echo done", "--pids-limit", "5");
    assertEquals(new Proc(0, "done\n", ""), within);
  }

  @Test
  void anOutOfMemoryKillIs137AndSaysSo() throws Exception {
    Proc p = RunIT.sh("x=$(busybox head -c 200000000 /dev/zero | busybox tr '\\0' a); echo survived",
        "--memory", "32m");
    assertEquals(137, p.code(), p::toString);
    assertFalse(p.out().contains("survived"), p::toString);
    List<String> lines = p.err().lines().toList();
    assertTrue(lines.get(lines.size() - 1).matches("labenv: container [0-9a-f]{12}: killed: out of memory \\(limit 32m\\)"),
        p::toString);
    Proc fits = RunIT.sh("x=$(busybox head -c 1000000 /dev/zero | busybox tr '\\0' a); echo ${#x}", "--memory", "32m");
    assertEquals(new Proc(0, "1000000\n", ""), fits);
  }

  /** Smaller than the init JVM needs: init runs under a headroom, and the limit itself holds once it has exec'd. */
  @Test
  void aMemoryLimitBelowWhatInitNeedsStillStartsAndHolds() throws Exception {
    Proc small = RunIT.sh("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null;"
        + " echo started", "--memory", "8m");
    assertEquals(0, small.code(), small::toString);
    assertTrue(small.out().endsWith("started\n"), small::toString);
    Proc big = RunIT.sh("sleep 0.2; x=$(busybox head -c 40000000 /dev/zero | busybox tr '\\0' a); echo survived",
        "--memory", "8m");
    assertEquals(137, big.code(), big::toString);
    assertFalse(big.out().contains("survived"), big::toString);
  }

  @Test
  void cpusAreTheCgroupsQuotaWhileItRunsAndTheGroupsGoAfterwards() throws Exception {
    String token = "4.321";
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString(), "run", "--rm", "--cpus", "0.5",
        "--memory", "64m", "--pids-limit", "50", RunIT.IMAGE, "sleep", token));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("LABENV_HOME", RunIT.home.toString());
    Process run = pb.start();
    long pid = -1;
    for (int i = 0; i < 200 && pid < 0; i++) {
      pid = findSleep(token);
      Thread.sleep(20);
    }
    assertTrue(pid > 0, "container's sleep not found");
    List<String> cgroups = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"));
    List<Path> groups = new ArrayList<>();
    String quota = null;
    for (String line : cgroups) {
      String[] f = line.split(":", 3);
      if (!f[2].contains("/labenv/")) {
        continue;
      }
      Path dir = Path.of("/sys/fs/cgroup", f[1].isEmpty() ? "unified" : f[1].replace("name=", ""), f[2]);
      if (f[1].isEmpty() && !Files.isDirectory(dir)) {
        dir = Path.of("/sys/fs/cgroup", f[2]);
      }
      groups.add(dir);
      if (List.of(f[1].split(",")).contains("cpu")) {
        quota = Files.readString(dir.resolve("cpu.cfs_quota_us")).trim() + " "
            + Files.readString(dir.resolve("cpu.cfs_period_us")).trim();
      } else if (f[1].isEmpty() && Files.exists(dir.resolve("cpu.max"))) {
        quota = Files.readString(dir.resolve("cpu.max")).trim();
      }
    }
    assertEquals("50000 100000", quota, cgroups::toString);
    assertTrue(groups.size() >= 1, cgroups::toString);
    assertTrue(run.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, run.exitValue(), new String(run.getInputStream().readAllBytes()));
    for (Path g : groups) {
      assertFalse(Files.exists(g), g + " left behind");
    }
  }

  private static long findSleep(String token) throws IOException {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try {
          if (Files.readString(p.resolve("cmdline")).equals("sleep\0" + token + "\0")) {
            return Long.parseLong(p.getFileName().toString());
          }
        } catch (IOException e) {
          // gone meanwhile
        }
      }
    }
    return -1;
  }

  @Test
  void malformedLimitsAre125AndOneLine() throws Exception {
    for (String[] args : List.of(new String[] {"--memory", "12x"}, new String[] {"--memory", "1k"},
        new String[] {"--memory", ""}, new String[] {"--cpus", "half"}, new String[] {"--cpus", "0"},
        new String[] {"--cpus", "-1"}, new String[] {"--pids-limit", "0"}, new String[] {"--pids-limit", "many"})) {
      Proc p = RunIT.sh("echo ran", args);
      assertEquals(125, p.code(), String.join(" ", args) + ": " + p);
      assertEquals("", p.out(), p::toString);
      assertEquals(1, p.err().lines().count(), p::toString);
      assertTrue(p.err().contains(args[0]), p::toString);
    }
  }

  @Test
  void unlimitedPidsNeedsNoCgroup() throws Exception {
    assertEquals(new Proc(0, "ok\n", ""), RunIT.sh("echo ok", "--pids-limit", "-1"));
  }
}
