package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import labenv.cli.RunIT.Proc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv exec} into containers that {@code labenv run} started in the background: busybox inside reports
 * what the kernel shows, and the host's /proc confirms it from outside.
 */
class ExecIT {
  static final Path JAR = CliProcessIT.JAR;
  @TempDir static Path dir;
  @TempDir Path tmp;
  private final List<Process> runs = new ArrayList<>();

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(dir, List.of("ps", "readlink", "tty", "stty", "kill", "pwd"));
  }

  /** A running container: the {@code labenv run} process, its first process's pid on the host and its spec file. */
  record Container(Process run, long pid, String name, Path home, Path data, Path log) {
    void stop() throws InterruptedException {
      ExecIT.stop(run);
    }
  }

  /** SIGTERM, which the container's command traps to exit 0; labenv run then removes the container. */
  static void stop(Process run) throws InterruptedException {
    run.destroy();
    if (!run.waitFor(60, TimeUnit.SECONDS)) {
      run.destroyForcibly();
      run.waitFor();
    }
  }

  /**
   * Starts {@code [prefix] java -jar labenv.jar --home HOME run --rm -v DATA:/data OPTIONS bb:1 sh -c ...}, whose
   * command writes /made (as root) and /data/ready, then waits for SIGTERM.
   */
  Container start(List<String> prefix, Path home, Path jar, Path data, String... options) throws Exception {
    Files.createDirectories(data);
    // whoever the container's user is may write
    Files.setPosixFilePermissions(data, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    List<String> cmd = new ArrayList<>(prefix);
    String name = "exec" + (++started);
    cmd.addAll(List.of("java", "-jar", jar.toString(), "--home", home.toString(), "run", "--rm", "--name", name,
        "-v", data + ":/data"));
    cmd.addAll(List.of(options));
    cmd.addAll(List.of(RunIT.IMAGE, "sh", "-c", COMMAND));
    Path log = Files.createTempFile(tmp, "run", ".log");
    Process run = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    runs.add(run);
    for (int i = 0; i < 600 && run.isAlive() && !Files.exists(data.resolve("ready")); i++) {
      Thread.sleep(50);
    }
    assertTrue(Files.exists(data.resolve("ready")), () -> "never started: " + RunIT.read(log));
    // The container's first process, as its state on disk records it.
    String id = Files.readString(home.resolve("containers/.names").resolve(name)).trim();
    long pid = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(home.resolve("containers").resolve(id).resolve("state.json").toFile()).get("pid").asLong();
    return new Container(run, pid, name, home, data, log);
  }

  private static int started;

  static final String COMMAND =
      "trap 'exit 0' TERM; echo made > /made 2>/dev/null; touch /data/ready; while :; do sleep 1; done";

  Container start(String... options) throws Exception {
    return start(List.of(), RunIT.home, JAR, tmp.resolve("data"), options);
  }

  @AfterEach
  void stopAll() throws Exception {
    for (Process run : runs) {
      stop(run);
    }
  }

  /** {@code labenv exec ARGS}, where the argument "x" stands for the container's name. */
  static List<String> exec(Container c, String... args) {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", JAR.toString(), "--home", c.home().toString(), "exec"));
    cmd.addAll(named(c, List.of(args)));
    return cmd;
  }

  static List<String> named(Container c, List<String> args) {
    List<String> out = new ArrayList<>(args);
    out.set(out.indexOf("x"), c.name());
    return out;
  }

  static Proc run(List<String> cmd) throws Exception {
    return RunIT.exec(cmd);
  }

  private static final List<String> NAMESPACES = List.of("cgroup", "ipc", "mnt", "net", "pid", "uts", "user");

  @Test
  void seesTheContainersHostnameFilesProcessesAndNamespaces() throws Exception {
    Container c = start("--hostname", "box");
    StringBuilder script = new StringBuilder("hostname; cat /made; cat /proc/1/cmdline; echo; ps -o pid,comm;");
    for (String ns : NAMESPACES) {
      script.append(" echo ").append(ns).append(" $(readlink /proc/self/ns/").append(ns).append(");");
    }
    Proc p = run(exec(c, "x", "sh", "-c", script.toString()));
    assertEquals(0, p.code(), p::toString);
    List<String> lines = p.out().lines().toList();
    assertEquals("box", lines.get(0), p::toString);
    assertEquals("made", lines.get(1), p::toString);
    assertEquals("sh\0-c\0" + COMMAND + "\0", lines.get(2), p::toString);
    // the same pid namespace: pid 1 is the container's sh, and ps sees the exec'd shell too
    assertTrue(lines.contains("    1 sh"), p::toString);
    assertTrue(lines.stream().filter(l -> l.endsWith(" sh")).count() >= 2, p::toString);
    // every namespace is pid 1's, as the host sees them
    for (String ns : NAMESPACES) {
      String expected = Files.readSymbolicLink(Path.of("/proc/" + c.pid() + "/ns/" + ns)).toString();
      assertTrue(lines.contains(ns + " " + expected), () -> ns + " is " + expected + ": " + p);
    }
  }

  /** The host's /proc on a process exec started: the same cgroups and namespaces as pid 1, and its security. */
  @Test
  void joinsTheCgroupsAndTakesTheSecurityOfTheContainer() throws Exception {
    Container c = start("--memory", "64m", "--pids-limit", "50", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN");
    Path log = tmp.resolve("exec.log");
    Process exec = new ProcessBuilder(exec(c, "x", "sh", "-c", "touch /data/exec-ready; while :; do sleep 1; done"))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      for (int i = 0; i < 600 && exec.isAlive() && !Files.exists(c.data().resolve("exec-ready")); i++) {
        Thread.sleep(50);
      }
      assertTrue(Files.exists(c.data().resolve("exec-ready")), () -> RunIT.read(log));
      // labenv exec -> nsenter -> the command
      ProcessHandle command = exec.toHandle().children().findFirst().orElseThrow().children().findFirst().orElseThrow();
      String cgroups = Files.readString(Path.of("/proc/" + command.pid() + "/cgroup"));
      assertEquals(Files.readString(Path.of("/proc/" + c.pid() + "/cgroup")), cgroups);
      assertTrue(cgroups.contains("/labenv/"), cgroups);
      for (String ns : NAMESPACES) {
        assertEquals(Files.readSymbolicLink(Path.of("/proc/" + c.pid() + "/ns/" + ns)),
            Files.readSymbolicLink(Path.of("/proc/" + command.pid() + "/ns/" + ns)), ns);
      }
      Map<String, String> status = status(command.pid());
      // docker's set with NET_ADMIN (bit 12), without CHOWN (bit 0)
      String caps = String.format("%016x", (0xa80425fbL & ~1L) | (1L << 12));
      assertEquals(List.of(caps, caps, caps, "1", "2"), List.of(status.get("CapBnd"), status.get("CapEff"),
          status.get("CapPrm"), status.get("NoNewPrivs"), status.get("Seccomp")), status::toString);
      assertEquals(status(c.pid()).get("CapBnd"), status.get("CapBnd"));
      // Signals to labenv exec reach the command
      exec.destroy();
      assertTrue(exec.waitFor(60, TimeUnit.SECONDS));
      assertEquals(143, exec.exitValue(), () -> RunIT.read(log));
    } finally {
      exec.destroyForcibly();
    }
  }

  private static Map<String, String> status(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().map(l -> l.split(":\\s*", 2))
        .filter(f -> f.length == 2).collect(Collectors.toMap(f -> f[0], f -> f[1], (a, b) -> a));
  }

  @Test
  void userEnvironmentAndWorkingDirectoryAreTheContainersUnlessGiven() throws Exception {
    Container c = start("-u", "alice", "-w", "/home", "-e", "FROM_RUN=r");
    Proc defaults = run(exec(c, "x", "sh", "-c", "id; pwd; echo $FROM_RUN $HOSTNAME"));
    assertEquals(0, defaults.code(), defaults::toString);
    List<String> lines = defaults.out().lines().toList();
    assertEquals("uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)", lines.get(0), defaults::toString);
    assertEquals("/home", lines.get(1), defaults::toString);
    assertTrue(lines.get(2).startsWith("r "), defaults::toString);
    Proc given = run(exec(c, "-u", "65534", "-e", "FROM_RUN=exec", "-e", "NEW=n", "-w", "/etc", "x", "sh", "-c",
        "id -u; pwd; echo $FROM_RUN $NEW; grep CapEff /proc/self/status"));
    assertEquals(new Proc(0, "65534\n/etc\nexec n\nCapEff:\t0000000000000000\n", ""), given);
    Proc root = run(exec(c, "-u", "root", "x", "id", "-u"));
    assertEquals(new Proc(0, "0\n", ""), root);
  }

  @Test
  void exitStatusesAreTheCommandsOr126Or127() throws Exception {
    Container c = start();
    assertEquals(3, run(exec(c, "x", "sh", "-c", "exit 3")).code());
    Proc notExecutable = run(exec(c, "x", "/etc/passwd"));
    assertEquals(new Proc(126, "", "labenv: exec \"/etc/passwd\": Permission denied\n"), notExecutable);
    Proc missing = run(exec(c, "x", "nosuch"));
    assertEquals(new Proc(127, "", "labenv: exec \"nosuch\": executable file not found in $PATH\n"), missing);
    Proc noDir = run(exec(c, "-w", "/nope", "x", "true"));
    assertEquals(new Proc(126, "", "labenv: chdir \"/nope\": No such file or directory\n"), noDir);
    Proc killed = run(exec(c, "x", "sh", "-c", "kill -9 $$"));
    assertEquals(137, killed.code(), killed::toString);
  }

  @Test
  void standardInputOnlyWhenInteractive() throws Exception {
    Container c = start();
    Path input = Files.writeString(tmp.resolve("in"), "fed\n");
    ProcessBuilder pb = new ProcessBuilder(exec(c, "-i", "x", "cat")).redirectInput(input.toFile());
    Proc interactive = collect(pb);
    assertEquals(new Proc(0, "fed\n", ""), interactive);
    Proc closed = collect(new ProcessBuilder(exec(c, "x", "cat")).redirectInput(input.toFile()));
    assertEquals(new Proc(0, "", ""), closed);
  }

  private Proc collect(ProcessBuilder pb) throws Exception {
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    return new Proc(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void aStoppedOrMissingContainerIsOneLineAnd125() throws Exception {
    // Kept after it exits (no --rm): exec finds it, and refuses.
    Proc exited = RunIT.run("--name", "exec-exited", RunIT.IMAGE, "sh", "-c", "exit 0");
    assertEquals(0, exited.code(), exited::toString);
    Proc stopped = run(List.of("java", "-jar", JAR.toString(), "exec", "exec-exited", "true"));
    assertEquals(125, stopped.code(), stopped::toString);
    assertTrue(stopped.err().matches("labenv: container [0-9a-f]{12} is not running\n"), stopped::toString);
    Proc missing = run(List.of("java", "-jar", JAR.toString(), "exec", "no-such-container", "true"));
    assertEquals(new Proc(125, "", "labenv: no such container: no-such-container (labenv ps -a lists them)\n"),
        missing);
    Proc noCommand = run(List.of("java", "-jar", JAR.toString(), "exec", "exec-exited"));
    assertEquals(125, noCommand.code(), noCommand::toString);
    assertEquals(0, RunIT.exec(List.of("java", "-jar", JAR.toString(), "rm", "exec-exited")).code());
  }

  /**
   * {@code script} gives labenv a terminal. Inside: a pty of the container's own devpts with the caller's window
   * size; outside: the caller's terminal is raw while exec runs and restored after.
   */
  @Test
  void ttyIsAPtyOfTheContainersWithTheCallersSize() throws Exception {
    Container c = start();
    String cmd = "stty cols 123 rows 45; " + String.join(" ", quote(exec(c, "-t", "x", "sh", "-c",
        "tty; stty size; ls -1 /dev/pts; echo $TERM; exit 4"))) + "; echo status=$?";
    Proc p = run(List.of("script", "-qec", cmd, "/dev/null"));
    List<String> lines = p.out().replace("\r", "").lines().toList();
    assertTrue(lines.get(0).matches("/dev/pts/[0-9]+"), p::toString);
    assertEquals("45 123", lines.get(1), p::toString);
    // the container's own devpts: its ptmx and our pty, none of the host's
    assertEquals(List.of(lines.get(0).substring("/dev/pts/".length()), "ptmx"), lines.subList(2, 4), p::toString);
    assertEquals(List.of("xterm", "status=4"), lines.subList(4, 6), p::toString);
  }

  /** True once the shell's prompt ("# ") appears in {@code log} after byte {@code from}. */
  private static boolean promptAfter(Path log, long from) throws IOException {
    byte[] all = Files.readAllBytes(log);
    return from < all.length && new String(all, (int) from, all.length - (int) from, StandardCharsets.UTF_8)
        .contains("# ");
  }

  /** Keys typed reach the shell inside, ^C interrupts its foreground job, and the terminal is cooked again after. */
  @Test
  void interactiveTtyTakesKeysAndControlC() throws Exception {
    Container c = start();
    String cmd = String.join(" ", quote(exec(c, "-it", "x", "sh"))) + "; echo status=$?; stty -a";
    Process p = new ProcessBuilder("script", "-qec", cmd, "/dev/null").redirectErrorStream(true)
        .redirectOutput(tmp.resolve("tty.log").toFile()).start();
    try (OutputStream keys = p.getOutputStream()) {
      keys.write("echo $((6*7)); touch /data/sleeping; sleep 1000; echo slept-$((1+1))\n"
          .getBytes(StandardCharsets.UTF_8));
      keys.flush();
      for (int i = 0; i < 600 && !Files.exists(c.data().resolve("sleeping")); i++) {
        Thread.sleep(50);
      }
      assertTrue(Files.exists(c.data().resolve("sleeping")), () -> RunIT.read(tmp.resolve("tty.log")));
      // ^C aborts the whole line, whether sleep has started yet or not. The next line is typed once the shell shows
      // its prompt again: typed ahead, the interrupt's flush of the input queue could eat it (CI hung on it twice).
      long before = Files.size(tmp.resolve("tty.log"));
      keys.write(3);
      keys.flush();
      for (int i = 0; i < 600 && !promptAfter(tmp.resolve("tty.log"), before); i++) {
        Thread.sleep(50);
      }
      keys.write("echo after-int; exit 5\n".getBytes(StandardCharsets.UTF_8));
      keys.flush();
      assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    }
    String out = Files.readString(tmp.resolve("tty.log")).replace("\r", "");
    assertTrue(out.contains("\n42\n"), out);
    assertTrue(out.contains("\nafter-int\n"), out);
    // (what script echoes of the keys has slept-$((1+1)))
    assertFalse(out.contains("slept-2"), out);
    assertTrue(out.contains("status=5\n"), out);
    // stty -a after: line editing and echo are back
    assertTrue(out.matches("(?s).*[ \n]icanon[ \n].*") && out.matches("(?s).*[ \n]echo[ \n].*"), out);
  }

  private static List<String> quote(List<String> args) {
    return args.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList();
  }

  /**
   * A container an ordinary user started: exec joins its user namespace too, as that user. With --network host, the
   * host's network namespace, which that user namespace does not own, is already exec's and is not entered again.
   */
  @Test
  void rootlessExecJoinsTheUserNamespace() throws Exception {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("Uid:\t0\t"),
        "needs root to become someone else");
    Path d = Files.createTempDirectory(Path.of("/tmp"), "labenv-rootless-exec");
    try {
      Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      Path jar = Files.copy(JAR, d.resolve("labenv.jar"));
      Path data = Files.createDirectories(d.resolve("data"));
      Files.setPosixFilePermissions(data, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      run(List.of("cp", "-r", RunIT.tree.toString(), d.resolve("bb").toString()));
      List<String> user = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
      List<String> importCmd = new ArrayList<>(user);
      importCmd.addAll(List.of("java", "-jar", jar.toString(), "--home", d.resolve("home").toString(), "import",
          d.resolve("bb").toString(), RunIT.IMAGE));
      assertEquals(0, run(importCmd).code());
      Container c = start(user, d.resolve("home"), jar, data, "--hostname", "rl", "--network", "host");
      List<String> execCmd = new ArrayList<>(user);
      execCmd.addAll(List.of("java", "-jar", jar.toString(), "--home", d.resolve("home").toString(), "exec",
          c.name(), "sh", "-c", "id -u; hostname; cat /made; cat /proc/self/uid_map;"
              + " readlink /proc/self/ns/user; readlink /proc/self/ns/mnt; readlink /proc/self/ns/net; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status;"
              + " exit 3"));
      Proc p = run(execCmd);
      assertEquals(3, p.code(), p::toString);
      List<String> lines = p.out().lines().map(l -> l.replaceAll("\\s+", " ").trim()).toList();
      assertEquals(List.of("0", "rl", "made", "0 65534 1",
          Files.readSymbolicLink(Path.of("/proc/" + c.pid() + "/ns/user")).toString(),
          Files.readSymbolicLink(Path.of("/proc/" + c.pid() + "/ns/mnt")).toString(),
          Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(),
          "NoNewPrivs: 1", "Seccomp: 2"), lines, p::toString);
      List<String> missing = new ArrayList<>(execCmd.subList(0, execCmd.indexOf(c.name()) + 1));
      missing.add("nosuch");
      assertEquals(127, run(missing).code());
      c.stop();
    } finally {
      run(List.of("rm", "-rf", d.toString()));
    }
  }
}
