package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers that outlive a command: {@code run -d}, {@code ps}, {@code logs}, {@code stop}, {@code kill},
 * {@code rm}, {@code wait}, names, pseudo-terminals, and the state of containers whose supervisor was killed.
 * Each test names its containers, so they can share one store.
 */
class LifecycleIT {
  @TempDir static Path shared;
  static Path home;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("tty", "stty", "kill", "ps"));
    home = RunIT.home;
  }

  /** Whatever a failed test left running is killed and removed, so nothing stays mounted on the machine. */
  @AfterAll
  static void removeAll() throws Exception {
    for (String id : labenv("ps", "-aq", "--no-trunc").out().split("\n")) {
      if (!id.isBlank()) {
        labenv("rm", "-f", id.trim());
      }
    }
  }

  static RunIT.Proc labenv(String... args) throws Exception {
    return labenvIn(home, args);
  }

  /** The shaded jar on the store {@code home}. */
  static RunIT.Proc labenvIn(Path home, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    cmd.addAll(List.of(args));
    CliProcessIT.Proc p = CliProcessIT.exec(cmd, home);
    return new RunIT.Proc(p.code(), p.out(), p.err());
  }

  /** {@link #labenvIn} with arguments of any type (paths, numbers), as text. */
  static RunIT.Proc labenvWith(Path home, Object... args) throws Exception {
    return labenvIn(home, java.util.Arrays.stream(args).map(Object::toString).toArray(String[]::new));
  }

  static JsonNode state(String id) throws Exception {
    return new ObjectMapper().readTree(home.resolve("containers").resolve(id).resolve("state.json").toFile());
  }

  static String detached(String name, String script) throws Exception {
    RunIT.Proc p = labenv("run", "-d", "--name", name, RunIT.IMAGE, "sh", "-c", script);
    assertEquals(0, p.code(), p::toString);
    String id = p.out().trim();
    assertTrue(id.matches("[0-9a-f]{64}"), p::toString);
    return id;
  }

  static void awaitLog(String name, String text) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (labenv("logs", name).out().contains(text)) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no \"" + text + "\" in the log of " + name + ": " + labenv("logs", name));
  }

  @Test
  void detachedRunIsListedLogsBothStreamsAndStopsWithSigkillWithoutAHandler() throws Exception {
    // The streams are read by two threads: a pause keeps the order of the last line certain.
    String id = detached("web1", "echo out1; echo err1 >&2; sleep 0.3; echo out2; while :; do sleep 0.1; done");
    RunIT.Proc ps = labenv("ps");
    assertTrue(ps.out().lines().anyMatch(l -> l.startsWith(id.substring(0, 12)) && l.contains("Up ")
        && l.endsWith("web1")), ps::toString);
    awaitLog("web1", "out2");
    RunIT.Proc logs = labenv("logs", "web1");
    assertEquals("out1\nout2\n", logs.out(), logs::toString);
    assertEquals("err1\n", logs.err(), logs::toString);
    assertEquals("out2\n", labenv("logs", "--tail", "1", "web1").out());
    RunIT.Proc stamped = labenv("logs", "-t", "--tail", "1", "web1");
    assertTrue(stamped.out().matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z out2\n"), stamped::toString);

    // sh as pid 1 has no SIGTERM handler: stop waits out -t and kills.
    RunIT.Proc stop = labenv("stop", "-t", "1", "web1");
    assertEquals(new RunIT.Proc(0, "web1\n", ""), stop);
    assertEquals("137\n", labenv("wait", "web1").out());
    assertFalse(labenv("ps").out().contains("web1"));
    assertTrue(labenv("ps", "-a").out().lines().anyMatch(l -> l.contains("Exited (137)") && l.endsWith("web1")));
    assertNotMounted(id);
    assertEquals(0, labenv("rm", "web1").code());
    assertFalse(Files.exists(home.resolve("containers").resolve(id)));
  }

  @Test
  void stopDeliversSigtermToAHandlerAndKillAnySignal() throws Exception {
    detached("trap1", "trap 'echo usr1' USR1; trap 'echo term; exit 7' TERM; echo ready; "
        + "while :; do sleep 0.1; done");
    awaitLog("trap1", "ready");
    assertEquals(0, labenv("kill", "-s", "USR1", "trap1").code());
    awaitLog("trap1", "usr1");
    assertEquals(0, labenv("stop", "trap1").code());
    assertEquals("7\n", labenv("wait", "trap1").out());
    assertTrue(labenv("logs", "trap1").out().contains("term\n"));
    RunIT.Proc again = labenv("kill", "trap1");
    assertEquals(1, again.code(), again::toString);
    assertTrue(again.err().contains("is not running"), again::toString);
    RunIT.Proc bad = labenv("kill", "-s", "NOPE", "trap1");
    assertEquals(2, bad.code(), bad::toString);
    assertEquals(0, labenv("rm", "trap1").code());
  }

  @Test
  void rmRefusesARunningContainerUnlessForcedAndFreesItsName() throws Exception {
    String id = detached("busy1", "while :; do sleep 0.1; done");
    RunIT.Proc dup = labenv("run", "-d", "--name", "busy1", RunIT.IMAGE, "true");
    assertEquals(125, dup.code(), dup::toString);
    assertTrue(dup.err().contains("\"busy1\" is in use by container " + id.substring(0, 12)), dup::toString);
    RunIT.Proc rm = labenv("rm", "busy1");
    assertEquals(1, rm.code(), rm::toString);
    assertTrue(rm.err().contains("is running"), rm::toString);
    assertEquals(new RunIT.Proc(0, "busy1\n", ""), labenv("rm", "-f", "busy1"));
    assertFalse(Files.exists(home.resolve("containers").resolve(id)));
    assertNotMounted(id);
    // The name is free again.
    String second = detached("busy1", "true");
    assertEquals("0\n", labenv("wait", second.substring(0, 10)).out());
    assertEquals(0, labenv("rm", "busy1").code());
    RunIT.Proc none = labenv("rm", "busy1");
    assertEquals(2, none.code(), none::toString);
    assertTrue(none.err().contains("no such container: busy1"), none::toString);
  }

  @Test
  void aCommandThatCannotStartFailsTheDetachedRunAndLeavesNothing() throws Exception {
    RunIT.Proc p = labenv("run", "-d", "--name", "nocmd", RunIT.IMAGE, "no-such-command");
    assertEquals(127, p.code(), p::toString);
    assertTrue(p.err().contains("no-such-command") && p.err().contains("not found"), p::toString);
    assertFalse(labenv("ps", "-a").out().contains("nocmd"));
    RunIT.Proc bad = labenv("run", "-d", "--name", "bad name", RunIT.IMAGE, "true");
    assertEquals(125, bad.code(), bad::toString);
  }

  @Test
  void detachedRmRemovesItselfAndLogsFollowEndsWithTheContainer() throws Exception {
    String id = detached("follow1", "for i in 1 2 3; do echo line$i; sleep 0.2; done");
    RunIT.Proc f = labenv("logs", "-f", "follow1");
    assertEquals("line1\nline2\nline3\n", f.out(), f::toString);
    assertEquals("0\n", labenv("wait", "follow1").out());

    RunIT.Proc p = labenv("run", "-d", "--rm", "--name", "gone1", RunIT.IMAGE, "sleep", "0.3");
    assertEquals(0, p.code(), p::toString);
    String gone = p.out().trim();
    for (int i = 0; i < 200 && Files.exists(home.resolve("containers").resolve(gone)); i++) {
      Thread.sleep(50);
    }
    assertFalse(Files.exists(home.resolve("containers").resolve(gone)), "removed after it exited");
    assertEquals(0, labenv("rm", id).code());
  }

  @Test
  void aForegroundContainerIsListedWhileItRunsAndHasNoLog() throws Exception {
    Path data = Files.createDirectories(shared.resolve("fg1"));
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", RunIT.JAR.toString(), "run", "--name", "fg1", "-v",
        data + ":/data", RunIT.IMAGE, "sh", "-c", "touch /data/ready; while :; do sleep 0.1; done");
    pb.environment().put("LABENV_HOME", home.toString());
    pb.redirectErrorStream(true).redirectOutput(shared.resolve("fg1.log").toFile());
    Process p = pb.start();
    for (int i = 0; i < 300 && !Files.exists(data.resolve("ready")); i++) {
      Thread.sleep(50);
    }
    JsonNode list = new ObjectMapper().readTree(labenv("ps", "--format", "json").out());
    JsonNode fg = null;
    for (JsonNode c : list) {
      if ("fg1".equals(c.path("name").asText())) {
        fg = c;
      }
    }
    assertNotNull(fg, list::toString);
    assertEquals("running", fg.get("status").asText());
    assertTrue(fg.get("pid").asLong() > 1);
    RunIT.Proc logs = labenv("logs", "fg1");
    assertEquals(1, logs.code(), logs::toString);
    assertTrue(logs.err().contains("foreground"), logs::toString);
    assertEquals(0, labenv("stop", "-t", "0", "fg1").code());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue());
    assertEquals("137\n", labenv("wait", "fg1").out());
    assertEquals(0, labenv("rm", "fg1").code());
  }

  /** The supervisor is SIGKILLed: the container runs on, then its end is reconciled and its mounts released. */
  @Test
  void aContainerWhoseMonitorDiedIsReconciled() throws Exception {
    String id = detached("orphan1", "while :; do sleep 0.1; done");
    JsonNode s = state(id);
    long monitor = s.get("monitorPid").asLong();
    long pid = s.get("pid").asLong();
    assertTrue(monitor > 0 && pid > 0, s::toString);
    assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(monitor)).start().waitFor());
    for (int i = 0; i < 100 && Files.exists(Path.of("/proc/" + monitor)); i++) {
      Thread.sleep(20);
    }
    assertTrue(labenv("ps").out().lines().anyMatch(l -> l.contains("Up ") && l.endsWith("orphan1")),
        "its processes still run");
    assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());
    for (int i = 0; i < 100 && !gone(pid); i++) {
      Thread.sleep(20);
    }
    RunIT.Proc ps = labenv("ps", "-a");
    assertTrue(ps.out().lines().anyMatch(l -> l.contains("Exited (unknown)") && l.endsWith("orphan1")), ps::toString);
    assertEquals("unknown\n", labenv("wait", "orphan1").out());
    JsonNode ended = state(id);
    assertTrue(ended.get("error").asText().contains("died"), ended::toString);
    assertNotMounted(id);
    assertEquals(0, labenv("rm", "orphan1").code());
  }

  /** -t: a pseudo-terminal of the caller's size, the container's controlling terminal; -i: typed input. */
  @Test
  void ttyGivesATerminalOfTheCallersSize() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")));
    String cmd = "stty cols 91 rows 17; java -jar " + RunIT.JAR + " run --rm -it " + RunIT.IMAGE
        + " sh -c 'tty; stty size; read x; echo got:$x; exit 4'";
    ProcessBuilder pb = new ProcessBuilder("script", "-qec", cmd, "/dev/null");
    pb.environment().put("LABENV_HOME", home.toString());
    pb.redirectErrorStream(true);
    Process p = pb.start();
    p.getOutputStream().write("hello\n".getBytes());
    p.getOutputStream().flush();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes()).replace("\r", "");
    assertTrue(out.contains("/dev/console\n17 91\n"), out);
    assertTrue(out.contains("got:hello\n"), out);
    assertEquals(4, p.exitValue(), out);
  }

  @Test
  void withoutDashIStdinIsEmpty() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", RunIT.JAR.toString(), "run", "--rm", RunIT.IMAGE,
        "cat");
    pb.environment().put("LABENV_HOME", home.toString());
    Process p = pb.start();
    p.getOutputStream().write("typed\n".getBytes());
    p.getOutputStream().flush();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "cat read /dev/null and ended");
    assertEquals("", new String(p.getInputStream().readAllBytes()));
    pb.command("java", "-jar", RunIT.JAR.toString(), "run", "--rm", "-i", RunIT.IMAGE, "cat");
    Process q = pb.start();
    q.getOutputStream().write("typed\n".getBytes());
    q.getOutputStream().close();
    assertTrue(q.waitFor(60, TimeUnit.SECONDS));
    assertEquals("typed\n", new String(q.getInputStream().readAllBytes()));
  }

  /** -p: the host's 127.0.0.1:PORT reaches a server on the container's loopback; a port in use fails the run. */
  @Test
  void publishedPortsReachTheContainerAndABusyPortFailsCleanly() throws Exception {
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    RunIT.Proc p = labenv("run", "-d", "--name", "web2", "-p", port + ":8080", RunIT.IMAGE, "sh", "-c",
        "busybox mkdir -p /www && echo served-from-the-container > /www/index.html && "
            + "exec busybox httpd -f -p 127.0.0.1:8080 -h /www");
    assertEquals(0, p.code(), p::toString);
    assertTrue(labenv("ps").out().contains("127.0.0.1:" + port + "->8080/tcp"));
    var client = java.net.http.HttpClient.newHttpClient();
    var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/")).build();
    String body = null;
    for (int i = 0; i < 100 && body == null; i++) {
      try {
        var response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        body = response.statusCode() == 200 ? response.body() : null;
      } catch (java.io.IOException e) {
        Thread.sleep(50); // httpd not listening yet
      }
    }
    assertEquals("served-from-the-container\n", body);

    int containersBefore = labenv("ps", "-aq").out().split("\n").length;
    RunIT.Proc busy = labenv("run", "--rm", "-p", port + ":80", RunIT.IMAGE, "true");
    assertEquals(125, busy.code(), busy::toString);
    assertEquals("labenv: port 127.0.0.1:" + port + " is already in use: choose another host port\n", busy.err());
    assertEquals(containersBefore, labenv("ps", "-aq").out().split("\n").length, "nothing was created");
    RunIT.Proc malformed = labenv("run", "--rm", "-p", "80", RunIT.IMAGE, "true");
    assertEquals(125, malformed.code(), malformed::toString);

    assertEquals(0, labenv("rm", "-f", "web2").code());
    try (java.net.ServerSocket again = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertEquals(port, again.getLocalPort(), "the port is free once the container is gone");
    }
  }

  /** Exited: no such process, or a zombie waiting for its parent. */
  static boolean gone(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/stat")).contains(") Z");
    } catch (java.io.IOException e) {
      return true;
    }
  }

  static void assertNotMounted(String id) throws Exception {
    String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    assertFalse(mounts.contains(id), "still mounted: " + id);
  }
}
