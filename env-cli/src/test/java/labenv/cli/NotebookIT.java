package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import labenv.image.Json;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv notebook} as a user runs it (the packaged CLI): tagged slow, a real Jupyter Notebook from the
 * jupyter-python template on Debian, driven through its REST API and a kernel's websocket (Jupyter messaging
 * protocol 5), in the background and in the foreground; then what is left once it stopped: no container, no process
 * holding its token, no mount, no listener. Bad input (an image without Jupyter, a port in use) needs only busybox.
 */
class NotebookIT {
  @TempDir Path tmp;

  private static final Pattern URL = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/\\?token=([0-9a-f]{48})");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static RunIT.Proc labenv(Path home, Object... args) throws Exception {
    return TemplatesIT.labenv(home, args);
  }

  /** A server as its printed URL names it. */
  record Server(int port, String token) {
    static Server of(String line) {
      Matcher m = URL.matcher(line);
      assertTrue(m.matches(), "not a server URL: " + line);
      return new Server(Integer.parseInt(m.group(1)), m.group(2));
    }

    URI api(String path) {
      return URI.create("http://127.0.0.1:" + port + path + (path.contains("?") ? "&" : "?") + "token=" + token);
    }

    HttpResponse<String> get(String path) throws Exception {
      return HTTP.send(HttpRequest.newBuilder(api(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POST /api/kernels: a new python3 kernel's id. */
    String startKernel() throws Exception {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api("/api/kernels"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"python3\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(201, r.statusCode(), r::body);
      return Json.mapper().readTree(r.body()).get("id").asText();
    }

    /**
     * Runs {@code code} in kernel {@code id} through its websocket (/api/kernels/ID/channels): an execute_request
     * on the shell channel, then what the kernel printed on stdout (iopub stream messages) until the iopub status
     * idle that ends the request; the shell's execute_reply must say ok.
     */
    String execute(String kernel, String code) throws Exception {
      BlockingQueue<String> messages = new LinkedBlockingQueue<>();
      WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/api/kernels/"
          + kernel + "/channels?token=" + token), new WebSocket.Listener() {
            final StringBuilder part = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
              part.append(data);
              if (last) {
                messages.add(part.toString());
                part.setLength(0);
              }
              w.request(1);
              return null;
            }
          }).get(60, TimeUnit.SECONDS);
      try {
        String msgId = UUID.randomUUID().toString();
        ObjectNode msg = Json.mapper().createObjectNode();
        ObjectNode header = msg.putObject("header");
        header.put("msg_id", msgId).put("username", "labenv-test").put("session", UUID.randomUUID().toString())
            .put("msg_type", "execute_request").put("version", "5.3");
        msg.putObject("parent_header");
        msg.putObject("metadata");
        ObjectNode content = msg.putObject("content");
        content.put("code", code).put("silent", false).put("store_history", true).put("allow_stdin", false)
            .put("stop_on_error", true).putObject("user_expressions");
        msg.put("channel", "shell");
        ws.sendText(Json.mapper().writeValueAsString(msg), true).get(60, TimeUnit.SECONDS);
        StringBuilder stdout = new StringBuilder();
        List<String> seen = new ArrayList<>();
        boolean replied = false;
        boolean idle = false;
        while (!replied || !idle) {
          String text = messages.poll(300, TimeUnit.SECONDS); // a hang guard, not a measure
          assertNotNull(text, () -> "no answer from the kernel; got " + seen);
          JsonNode m = Json.mapper().readTree(text);
          if (!msgId.equals(m.path("parent_header").path("msg_id").asText())) {
            continue;
          }
          String type = m.path("msg_type").asText(m.path("header").path("msg_type").asText());
          seen.add(m.path("channel").asText() + ":" + type);
          switch (type) {
            case "stream" -> {
              if (m.path("content").path("name").asText().equals("stdout")) {
                stdout.append(m.path("content").path("text").asText());
              }
            }
            case "execute_reply" -> {
              assertEquals("ok", m.path("content").path("status").asText(), text);
              replied = true;
            }
            case "status" -> idle |= m.path("content").path("execution_state").asText().equals("idle");
            case "error" -> throw new AssertionError("the cell failed: " + text);
            default -> {
              // execute_input, status busy
            }
          }
        }
        return stdout.toString();
      } finally {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(60, TimeUnit.SECONDS);
      }
    }
  }

  // --- end to end on Debian with Jupyter: slow (a bootstrap, then apt installs Jupyter, pandas and matplotlib)

  @TempDir static Path shared;
  private static Path jupyterHome;
  private static Path study;

  /**
   * One store with the jupyter-python template's project built (and run once), shared by the slow tests: the
   * template as {@code labenv init} writes it, plus a dataset mounted read-only at /data.
   */
  private static synchronized Path study() throws Exception {
    assumeTrue(BootstrapIT.mmdebstrapInstalled(), "mmdebstrap is not installed");
    if (study == null) {
      Path home = DebianStore.home();
      Path dir = shared.resolve("study");
      RunIT.Proc init = labenv(home, "init", "--template", "jupyter-python", dir);
      assertEquals(0, init.code(), init::toString);
      Path data = Files.createDirectories(shared.resolve("measurements"));
      Files.writeString(data.resolve("measurements.csv"), "site,value\nA,1.5\n");
      RunIT.Proc add = labenv(home, "dataset", "add", "measurements:v1", data);
      assertEquals(0, add.code(), add::toString);
      Files.writeString(dir.resolve("labenv.yaml"), "datasets:\n  measurements:v1: /data\n",
          java.nio.file.StandardOpenOption.APPEND);
      long start = System.nanoTime();
      RunIT.Proc run = labenv(home, "run", dir);
      assertEquals(0, run.code(), run::toString);
      System.out.printf("NotebookIT: bootstrap, build and headless run of jupyter-python %.1f s%n",
          (System.nanoTime() - start) / 1e9);
      jupyterHome = home;
      study = dir;
    }
    return study;
  }

  @Test
  @Tag("slow")
  void aDetachedServerRunsACellInAKernelAndStopLeavesNothing() throws Exception {
    Path dir = study();
    long start = System.nanoTime();
    RunIT.Proc started = labenv(jupyterHome, "notebook", "-d", dir);
    double seconds = (System.nanoTime() - start) / 1e9;
    assertEquals(0, started.code(), started::toString);
    List<String> lines = started.out().lines().toList();
    assertEquals(2, lines.size(), started::toString);
    String id = lines.get(0);
    assertTrue(id.matches("[0-9a-f]{64}"), started::toString);
    Server server = Server.of(lines.get(1));
    System.out.printf("NotebookIT: notebook -d to its URL (image cached) %.1f s%n", seconds);
    try {
      // printed only once it answers: no retry needed here
      HttpResponse<String> status = server.get("/api/status");
      assertEquals(200, status.statusCode(), status::body);
      assertEquals(403, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
          + "/api/status?token=" + "0".repeat(48))).build(), HttpResponse.BodyHandlers.ofString()).statusCode(),
          "another token is refused");
      String listing = server.get("/api/contents").body();
      assertTrue(listing.contains("\"analysis.ipynb\""), listing);

      RunIT.Proc ps = labenv(jupyterHome, "ps");
      assertTrue(ps.out().contains(id.substring(0, 12)) && ps.out().contains("127.0.0.1:" + server.port() + "->"),
          ps::toString);

      String kernel = server.startKernel();
      assertEquals("42\n", server.execute(kernel, "print(6*7)"));
      // the folder read-write at /work (the working directory), the dataset read-only, no network but loopback
      String facts = server.execute(kernel, String.join("\n",
          "import os",
          "print(os.getcwd())",
          "print(open('/data/measurements.csv').readline().strip())",
          "try:",
          "    open('/data/new.csv', 'w')",
          "except OSError as e:",
          "    print('dataset write:', e.errno)",
          "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))",
          "open('from-the-kernel.txt', 'w').write('written in ' + os.getcwd())"));
      assertEquals(List.of("/work", "site,value", "dataset write: 30", "['lo']"), facts.lines().toList());
      assertEquals("written in /work", Files.readString(dir.resolve("from-the-kernel.txt")));
    } finally {
      Files.deleteIfExists(dir.resolve("from-the-kernel.txt"));
      RunIT.Proc stop = labenv(jupyterHome, "stop", id);
      assertEquals(0, stop.code(), stop::toString);
    }
    assertNothingLeft(jupyterHome, server);
  }

  @Test
  @Tag("slow")
  void aForegroundServerStopsOnInterruptAndLeavesNothing() throws Exception {
    Path dir = study();
    int port = freePort();
    // SIGINT as a terminal's ^C sends it; started with its default disposition whatever this JVM inherited (a
    // background job's SIGINT is ignored, and an ignored signal stays ignored across exec).
    ProcessBuilder pb = new ProcessBuilder("env", "--default-signal=INT", "java", "-jar", CliProcessIT.JAR.toString(),
        "notebook", "-p", Integer.toString(port), dir.toString());
    pb.environment().put("LABENV_HOME", jupyterHome.toString());
    Path err = tmp.resolve("stderr");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    BlockingQueue<String> out = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          out.add(line);
        }
      } catch (IOException e) {
        // the process ended
      }
    });
    reader.start();
    Server server;
    try {
      String line = out.poll(300, TimeUnit.SECONDS); // a hang guard
      assertNotNull(line, () -> "no URL; stderr: " + RunIT.read(err));
      server = Server.of(line);
      assertEquals(port, server.port(), "the port asked for");
      String kernel = server.startKernel();
      assertEquals("42\n", server.execute(kernel, "print(6*7)"));
    } catch (Throwable t) {
      p.destroyForcibly();
      throw t;
    }
    labenv.linux.Libc.kill((int) p.pid(), labenv.linux.Signals.parse("INT"));
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running after SIGINT");
    reader.join();
    String stderr = RunIT.read(err);
    assertEquals(0, p.exitValue(), stderr);
    assertTrue(stderr.contains("Interrupted") && stderr.contains("Shutting down 1 kernel"), stderr);
    assertEquals(List.of(), new ArrayList<>(out), "nothing more on stdout than the URL");
    assertNothingLeft(jupyterHome, server);
  }

  @Test
  @Tag("slow")
  void withTheHostsNetworkTheServerListensOnTheHostsLoopbackAndSaysSo() throws Exception {
    Path dir = study();
    RunIT.Proc started = labenv(jupyterHome, "notebook", "-d", "--network", "host", dir);
    assertEquals(0, started.code(), started::toString);
    assertTrue(started.err().contains("--network host: the container shares this machine's network"),
        started::toString);
    List<String> lines = started.out().lines().toList();
    Server server = Server.of(lines.get(1));
    try {
      assertEquals(200, server.get("/api/status").statusCode());
      RunIT.Proc ps = labenv(jupyterHome, "ps");
      assertFalse(ps.out().contains("->"), "nothing published: " + ps);
    } finally {
      assertEquals(0, labenv(jupyterHome, "stop", lines.get(0)).code());
    }
    assertNothingLeft(jupyterHome, server);
  }

  /**
   * No container in the store, none listed, no process with the server's token in its environment (the server and
   * its kernels), nothing mounted from the store, and nothing listening on the port.
   */
  static void assertNothingLeft(Path home, Server server) throws Exception {
    RunIT.Proc ps = labenv(home, "ps", "-a", "-q");
    assertEquals(new RunIT.Proc(0, "", ""), ps);
    assertEquals(List.of(), containerDirs(home));
    assertEquals("", RunIT.mountsUnder(home));
    assertEquals(List.of(), processesWith("JUPYTER_TOKEN=" + server.token()));
    assertThrows(IOException.class, () -> new Socket(InetAddress.getLoopbackAddress(), server.port()).close(),
        "still listening on " + server.port());
  }

  /** The pids whose environment holds {@code entry}. */
  static List<Long> processesWith(String entry) throws IOException {
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/proc"))) {
      for (Path p : s.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String env = new String(Files.readAllBytes(p.resolve("environ")), StandardCharsets.UTF_8);
          if (List.of(env.split("\0")).contains(entry)) {
            pids.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException e) {
          // gone, or not ours to read
        }
      }
    }
    return pids;
  }

  /** The containers' directories in the store at {@code home}. */
  static List<Path> containerDirs(Path home) throws IOException {
    Path containers = home.resolve("containers");
    if (!Files.isDirectory(containers)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(containers)) {
      return s.filter(c -> !c.getFileName().toString().startsWith(".")).toList();
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    }
  }

  // --- bad input: busybox has no Jupyter

  private static Path busyboxHome;

  private static synchronized Path busybox() throws Exception {
    if (busyboxHome == null) {
      Path dir = shared.resolve("busybox");
      RunIT.busyboxImage(dir, List.of());
      busyboxHome = dir.resolve("home");
    }
    return busyboxHome;
  }

  @Test
  void anImageWithoutJupyterIsOneLineNamingWhatProvidesItAndNothingIsLeft() throws Exception {
    Path home = busybox();
    for (List<String> args : List.of(List.of("notebook", RunIT.IMAGE, "--dir", tmp.toString()),
        List.of("notebook", "-d", RunIT.IMAGE, "--dir", tmp.toString()))) {
      RunIT.Proc p = labenv(home, args.toArray());
      assertEquals(2, p.code(), p::toString);
      assertEquals("", p.out(), p::toString);
      assertEquals(1, p.err().lines().count(), p::toString);
      assertTrue(p.err().startsWith("labenv: " + RunIT.IMAGE + " has no Jupyter: none of jupyter-lab, "
          + "jupyter-notebook or jupyter-server is on its PATH; start from labenv init --template jupyter-python, or "
          + "install Debian's jupyter-notebook package"), p::toString);
      assertEquals(new RunIT.Proc(0, "", ""), labenv(home, "ps", "-a", "-q"));
      assertEquals(List.of(), containerDirs(home), "no container directory left");
      assertEquals("", RunIT.mountsUnder(home));
    }
    // a folder that is no project: say how to serve it
    RunIT.Proc plain = labenv(home, "notebook", tmp);
    assertEquals(2, plain.code(), plain::toString);
    assertEquals("labenv: " + tmp + ": no labenv.yaml (labenv init --template jupyter-python makes a project; labenv "
        + "notebook IMAGE --dir " + tmp + " serves a plain folder with an image)\n", plain.err());
  }

  @Test
  void aPortInUseIsOneLineAndNothingIsMade() throws Exception {
    Path home = busybox();
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();
      RunIT.Proc p = labenv(home, "notebook", "-p", port, RunIT.IMAGE, "--dir", tmp);
      assertEquals(new RunIT.Proc(2, "", "labenv: port 127.0.0.1:" + port
          + " is already in use: choose another host port\n"), p);
      RunIT.Proc bad = labenv(home, "notebook", "-p", "http", RunIT.IMAGE);
      assertEquals(new RunIT.Proc(2, "", "labenv: -p \"http\": expected a port number, 1-65535\n"), bad);
    }
    assertEquals(new RunIT.Proc(0, "", ""), labenv(home, "ps", "-a", "-q"));
    assertEquals(List.of(), containerDirs(home), "no container directory made");
  }
}
