package labenv.notebook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the server in a root filesystem as the container sees it, and the wait for an answer, on real files. */
class JupyterServerTest {
  static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  @TempDir Path root;

  private Path program(String path) throws Exception {
    Path p = root.resolve(path);
    Files.createDirectories(p.getParent());
    Files.writeString(p, "#!/bin/sh\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    return p;
  }

  @Test
  void theFirstServerInPreferenceOrderOnThePathWins() throws Exception {
    assertEquals(Optional.empty(), JupyterServer.find(root, PATH));
    program("usr/bin/jupyter-server");
    assertEquals(Optional.of(JupyterServer.App.SERVER), JupyterServer.find(root, PATH));
    program("usr/bin/jupyter-notebook");
    assertEquals(Optional.of(JupyterServer.App.NOTEBOOK), JupyterServer.find(root, PATH));
    program("usr/local/bin/jupyter-lab");
    assertEquals(Optional.of(JupyterServer.App.LAB), JupyterServer.find(root, PATH));
    assertEquals(Optional.of(JupyterServer.App.NOTEBOOK), JupyterServer.find(root, "/usr/bin"), "only the PATH counts");
    assertEquals(Optional.empty(), JupyterServer.find(root, "usr/local/bin:"), "relative entries are not looked at");
  }

  @Test
  void notExecutableOrADirectoryIsNotAServer() throws Exception {
    Path p = program("usr/bin/jupyter-notebook");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    Files.createDirectories(root.resolve("usr/local/bin/jupyter-lab"));
    assertEquals(Optional.empty(), JupyterServer.find(root, PATH));
  }

  @Test
  void symlinksResolveInsideTheImageNeverOnTheHost() throws Exception {
    // Debian's merged /usr, and a venv's entry point linked from /usr/local/bin with an absolute target
    Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
    program("opt/venv/bin/jupyter-lab");
    Files.createDirectories(root.resolve("usr/local/bin"));
    Files.createSymbolicLink(root.resolve("usr/local/bin/jupyter-lab"), Path.of("/opt/venv/bin/jupyter-lab"));
    assertEquals(Optional.of(JupyterServer.App.LAB), JupyterServer.find(root, "/usr/local/bin"));
    Files.createDirectories(root.resolve("usr/bin"));
    program("usr/bin/jupyter-notebook");
    assertEquals(Optional.of(JupyterServer.App.NOTEBOOK), JupyterServer.find(root, "/bin"));

    // an absolute link to a program the host has and the image lacks: not there for the container
    Path hostProgram = Files.createTempFile("jupyter-server", "");
    try {
      Files.setPosixFilePermissions(hostProgram, PosixFilePermissions.fromString("rwx------"));
      Files.createDirectories(root.resolve("usr/sbin"));
      Files.createSymbolicLink(root.resolve("usr/sbin/jupyter-server"), hostProgram);
      Files.createSymbolicLink(root.resolve("usr/sbin/jupyter-lab"), Path.of("../../../../../../.." + hostProgram));
      assertEquals(Optional.empty(), JupyterServer.find(root, "/usr/sbin"));
    } finally {
      Files.delete(hostProgram);
    }
  }

  @Test
  void theCommandExecsTheServerOnTheLoopbackAtThePortWithoutRetries() {
    var cmd = JupyterServer.command(41234);
    assertEquals("/bin/sh", cmd.get(0));
    assertTrue(cmd.contains("--ip=127.0.0.1") && cmd.contains("--port=41234") && cmd.contains("--port-retries=0")
        && cmd.contains("--no-browser"), cmd::toString);
    assertTrue(cmd.stream().noneMatch(a -> a.contains("token")), "the token is never an argument: " + cmd);
    String token = JupyterServer.newToken();
    assertTrue(token.matches("[0-9a-f]{48}"), token);
    assertFalse(token.equals(JupyterServer.newToken()));
    assertTrue(JupyterServer.environment(token).contains("JUPYTER_TOKEN=" + token));
  }

  @Test
  void theWaitEndsWhenTheContainerHasEndedOrTheLimitHasPassed() throws Exception {
    // nothing listens on this port once the socket is closed: connections are refused
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      port = s.getLocalPort();
    }
    int[] polls = {0};
    assertFalse(JupyterServer.awaitAnswer("127.0.0.1", port, "t", () -> ++polls[0] < 3, Duration.ofMinutes(5)));
    assertEquals(3, polls[0]);
    assertFalse(JupyterServer.awaitAnswer("127.0.0.1", port, "t", () -> true, Duration.ZERO));
  }

  @Test
  void aServerThatRefusesTheTokenIsNotOurs() throws Exception {
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      exchange.sendResponseHeaders(exchange.getRequestURI().getQuery().equals("token=right") ? 200 : 403, -1);
      exchange.close();
    });
    server.start();
    try {
      int port = server.getAddress().getPort();
      assertTrue(JupyterServer.awaitAnswer("127.0.0.1", port, "right", () -> true, Duration.ofMinutes(1)));
      LabenvException e = org.junit.jupiter.api.Assertions.assertThrows(LabenvException.class,
          () -> JupyterServer.awaitAnswer("127.0.0.1", port, "wrong", () -> true, Duration.ofMinutes(1)));
      assertTrue(e.getMessage().contains("refused labenv's token (HTTP 403)"), e.getMessage());
    } finally {
      server.stop(0);
    }
  }
}
