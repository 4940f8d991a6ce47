package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import labenv.container.ContainerSpec;
import labenv.container.Limits;
import labenv.image.Json;
import labenv.oci.OciConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv runtime} driven as runc is, on a bundle made from the busybox test image, with real processes;
 * and {@code run --runtime crun|runc} handing labenv's config to those runtimes.
 */
class RuntimeIT {
  @TempDir static Path shared;
  @TempDir Path tmp;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("cut"));
  }

  /** Whatever a failed test left: nothing may stay running. */
  @AfterEach
  void deleteLeftovers() throws Exception {
    if (Files.isDirectory(tmp.resolve("state"))) {
      try (var left = Files.list(tmp.resolve("state"))) {
        for (Path dir : left.toList()) {
          runtime("delete", "--force", dir.getFileName().toString());
        }
      }
    }
  }

  /** A bundle: the image unpacked into rootfs/, and config.json for {@code script} as labenv would write it. */
  Path bundle(String script, Limits limits) throws Exception {
    Path bundle = Files.createDirectories(tmp.resolve("bundle"));
    RunIT.Proc unpack = labenv("unpack", RunIT.IMAGE, bundle.resolve("rootfs").toString());
    assertEquals(0, unpack.code(), unpack::toString);
    Files.createDirectories(bundle.resolve("rootfs/tmp"));
    ContainerSpec spec = new ContainerSpec(
        new ContainerSpec.Process(List.of("sh", "-c", script), List.of("PATH=/bin"), "/",
            new ContainerSpec.User(0, 0, List.of())),
        new ContainerSpec.Root("rootfs", false), "oci", List.of(), ContainerSpec.Network.NONE);
    Files.write(bundle.resolve("config.json"), OciConfig.of(spec, limits, null).toJson());
    return bundle;
  }

  static RunIT.Proc labenv(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    cmd.addAll(List.of(args));
    return RunIT.exec(cmd);
  }

  RunIT.Proc runtime(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("runtime", "--root", tmp.resolve("state").toString()));
    all.addAll(List.of(args));
    return labenv(all.toArray(String[]::new));
  }

  JsonNode state(String id) throws Exception {
    RunIT.Proc p = runtime("state", id);
    assertEquals(0, p.code(), p::toString);
    return Json.tree(p.out().getBytes(StandardCharsets.UTF_8), "state");
  }

  /** Polls: the container works at its own pace, and the assertion is on what it did, not on when. */
  static void await(java.util.concurrent.Callable<Boolean> condition, String what) throws Exception {
    for (int i = 0; i < 600 && !condition.call(); i++) {
      Thread.sleep(50);
    }
    assertTrue(condition.call(), what);
  }

  static void assertOneLineFailure(int code, RunIT.Proc p, String contains) {
    assertEquals(code, p.code(), p::toString);
    assertEquals(1, p.err().lines().count(), p::toString);
    assertTrue(p.err().startsWith("labenv: ") && p.err().contains(contains), p::toString);
  }

  @Test
  void createWaitsStartRunsKillSignalsDeleteRemoves() throws Exception {
    Path bundle = bundle("echo started > /tmp/started; trap 'echo term > /tmp/term; exit 3' TERM;"
        + " while :; do sleep 0.1; done", Limits.NONE);
    Path started = bundle.resolve("rootfs/tmp/started");
    Path pidFile = tmp.resolve("pid");
    RunIT.Proc create = runtime("create", "--bundle", bundle.toString(), "--pid-file", pidFile.toString(), "c1");
    assertEquals(0, create.code(), create::toString);

    JsonNode created = state("c1");
    assertEquals("created", created.get("status").asText());
    assertEquals("c1", created.get("id").asText());
    assertEquals(bundle.toString(), created.get("bundle").asText());
    assertTrue(created.get("ociVersion").asText().startsWith("1."));
    long pid = created.get("pid").asLong();
    assertEquals(Long.toString(pid), Files.readString(pidFile), "runc's pid file: the pid alone");
    assertTrue(Files.exists(Path.of("/proc/" + pid)), "the container's init outlives create");
    // Its namespaces are made and its root pivoted already: it waits on the exec FIFO, before the command.
    assertFalse(Files.isSameFile(Path.of("/proc/self/ns/mnt"), Path.of("/proc/" + pid + "/ns/mnt")));
    assertFalse(Files.exists(started), "the command must not run before start");
    assertFalse(Files.exists(started), "still not: create's wait is not a race");

    RunIT.Proc start = runtime("start", "c1");
    assertEquals(0, start.code(), start::toString);
    await(() -> Files.exists(started), "the command runs after start");
    assertEquals("running", state("c1").get("status").asText());
    assertEquals(pid, state("c1").get("pid").asLong(), "the same process, now the command");
    assertOneLineFailure(1, runtime("start", "c1"), "is running: only a created container can be started");
    assertOneLineFailure(1, runtime("delete", "c1"), "is running");

    RunIT.Proc kill = runtime("kill", "c1", "TERM");
    assertEquals(0, kill.code(), kill::toString);
    await(() -> state("c1").get("status").asText().equals("stopped"), "stopped after SIGTERM");
    assertEquals("term\n", Files.readString(bundle.resolve("rootfs/tmp/term")), "the trap saw SIGTERM");
    assertEquals(0, state("c1").get("pid").asLong());
    assertOneLineFailure(1, runtime("kill", "c1"), "is stopped");

    RunIT.Proc delete = runtime("delete", "c1");
    assertEquals(0, delete.code(), delete::toString);
    assertFalse(Files.exists(tmp.resolve("state/c1")));
    assertOneLineFailure(1, runtime("state", "c1"), "container c1 does not exist");
  }

  @Test
  void deleteKillsAWaitingInitAndForceARunningOne() throws Exception {
    Path bundle = bundle("while :; do sleep 1; done", Limits.NONE);
    assertEquals(0, runtime("create", "-b", bundle.toString(), "waiting").code());
    long waiting = state("waiting").get("pid").asLong();
    RunIT.Proc delete = runtime("delete", "waiting");
    assertEquals(0, delete.code(), delete::toString);
    assertTrue(gone(waiting), "the waiting init is gone");

    assertEquals(0, runtime("create", "-b", bundle.toString(), "running").code());
    assertEquals(0, runtime("start", "running").code());
    long running = state("running").get("pid").asLong();
    RunIT.Proc force = runtime("delete", "--force", "running");
    assertEquals(0, force.code(), force::toString);
    assertTrue(gone(running), "the running container is gone");
    assertFalse(Files.exists(tmp.resolve("state/running")));
  }

  /** Gone, or a zombie its unshare has yet to reap. */
  static boolean gone(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/stat")).contains(") Z ");
    } catch (java.io.IOException e) {
      return true;
    }
  }

  @Test
  void mistakesAreOneLineWithRuncsExitCodes() throws Exception {
    Path bundle = bundle("sleep 100", Limits.NONE);
    assertEquals(0, runtime("create", "-b", bundle.toString(), "dup").code());
    assertOneLineFailure(1, runtime("create", "-b", bundle.toString(), "dup"), "container dup already exists");
    assertEquals(0, runtime("delete", "dup").code());
    for (String verb : List.of("start", "state", "kill", "delete")) {
      assertOneLineFailure(1, runtime(verb, "nosuch"), "container nosuch does not exist");
    }
    assertEquals(2, runtime("create").code(), "no id: bad usage");
    assertOneLineFailure(2, runtime("kill", "nosuch", "NOSIG"), "signal \"NOSIG\"");
    assertOneLineFailure(2, runtime("create", "-b", bundle.toString(), "../x"), "container id \"../x\"");

    // A config labenv cannot honour: refused by field, before anything is made.
    JsonNode config = Json.tree(Files.readAllBytes(bundle.resolve("config.json")), "config");
    ((com.fasterxml.jackson.databind.node.ObjectNode) config.get("process")).put("terminal", true);
    Files.writeString(bundle.resolve("config.json"), Json.pretty(config));
    assertOneLineFailure(2, runtime("create", "-b", bundle.toString(), "tty"), "config.json: process.terminal: ");
    try (var left = Files.list(tmp.resolve("state"))) {
      assertEquals(0, left.count(), "nothing left behind");
    }
  }

  @Test
  void aFailingInitLeavesNothingBehind() throws Exception {
    Path bundle = bundle("true", Limits.NONE);
    JsonNode config = Json.tree(Files.readAllBytes(bundle.resolve("config.json")), "config");
    // The kernel refuses hostnames over 64 bytes: Init fails inside the new namespaces.
    ((com.fasterxml.jackson.databind.node.ObjectNode) config).put("hostname", "h".repeat(80));
    Files.writeString(bundle.resolve("config.json"), Json.pretty(config));
    RunIT.Proc p = runtime("create", "-b", bundle.toString(), "bad");
    assertEquals(1, p.code(), p::toString);
    assertTrue(p.err().contains("sethostname") && p.err().contains("container bad: its init exited with status 125"),
        p::toString);
    try (var left = Files.list(tmp.resolve("state"))) {
      assertEquals(0, left.count(), "nothing left behind");
    }
  }

  @Test
  void limitsGoToTheContainersCgroupsAndDeleteRemovesThem() throws Exception {
    assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"), "cgroups need root here");
    Path bundle = bundle("sleep 100", new Limits(64L << 20, 50_000, 20));
    assertEquals(0, runtime("create", "-b", bundle.toString(), "limited").code());
    assertEquals(0, runtime("start", "limited").code());
    long pid = state("limited").get("pid").asLong();
    List<Path> groups = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
      String[] f = line.split(":", 3);
      if (f[1].equals("pids") || f[1].equals("memory")) {
        groups.add(Path.of("/sys/fs/cgroup", f[1]).resolve(f[2].substring(1)));
      }
    }
    assertEquals(2, groups.size(), groups::toString);
    Path pids = groups.stream().filter(g -> g.startsWith("/sys/fs/cgroup/pids")).findFirst().orElseThrow();
    Path memory = groups.stream().filter(g -> g.startsWith("/sys/fs/cgroup/memory")).findFirst().orElseThrow();
    assertTrue(pids.endsWith("labenv/limited"), pids::toString);
    await(() -> Files.readString(pids.resolve("pids.max")).trim().equals("20"),
        "the pids limit tightens once the command runs");
    assertEquals(Long.toString(64L << 20), Files.readString(memory.resolve("memory.limit_in_bytes")).trim());
    assertEquals(0, runtime("delete", "--force", "limited").code());
    assertFalse(Files.exists(pids), "delete removes the cgroups");
    assertFalse(Files.exists(memory), "delete removes the cgroups");
  }

  /** The same lifecycle for an unprivileged user: the bundle's user namespace maps them to root inside. */
  @Test
  void rootlessWithAUserNamespace() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")));
    assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"), "needs root to become nobody");
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "labenv-oci-rootless");
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
      Path jar = Files.copy(RunIT.JAR, dir.resolve("labenv.jar"));
      RunIT.exec(List.of("cp", "-r", RunIT.tree.toString(), dir.resolve("bb").toString()));
      RunIT.exec(List.of("chmod", "-R", "a+rwX", dir.resolve("bb").toString()));
      ContainerSpec spec = new ContainerSpec(
          new ContainerSpec.Process(List.of("sh", "-c", "cat /proc/self/uid_map > /uid_map; sleep 100"),
              List.of("PATH=/bin"), "/", new ContainerSpec.User(0, 0, List.of())),
          new ContainerSpec.Root("rootfs", false), "rl", List.of(), ContainerSpec.Network.NONE);
      Path bundle = Files.createDirectories(dir.resolve("bundle"));
      Files.write(bundle.resolve("config.json"),
          OciConfig.of(spec, Limits.NONE, new labenv.oci.UserNamespace(65534, 65534)).toJson());
      RunIT.exec(List.of("chmod", "-R", "a+rwX", bundle.toString()));
      String labenv = "java -jar " + jar + " --home " + dir.resolve("home");
      String rt = labenv + " runtime --root " + dir.resolve("state");
      String script = "set -e; " + labenv + " import " + dir.resolve("bb") + " bb:1 >/dev/null; "
          + labenv + " unpack bb:1 " + bundle.resolve("rootfs") + "; "
          + rt + " create -b " + bundle + " rl; " + rt + " state rl | grep status; "
          + rt + " start rl; while [ ! -s " + bundle.resolve("rootfs/uid_map") + " ]; do sleep 0.1; done; "
          + rt + " state rl | grep status; " + rt + " kill rl KILL; "
          + "while ! " + rt + " state rl | grep -q stopped; do sleep 0.1; done; " + rt + " delete rl; "
          + "cat " + bundle.resolve("rootfs/uid_map");
      RunIT.Proc p = RunIT.exec(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
          script));
      assertEquals(0, p.code(), p::toString);
      List<String> lines = p.out().lines().map(String::trim).toList();
      assertEquals("\"status\" : \"created\",", lines.get(0), p::toString);
      assertEquals("\"status\" : \"running\",", lines.get(1), p::toString);
      assertEquals(List.of("0", "65534", "1"), List.of(lines.get(2).split("\\s+")), p::toString);
      assertFalse(Files.exists(dir.resolve("state/rl")));
    } finally {
      RunIT.exec(List.of("rm", "-rf", dir.toString()));
    }
  }

  /** The config labenv writes is one crun and runc accept, and they run the container as labenv's init would. */
  @Test
  void runWithCrunAndRunc() throws Exception {
    List<String> runtimes = List.of("crun", "runc").stream()
        .filter(r -> List.of("/usr/bin/", "/usr/sbin/").stream().anyMatch(d -> Files.isExecutable(Path.of(d + r))))
        .toList();
    assumeTrue(!runtimes.isEmpty(), "neither crun nor runc is installed (apt-get install crun runc)");
    for (String runtime : runtimes) {
      RunIT.Proc p = RunIT.run("--runtime", runtime, "--rm", "--hostname", "box", RunIT.IMAGE, "sh", "-c",
          "hostname; cat /proc/self/status");
      assertEquals(0, p.code(), runtime + ": " + p);
      List<String> lines = p.out().lines().toList();
      assertEquals("box", lines.get(0), runtime + ": " + p);
      assertTrue(lines.contains("NoNewPrivs:\t1"), runtime + ": " + p);
      assertTrue(lines.contains("Seccomp:\t2"), "labenv's filter, in libseccomp's form: " + p);
      assertTrue(lines.contains("CapBnd:\t00000000a80425fb"), "Docker's default set: " + p);

      assertEquals(7, RunIT.run("--runtime", runtime, "--rm", RunIT.IMAGE, "sh", "-c", "exit 7").code(), runtime);
      RunIT.Proc missing = RunIT.run("--runtime", runtime, "--rm", RunIT.IMAGE, "nosuch");
      assertEquals(127, missing.code(), runtime + ": " + missing);
      assertEquals(1, missing.err().lines().count(), runtime + ": " + missing);
    }
    try (var left = Files.list(RunIT.home.resolve("containers"))) {
      assertEquals(0, left.count(), "--rm removed the containers, bundles and runtime state");
    }
  }

  @Test
  void anUnknownRuntimeIsBadInput() throws Exception {
    RunIT.Proc p = RunIT.run("--runtime", "docker", "--rm", RunIT.IMAGE, "true");
    assertEquals(125, p.code(), p::toString);
    assertEquals("labenv: runtime \"docker\": expected labenv, crun or runc\n", p.err());
  }

  @Test
  void aRuntimeThatIsNotInstalledIsOneLine() throws Exception {
    assumeTrue(!Files.isExecutable(Path.of("/usr/sbin/runc")) && !Files.isExecutable(Path.of("/usr/bin/runc")),
        "runc is installed");
    RunIT.Proc p = RunIT.run("--runtime", "runc", "--rm", RunIT.IMAGE, "true");
    assertEquals(125, p.code(), p::toString);
    assertEquals("labenv: runc is not installed: apt-get install runc\n", p.err());
  }
}
