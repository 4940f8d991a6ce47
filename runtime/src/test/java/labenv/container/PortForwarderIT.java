package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import labenv.LabenvException;
import labenv.linux.Syscalls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Published ports against real network namespaces: a "container" is busybox servers in a namespace of their own
 * (made by util-linux unshare, loopback only, as labenv's default network), reached from the host only through the
 * forwarder. The echo server greets with its network namespace, then counts what it receives until EOF, so each
 * connection shows where it landed, that bytes cross both ways, and that a half-close reaches the server while its
 * answer still comes back. Rootless runs the same as uid 65534 (setpriv), with a user namespace around the
 * container's network namespace, as labenv makes it for an ordinary user.
 */
class PortForwarderIT {
  private static final String SERVERS = """
      /bin/busybox ip link set lo up || exit 1
      echo '<h1>from the container</h1>' > "$1/index.html"
      /bin/busybox httpd -f -p "127.0.0.1:$2" -h "$1" &
      exec /bin/busybox nc -ll -p "$3" -e /bin/busybox sh -c \
        'echo "hello $(/bin/busybox readlink /proc/self/ns/net)"; exec /bin/busybox wc -c'
      """;

  @TempDir Path work;
  private final List<Process> started = new ArrayList<>();
  private final List<AutoCloseable> opened = new ArrayList<>();

  /** A container's pid (unshare's, which is in its namespaces) and the ports its servers listen on inside. */
  record Container(long pid, int httpPort, int echoPort, Path log) {}

  @BeforeEach
  void needsRoot() throws IOException {
    assumeTrue(Syscalls.isRoot(), "making network namespaces (and switching users) needs root");
    bash("chmod 0755 .");
  }

  @AfterEach
  void stopAll() throws Exception {
    Collections.reverse(opened);
    for (AutoCloseable c : opened) {
      c.close();
    }
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor();
    }
  }

  @Test
  void relaysBothWaysIntoTheContainersNetworkNamespaceWithHalfClose() throws Exception {
    Container c = container(false);
    int hostPort = freePort();
    PortForwarder f = forwarder(List.of(PortMapping.parse(hostPort + ":" + c.echoPort())));
    f.forwardTo(c.pid());

    try (Socket s = connect(hostPort)) {
      BufferedReader in = reader(s);
      assertEquals("hello " + netns(c.pid()), in.readLine(), "answered from the container's network namespace");
      byte[] data = new byte[3 * 1024 * 1024 + 7];
      new Random(1).nextBytes(data);
      s.getOutputStream().write(data);
      s.shutdownOutput();
      assertEquals(Integer.toString(data.length), in.readLine().trim(), "every byte arrived, then the EOF");
      assertEquals(null, in.readLine(), "the server's close reaches the client");
    }
    assertNotEquals(netns(ProcessHandle.current().pid()), netns(c.pid()));
    assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), c.echoPort()).close(),
        "the container's server is not on the host's loopback: only the forward reaches it");
  }

  @Test
  void servesARealHttpClientAndConcurrentConnections() throws Exception {
    Container c = container(false);
    int echo = freePort();
    int http = freePort();
    PortForwarder f = forwarder(List.of(PortMapping.parse(echo + ":" + c.echoPort()),
        PortMapping.parse("127.0.0.1:" + http + ":" + c.httpPort() + "/tcp")));
    f.forwardTo(c.pid());

    HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + http + "/index.html")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    assertEquals("<h1>from the container</h1>\n", page.body());

    // Every connection is greeted while all are open: none waits for another to end.
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        Socket s = connect(echo);
        sockets.add(s);
        assertEquals("hello " + netns(c.pid()), reader(s).readLine(), "connection " + i);
      }
      for (int i = sockets.size() - 1; i >= 0; i--) {
        Socket s = sockets.get(i);
        s.getOutputStream().write(new byte[1000 * i + 1]);
        s.shutdownOutput();
      }
      for (int i = 0; i < sockets.size(); i++) {
        assertEquals(Integer.toString(1000 * i + 1), rest(sockets.get(i)).trim(), "connection " + i);
      }
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  @Test
  void aPortInUseIsOneClearLineAndClosingFreesThePort() throws Exception {
    Container c = container(false);
    int hostPort = freePort();
    PortMapping mapping = PortMapping.parse(hostPort + ":" + c.echoPort());
    PortForwarder f = forwarder(List.of(mapping));
    f.forwardTo(c.pid());

    int other = freePort();
    LabenvException e = assertThrows(LabenvException.class,
        () -> PortForwarder.bind(List.of(PortMapping.parse(other + ":1"), mapping)));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals("port 127.0.0.1:" + hostPort + " is already in use: choose another host port", e.getMessage());
    try (ServerSocket s = bindLoopback(other)) {
      assertEquals(other, s.getLocalPort(), "the ports bound before the failure were released");
    }
    e = assertThrows(LabenvException.class, () -> PortForwarder.bind(List.of(PortMapping.parse(other + ":1"),
        PortMapping.parse("127.0.0.1:" + other + ":2"))));
    assertEquals("port 127.0.0.1:" + other + " is published twice: give each -p its own host port", e.getMessage());

    try (Socket s = connect(hostPort)) {
      assertEquals("hello " + netns(c.pid()), reader(s).readLine(), "the first forwarder is unharmed");
    }
    f.close();
    assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), hostPort).close());
    try (ServerSocket s = bindLoopback(hostPort)) {
      assertEquals(hostPort, s.getLocalPort(), "close() freed the host port");
    }
  }

  @Test
  void listensOnLoopbackOnlyUnlessToldOtherwise() throws Exception {
    Optional<InetAddress> external = externalAddress();
    assumeTrue(external.isPresent(), "the host has no non-loopback IPv4 address");
    Container c = container(false);
    int hostPort = freePort();
    PortForwarder f = forwarder(List.of(PortMapping.parse(hostPort + ":" + c.echoPort())));
    f.forwardTo(c.pid());
    try (Socket s = connect(hostPort)) {
      assertEquals("hello " + netns(c.pid()), reader(s).readLine());
    }
    assertThrows(ConnectException.class, () -> new Socket(external.get(), hostPort).close(),
        "not reachable through " + external.get());

    int wide = freePort();
    PortForwarder g = forwarder(List.of(PortMapping.parse(external.get().getHostAddress() + ":" + wide + ":"
        + c.echoPort())));
    g.forwardTo(c.pid());
    try (Socket s = connect(external.get(), wide)) {
      assertEquals("hello " + netns(c.pid()), reader(s).readLine(), "an address given is used");
    }
  }

  @Test
  void aRefusedConnectionInsideClosesOnlyThatConnection() throws Exception {
    Container c = container(false);
    int nothing = freePort();
    int echo = freePort();
    PortForwarder f = forwarder(List.of(PortMapping.parse(nothing + ":" + freePort()),
        PortMapping.parse(echo + ":" + c.echoPort())));
    f.forwardTo(c.pid());
    for (int i = 0; i < 3; i++) {
      try (Socket s = connect(nothing)) {
        assertEquals(-1, s.getInputStream().read(), "accepted, then closed: nothing listens inside");
      }
    }
    try (Socket s = connect(echo)) {
      assertEquals("hello " + netns(c.pid()), reader(s).readLine());
    }
  }

  @Test
  void refusesAProcessInTheHostsNetworkNamespaceOrOneThatIsGone() throws Exception {
    PortForwarder f = forwarder(List.of(PortMapping.parse(freePort() + ":80")));
    LabenvException e = assertThrows(LabenvException.class, () -> f.forwardTo(ProcessHandle.current().pid()));
    assertEquals("cannot publish ports: process " + ProcessHandle.current().pid() + " shares the host's network"
        + " namespace (ports are published for a container with its own network)", e.getMessage());

    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    PortForwarder g = forwarder(List.of(PortMapping.parse(freePort() + ":80")));
    e = assertThrows(LabenvException.class, () -> g.forwardTo(gone.pid()));
    assertEquals("cannot publish ports: container process " + gone.pid() + " is gone (No such file or directory)",
        e.getMessage());
  }

  @Test
  void rootlessForwardsThroughAHelperInTheContainersUserNamespace() throws Exception {
    Container c = container(true);
    int hostPort = freePort();
    Process main = rootless(c.pid(), hostPort + ":" + c.echoPort());
    BufferedReader out = reader(main.getInputStream());
    assertEquals("forwarding", out.readLine(), () -> log(c));
    List<ProcessHandle> helpers = main.children().toList();
    assertEquals(1, helpers.size(), "one helper");
    assertEquals(userns(c.pid()), userns(helpers.get(0).pid()), "the helper is in the container's user namespace");
    assertEquals(netns(ProcessHandle.current().pid()), netns(helpers.get(0).pid()), "and in the host's network one");

    try (Socket s = connect(hostPort)) {
      assertEquals("hello " + netns(c.pid()), reader(s).readLine());
      byte[] data = new byte[1024 * 1024];
      s.getOutputStream().write(data);
      s.shutdownOutput();
      assertEquals(Integer.toString(data.length), rest(s).trim());
    }

    // A second forwarder, and a privileged port, fail in the unprivileged process before any helper starts.
    int other = freePort();
    assertEquals("error BAD_INPUT port 127.0.0.1:" + hostPort + " is already in use: choose another host port",
        reader(rootless(c.pid(), other + ":1", hostPort + ":" + c.echoPort()).getInputStream()).readLine());
    int unprivileged = Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start"))
        .trim());
    if (unprivileged > 80) {
      assertEquals("error BAD_INPUT port 127.0.0.1:80 is privileged: only root may publish host ports below "
          + unprivileged + "; choose a higher host port",
          reader(rootless(c.pid(), "80:" + c.echoPort()).getInputStream()).readLine());
    }

    main.getOutputStream().write("close\n".getBytes(StandardCharsets.UTF_8));
    main.getOutputStream().flush();
    assertEquals("closed", out.readLine());
    helpers.get(0).onExit().get(60, TimeUnit.SECONDS);
    assertFalse(helpers.get(0).isAlive(), "close() ends the helper");
    try (ServerSocket s = bindLoopback(hostPort)) {
      assertEquals(hostPort, s.getLocalPort(), "close() freed the host port");
    }
  }

  @Test
  void rootlessHelperDiesWithItsParent() throws Exception {
    Container c = container(true);
    int hostPort = freePort();
    Process main = rootless(c.pid(), hostPort + ":" + c.echoPort());
    assertEquals("forwarding", reader(main.getInputStream()).readLine(), () -> log(c));
    ProcessHandle helper = main.children().findFirst().orElseThrow();
    try (Socket s = connect(hostPort)) {
      assertEquals("hello " + netns(c.pid()), reader(s).readLine());
    }
    main.destroyForcibly();
    main.waitFor();
    helper.onExit().get(60, TimeUnit.SECONDS);
    assertFalse(helper.isAlive(), "killed with its parent");
    try (ServerSocket s = bindLoopback(hostPort)) {
      assertEquals(hostPort, s.getLocalPort(), "the port is free again");
    }
  }

  // --- fixtures

  private PortForwarder forwarder(List<PortMapping> ports) {
    PortForwarder f = PortForwarder.bind(ports);
    opened.add(f);
    return f;
  }

  /** busybox servers in a new network (and pid) namespace; rootless as uid 65534 in a user namespace too. */
  private Container container(boolean rootless) throws Exception {
    Path dir = Files.createTempDirectory(work, "c");
    bash("chmod 0777 \"$1\"", dir.toString());
    int http = freePort();
    int echo = freePort();
    List<String> cmd = new ArrayList<>();
    if (rootless) {
      cmd.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "--user",
          "--map-root-user"));
    } else {
      cmd.add("unshare");
    }
    cmd.addAll(List.of("--net", "--pid", "--fork", "--kill-child", "/bin/sh", "-c", SERVERS, "servers",
        dir.toString(), Integer.toString(http), Integer.toString(echo)));
    Path log = work.resolve(dir.getFileName() + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    started.add(p);
    Container c = new Container(p.pid(), http, echo, log);
    String host = netns(ProcessHandle.current().pid());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    // Ready once unshare is in its own namespace and both servers listen there.
    while (!(p.isAlive() && !netns(p.pid()).equals(host) && listening(p.pid(), http) && listening(p.pid(), echo))) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        fail("the servers did not start: " + log(c));
      }
      Thread.sleep(20);
    }
    return c;
  }

  private static boolean listening(long pid, int port) {
    String hex = String.format(":%04X ", port);
    for (String table : List.of("tcp", "tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/net/" + table))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 3 && (f[1] + " ").endsWith(hex) && f[3].equals("0A")) {
            return true;
          }
        }
      } catch (IOException e) {
        return false;
      }
    }
    return false;
  }

  /** Runs {@link RootlessForwarderMain} as uid 65534, from a copy of the classpath that user can read. */
  private Process rootless(long containerPid, String... ports) throws Exception {
    Path cp = work.resolve("cp");
    if (!Files.exists(cp)) {
      Files.createDirectory(cp);
      List<String> entries = new ArrayList<>();
      int i = 0;
      for (Class<?> k : List.of(PortForwarder.class, RootlessForwarderMain.class, com.sun.jna.Native.class)) {
        Path from = Path.of(k.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path to = cp.resolve((i++) + "-" + from.getFileName());
        bash("cp -r \"$1\" \"$2\" && chmod -R a+rX \"$2\"", from.toString(), to.toString());
        entries.add(to.toString());
      }
      Files.writeString(cp.resolve("path"), String.join(":", entries));
      bash("mkdir tmp && chown 65534:65534 tmp");
    }
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djava.io.tmpdir=" + work.resolve("tmp"),
        "-Djna.tmpdir=" + work.resolve("tmp"), "-cp", Files.readString(cp.resolve("path")),
        RootlessForwarderMain.class.getName(), Long.toString(containerPid)));
    cmd.addAll(List.of(ports));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    started.add(p);
    return p;
  }

  private static String netns(long pid) throws IOException {
    return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString();
  }

  private static String userns(long pid) throws IOException {
    return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")).toString();
  }

  /** A client that fails the test rather than hang it should the forwarder lose a byte or an EOF. */
  private static Socket connect(InetAddress address, int port) throws IOException {
    Socket s = new Socket(address, port);
    s.setSoTimeout(60_000);
    return s;
  }

  private static Socket connect(int port) throws IOException {
    return connect(InetAddress.getLoopbackAddress(), port);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static ServerSocket bindLoopback(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return s;
  }

  private static Optional<InetAddress> externalAddress() throws IOException {
    for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (n.isUp() && !n.isLoopback()) {
        for (InetAddress a : Collections.list(n.getInetAddresses())) {
          if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
            return Optional.of(a);
          }
        }
      }
    }
    return Optional.empty();
  }

  private static BufferedReader reader(Socket s) throws IOException {
    return reader(s.getInputStream());
  }

  private static BufferedReader reader(InputStream in) {
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }

  /** Everything up to EOF (the greeting was read on its own: the server says nothing more until the client's EOF). */
  private static String rest(Socket s) throws IOException {
    return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  private static String log(Container c) {
    try {
      return Files.readString(c.log());
    } catch (IOException e) {
      return e.toString();
    }
  }

  private void bash(String script, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("bash", "-c", script, "bash"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    try {
      if (p.waitFor() != 0) {
        throw new IOException(script + ": " + out);
      }
    } catch (InterruptedException e) {
      throw new IOException(e);
    }
  }
}
