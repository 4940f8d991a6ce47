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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv run} as a separate process on the real kernel, with a static busybox image made
 * here; busybox inside the container is the probe that reports what the kernel shows.
 */
class RunIT {
  static final Path JAR = CliProcessIT.JAR;
  static final String IMAGE = "bb:1";
  @TempDir static Path shared;
  static Path home;
  static Path tree;
  @TempDir Path tmp;

  record Proc(int code, String out, String err) {}

  @BeforeAll
  static void busyboxImage() throws Exception {
    busyboxImage(shared, List.of());
  }

  /**
   * Imports a static busybox image as {@link #IMAGE} into a fresh store under {@code dir}, with the applets the
   * tests call (and {@code moreApplets}) linked in; {@link #run} and {@link #sh} then use that store.
   */
  static void busyboxImage(Path dir, List<String> moreApplets) throws Exception {
    home = dir.resolve("home");
    tree = dir.resolve("tree");
    Files.createDirectories(tree.resolve("bin"));
    Files.createDirectories(tree.resolve("etc"));
    Files.copy(Path.of("/bin/busybox"), tree.resolve("bin/busybox"));
    List<String> applets = new ArrayList<>(
        List.of("sh", "echo", "cat", "id", "hostname", "ls", "mount", "touch", "sleep", "grep"));
    applets.addAll(moreApplets);
    for (String applet : applets) {
      Files.createSymbolicLink(tree.resolve("bin").resolve(applet), Path.of("busybox"));
    }
    Files.writeString(tree.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
        + "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n");
    Files.writeString(tree.resolve("etc/group"), "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\n");
    Proc p = exec(List.of("java", "-jar", JAR.toString(), "import", tree.toString(), IMAGE));
    assertEquals(0, p.code(), p::toString);
  }

  static Proc exec(List<String> cmd) throws IOException, InterruptedException {
    CliProcessIT.Proc p = CliProcessIT.exec(cmd, home);
    return new Proc(p.code(), p.out(), p.err());
  }


  static Proc run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", JAR.toString(), "run"));
    cmd.addAll(List.of(args));
    return exec(cmd);
  }

  static Proc sh(String script, String... options) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of(options));
    args.add("--rm");
    args.addAll(List.of(IMAGE, "sh", "-c", script));
    return run(args.toArray(String[]::new));
  }

  @Test
  void theCommandStartsWithDefaultSignalDispositionsWhateverLabenvInherited() throws Exception {
    // A script's background job (&) has SIGHUP/SIGINT/SIGQUIT ignored, and an ignored signal survives exec:
    // the container's command must not inherit that (^C would not reach its jobs).
    Proc p = exec(List.of("sh", "-c", "trap '' HUP INT QUIT; exec java -jar " + JAR + " run --rm " + IMAGE
        + " grep SigIgn /proc/self/status"));
    assertEquals(0, p.code(), p::toString);
    assertTrue(p.out().startsWith("SigIgn:\t"), p::toString);
    long ignored = Long.parseUnsignedLong(p.out().substring("SigIgn:\t".length()).trim(), 16);
    // the classic signals 1-31 (bit n-1 for signal n); 32 and up are the C library's and the JVM's own
    assertEquals(0, ignored & 0x7fffffffL, () -> "ignored: " + Long.toHexString(ignored));
  }

  @Test
  void echoPrintsAndExitsZero() throws Exception {
    Proc p = run("--rm", IMAGE, "echo", "-n", "hi");
    assertEquals(new Proc(0, "hi", ""), p);
  }

  @Test
  void theContainersExitStatusIsLabenvs() throws Exception {
    assertEquals(7, sh("exit 7").code());
  }

  @Test
  void aMissingCommandIs127AndANonExecutableOne126() throws Exception {
    Proc missing = run("--rm", IMAGE, "nosuch");
    assertEquals(127, missing.code(), missing::toString);
    assertEquals(1, missing.err().lines().count(), missing::toString);
    assertTrue(missing.err().contains("nosuch"), missing::toString);
    Proc notExecutable = run("--rm", IMAGE, "/etc/passwd");
    assertEquals(126, notExecutable.code(), notExecutable::toString);
  }

  @Test
  void hostnameAndEnvironmentCanBeOverridden() throws Exception {
    Path envFile = tmp.resolve("env");
    Files.writeString(envFile, "# a comment\nFROM_FILE=f\nBOTH=file\n");
    Proc p = sh("hostname; echo $FOO $FROM_FILE $BOTH; echo $PATH; pwd", "--hostname", "box", "-e", "FOO=bar",
        "--env-file", envFile.toString(), "-e", "BOTH=flag", "-w", "/etc");
    assertEquals(0, p.code(), p::toString);
    assertEquals(List.of("box", "bar f flag", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "/etc"),
        p.out().lines().toList());
  }

  @Test
  void theCommandIsPidOneOfANewPidNamespace() throws Exception {
    Proc p = run("--rm", IMAGE, "cat", "/proc/1/cmdline");
    assertEquals("cat\0/proc/1/cmdline\0", p.out(), p::toString);
  }

  @Test
  void userByNameAndByNumber() throws Exception {
    Proc byName = run("--rm", "-u", "alice", IMAGE, "id");
    assertEquals("uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)", byName.out().trim(), byName::toString);
    Proc byNumber = run("--rm", "-u", "4242:4343", IMAGE, "id", "-u");
    assertEquals("4242", byNumber.out().trim(), byNumber::toString);
  }

  @Test
  void entrypointReplacesTheCommand() throws Exception {
    Proc p = run("--rm", "--entrypoint", "echo", IMAGE, "a", "b");
    assertEquals("a b\n", p.out(), p::toString);
  }

  @Test
  void aReadOnlyVolumeIsReadableButNotWritableNorRemountable() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("f"), "secret\n");
    Proc p = sh("cat /data/f; touch /data/x && echo touched; mount -o remount,rw /data && echo remounted;"
        + " touch /data/x && echo touched-after", "-v", data + ":/data:ro");
    assertEquals("secret\n", p.out(), p::toString);
    assertFalse(Files.exists(data.resolve("x")));
    Proc rw = sh("echo out > /data/y", "-v", data + ":/data");
    assertEquals(0, rw.code(), rw::toString);
    assertEquals("out\n", Files.readString(data.resolve("y")));
  }

  @Test
  void writesInsideStayInsideAndRmRemovesTheContainer() throws Exception {
    Proc p = sh("echo x > /x && cat /x");
    assertEquals("x\n", p.out(), p::toString);
    assertFalse(Files.exists(tree.resolve("x")));
    Proc again = sh("ls /x");
    assertEquals(1, again.code(), "a new container starts from the image: " + again);
    try (Stream<Path> s = Files.list(home.resolve("containers"))) {
      assertEquals(0, s.count());
    }
    Proc kept = run(IMAGE, "echo");
    assertEquals(0, kept.code(), kept::toString);
    try (Stream<Path> s = Files.list(home.resolve("containers"))) {
      List<Path> dirs = s.toList();
      assertEquals(1, dirs.size());
      assertTrue(Files.exists(dirs.get(0).resolve("config.json")));
      exec(List.of("rm", "-rf", dirs.get(0).toString()));
    }
  }

  @Test
  void networkNoneHasOnlyLoopbackUpAndHostSharesTheHosts() throws Exception {
    Proc none = sh("grep : /proc/net/dev | cut -d: -f1; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags");
    List<String> lines = none.out().lines().map(String::trim).toList();
    assertEquals("lo", lines.get(0), none::toString);
    assertEquals(3, lines.size(), "only lo: " + none);
    assertEquals(1, Integer.decode(lines.get(2)) & 1, "IFF_UP: " + none);
    Proc host = sh("cat /proc/net/dev", "--network", "host");
    assertEquals(Files.readAllLines(Path.of("/proc/net/dev")).size(), host.out().lines().count(), host::toString);
  }

  @Test
  void procShowsTheUidMapAndSysIsReadOnly() throws Exception {
    Proc p = sh("cat /proc/self/uid_map; touch /sys/x 2>/dev/null || echo sys-ro; ls /dev");
    List<String> lines = p.out().lines().map(String::trim).toList();
    String[] map = lines.get(0).split("\\s+");
    // as root: the identity map of the whole range; rootless: root inside is the caller outside
    assertEquals("0", map[0], p::toString);
    assertEquals(Files.readString(Path.of("/proc/self/uid_map")).trim().split("\\s+")[1], map[1], p::toString);
    assertEquals("sys-ro", lines.get(1), p::toString);
    assertTrue(lines.containsAll(List.of("null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm")),
        p::toString);
  }

  @Test
  void badInputIsOneLineAndExit125AndLeavesNothingBehind() throws Exception {
    String mountsBefore = mountsUnder(home);
    for (String[] args : List.of(new String[] {"--rm", "nosuch:1", "true"},
        new String[] {"--rm", "-v", "./relative:/x", IMAGE, "echo"},
        new String[] {"--rm", "-v", "/tmp:/x:rx", IMAGE, "echo"},
        new String[] {"--rm", IMAGE},
        new String[] {"--rm", "--bogus", IMAGE, "echo"})) {
      Proc p = run(args);
      assertEquals(125, p.code(), String.join(" ", args) + ": " + p);
      assertTrue(p.err().startsWith("labenv: "), p::toString);
    }
    assertEquals(mountsBefore, mountsUnder(home));
    try (Stream<Path> s = Files.list(home.resolve("containers"))) {
      assertEquals(0, s.count());
    }
  }

  @Test
  void sigtermReachesTheContainer() throws Exception {
    Process p = startUntilReady("sig", "trap 'exit 3' TERM; touch /data/ready; while :; do sleep 0.1; done");
    p.destroy();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(3, p.exitValue(), () -> read(tmp.resolve("log")));
  }

  /** Starts {@code run --rm IMAGE sh -c script} with a volume at /data, and waits until it touches /data/ready. */
  private Process startUntilReady(String name, String script) throws Exception {
    Path data = Files.createDirectories(tmp.resolve(name));
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", JAR.toString(), "run", "--rm", "-v", data + ":/data",
        IMAGE, "sh", "-c", script);
    pb.environment().put("LABENV_HOME", home.toString());
    pb.redirectErrorStream(true).redirectOutput(tmp.resolve("log").toFile());
    Process p = pb.start();
    for (int i = 0; i < 300 && !Files.exists(data.resolve("ready")); i++) {
      Thread.sleep(50);
    }
    assertTrue(Files.exists(data.resolve("ready")), () -> "never started: " + read(tmp.resolve("log")));
    return p;
  }

  /** The same container, started by an unprivileged user: a user namespace maps them to root inside. */
  @Test
  void rootlessRunsInAUserNamespace() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")));
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"),
        "needs root to become someone else");
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "labenv-rootless");
    try {
      Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      Path jar = Files.copy(JAR, dir.resolve("labenv.jar"));
      Path data = Files.createDirectories(dir.resolve("data"));
      Files.writeString(data.resolve("f"), "s\n");
      exec(List.of("cp", "-r", tree.toString(), dir.resolve("bb").toString()));
      String labenv = "java -jar " + jar + " --home " + dir.resolve("home");
      String script = labenv + " import " + dir.resolve("bb") + " bb:1 >/dev/null && " + labenv + " run --rm -v " + data
          + ":/data:ro --hostname rl bb:1 sh -c 'id -u; hostname; cat /proc/self/uid_map; cat /data/f;"
          + " touch /data/x 2>/dev/null || echo ro; mount -o remount,rw /data 2>/dev/null || echo locked'";
      Proc p = exec(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script));
      assertEquals(0, p.code(), p::toString);
      List<String> lines = p.out().lines().map(String::trim).toList();
      assertEquals("0", lines.get(0), p::toString);
      assertEquals("rl", lines.get(1), p::toString);
      assertEquals(List.of("0", "65534", "1"), List.of(lines.get(2).split("\\s+")), p::toString);
      assertEquals(List.of("s", "ro", "locked"), lines.subList(3, 6), p::toString);
    } finally {
      exec(List.of("rm", "-rf", dir.toString()));
    }
  }

  /**
   * With subordinate ids for the user (/etc/subuid, /etc/subgid: added here and restored), ids 1..N inside map to
   * the range through newuidmap/newgidmap, so another user inside works; root inside is still the caller.
   */
  @Test
  void rootlessWithSubordinateIdsMapsTheirRange() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"),
        "needs root to become someone else and to configure /etc/subuid");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/newuidmap")),
        "newuidmap (package uidmap) is not installed");
    Path subuid = Path.of("/etc/subuid");
    Path subgid = Path.of("/etc/subgid");
    byte[] uidBefore = Files.exists(subuid) ? Files.readAllBytes(subuid) : null;
    byte[] gidBefore = Files.exists(subgid) ? Files.readAllBytes(subgid) : null;
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "labenv-subuid");
    try {
      Files.writeString(subuid, "nobody:300000:65536\n", java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      Files.writeString(subgid, "nobody:300000:65536\n", java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      Path jar = Files.copy(JAR, dir.resolve("labenv.jar"));
      exec(List.of("cp", "-r", tree.toString(), dir.resolve("bb").toString()));
      exec(List.of("chmod", "-R", "a+rX", dir.toString()));
      String labenv = "java -jar " + jar + " --home " + dir.resolve("home");
      String script = labenv + " import " + dir.resolve("bb") + " bb:1 >/dev/null && " + labenv
          + " run --rm bb:1 cat /proc/self/uid_map /proc/self/gid_map && " + labenv
          + " run --rm -u 1000:50 bb:1 sh -c 'id -u; id -g'";
      Proc p = exec(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script));
      assertEquals(0, p.code(), p::toString);
      List<List<String>> rows = p.out().lines().map(l -> List.of(l.trim().split("\\s+"))).toList();
      assertEquals(List.of(List.of("0", "65534", "1"), List.of("1", "300000", "65536"),
          List.of("0", "65534", "1"), List.of("1", "300000", "65536"), List.of("1000"), List.of("50")), rows,
          p::toString);
    } finally {
      restore(subuid, uidBefore);
      restore(subgid, gidBefore);
      exec(List.of("rm", "-rf", dir.toString()));
    }
  }

  private static void restore(Path file, byte[] before) throws IOException {
    if (before == null) {
      Files.deleteIfExists(file);
    } else {
      Files.write(file, before);
    }
  }

  /** A pid 1 without a handler ignores SIGTERM; the second one labenv gets is a SIGKILL: 128+9. */
  @Test
  void aSecondSignalKillsAndTheStatusIs128PlusTheSignal() throws Exception {
    Process p = startUntilReady("sig2", "touch /data/ready; while :; do sleep 0.1; done");
    p.destroy();
    assertFalse(p.waitFor(1, TimeUnit.SECONDS), "pid 1 has no handler for SIGTERM");
    p.destroy();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue(), () -> read(tmp.resolve("log")));
  }

  @Test
  void readOnlyRootRefusesWritesButDevAndVolumesStayWritable() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("rw"));
    Proc p = sh("touch /x 2>/dev/null || echo root-ro; echo a > /dev/shm/a && echo shm-rw; echo b > /data/b && echo vol-rw",
        "--read-only", "-v", data + ":/data");
    assertEquals(List.of("root-ro", "shm-rw", "vol-rw"), p.out().lines().toList(), p::toString);
  }

  /** Root without CAP_SYS_ADMIN: unshare itself fails with 1, which must not pass for the container's 1. */
  @Test
  void unsharesOwnFailureIs125() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"));
    Proc p = exec(List.of("setpriv", "--bounding-set=-sys_admin", "java", "-jar", JAR.toString(), "run", "--rm",
        IMAGE, "true"));
    assertEquals(125, p.code(), p::toString);
    assertTrue(p.err().contains("labenv: container ") && p.err().contains("unshare could not start it"), p::toString);
    try (Stream<Path> s = Files.list(home.resolve("containers"))) {
      assertEquals(0, s.count());
    }
  }

  @Test
  void aMissingWorkingDirectoryIsCreated() throws Exception {
    Proc p = run("--rm", "-w", "/new/dir", IMAGE, "sh", "-c", "pwd");
    assertEquals(new Proc(0, "/new/dir\n", ""), p);
  }

  /** The mounts in this store (other processes on the machine may mount and unmount elsewhere meanwhile). */
  static String mountsUnder(Path dir) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(dir.toString()))
        .collect(java.util.stream.Collectors.joining("\n"));
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
