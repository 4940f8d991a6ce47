package labenv.notebook;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import labenv.LabenvException;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;

/**
 * A Jupyter server in a container ({@code labenv notebook}): which server an image has, the command and environment
 * that start it on the container's loopback with labenv's token, and the wait until it answers.
 *
 * <p>The token goes in {@code JUPYTER_TOKEN}, which Jupyter Notebook 5.x-6.x and Jupyter Server (JupyterLab 3+,
 * Notebook 7) all read, rather than in {@code --NotebookApp.token} or {@code --ServerApp.token}: an argument is
 * readable by every user of the machine in {@code /proc/PID/cmdline}, the environment only by the process's owner,
 * and the right class name would depend on the server's version. The other options are aliases all of them know.
 */
public final class JupyterServer {
  private JupyterServer() {}

  /** The servers labenv starts, in the order it prefers them when an image has several. */
  public enum App {
    LAB("jupyter-lab", "JupyterLab"),
    NOTEBOOK("jupyter-notebook", "Jupyter Notebook"),
    SERVER("jupyter-server", "Jupyter Server");

    private final String executable;
    private final String title;

    App(String executable, String title) {
      this.executable = executable;
      this.title = title;
    }

    /** The program on the image's PATH. */
    public String executable() {
      return executable;
    }

    /** The name users know it by. */
    public String title() {
      return title;
    }
  }

  /** The container's HOME and Jupyter's runtime directory live here: a tmpfs, writable whatever the image. */
  public static final String SCRATCH = "/tmp";

  /** The status {@link #command} exits with when the image has none of the servers. */
  public static final int NOT_FOUND = 127;

  /**
   * The first of {@link App}'s servers on {@code path} (the container's PATH) in the root filesystem at
   * {@code rootfs}, as the container will see it: the image's symlinks are followed inside {@code rootfs} (openat2
   * RESOLVE_IN_ROOT), never into the host's tree. Empty when the image has none.
   */
  public static Optional<App> find(Path rootfs, String path) {
    int root = Syscalls.openat(Libc.AT_FDCWD, Syscalls.cstr(rootfs.toString()), Libc.O_PATH | Libc.O_DIRECTORY, 0);
    try {
      for (App app : App.values()) {
        for (String dir : path.split(":")) {
          if (dir.startsWith("/") && executable(root, dir + "/" + app.executable())) {
            return Optional.of(app);
          }
        }
      }
      return Optional.empty();
    } finally {
      Syscalls.close(root);
    }
  }

  private static boolean executable(int root, String file) {
    int fd;
    try {
      fd = Syscalls.openat2(root, file.substring(1).getBytes(StandardCharsets.UTF_8), Libc.O_PATH, 0,
          Libc.RESOLVE_IN_ROOT);
    } catch (ErrnoException e) {
      return false; // not there (or not reachable from the image's root): not on its PATH
    }
    try {
      Stat st = Syscalls.lstat(fd, new byte[0]);
      return st.isRegular() && (st.permissions() & 0111) != 0;
    } finally {
      Syscalls.close(fd);
    }
  }

  /**
   * The container's command: the first server of {@link App}'s order on the PATH, exec'd (so that it is the
   * container's pid 1 and gets ^C and {@code labenv stop}'s SIGTERM itself), listening on 127.0.0.1:{@code port}
   * without retrying other ports (the published port is that one), opening no browser, and allowed to run as root:
   * the container's uid 0 is the invoking user (rootless) or root itself. Exits {@link #NOT_FOUND} when there is none.
   */
  public static List<String> command(int port) {
    StringBuilder apps = new StringBuilder();
    for (App app : App.values()) {
      apps.append(apps.isEmpty() ? "" : " ").append(app.executable());
    }
    // The spec is written before the root filesystem can be looked at, so the container picks the server itself;
    // find() has looked at the same tree with the same PATH and order, so it picks the one find() named.
    String script = "for app in " + apps + "; do if command -v \"$app\" >/dev/null 2>&1; then exec \"$app\" \"$@\";"
        + " fi; done; echo \"labenv notebook: none of " + apps + " is on PATH ($PATH)\" >&2; exit " + NOT_FOUND;
    return List.of("/bin/sh", "-c", script, "labenv-notebook", "--ip=127.0.0.1", "--port=" + port,
        "--port-retries=0", "--no-browser", "--allow-root");
  }

  /** The server's environment: {@code token}, and a writable HOME and runtime directory on the scratch tmpfs. */
  public static List<String> environment(String token) {
    return List.of("JUPYTER_TOKEN=" + token, "HOME=" + SCRATCH, "JUPYTER_RUNTIME_DIR=" + SCRATCH + "/jupyter-runtime");
  }

  /** A new token: 192 random bits, as hex. */
  public static String newToken() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** What a browser opens: the server's root, which sends it on to the app's page once the token has logged it in. */
  public static URI url(String host, int port, String token) {
    return URI.create("http://" + host + ":" + port + "/?token=" + token);
  }

  /**
   * Waits until the server at {@code host:port} answers {@code GET /api/status} with {@code token}: true then;
   * false as soon as {@code running} says the container has ended, or once {@code limit} has passed. Connections
   * refused or closed (nothing listens in the container yet) are retried. A server that refuses the token is not
   * the one labenv started: FAILED.
   */
  public static boolean awaitAnswer(String host, int port, String token, BooleanSupplier running, Duration limit) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/api/status?token="
        + token)).timeout(Duration.ofSeconds(10)).GET().build();
    long deadline = System.nanoTime() + limit.toNanos();
    long pause = 50;
    while (running.getAsBoolean()) {
      try {
        HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return true;
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
          throw LabenvException.failed("the server at " + host + ":" + port + " refused labenv's token (HTTP "
              + r.statusCode() + "): another server answers on that port");
        }
      } catch (ConnectException e) {
        // not listening yet
      } catch (IOException e) {
        // the forwarder closed the connection: nothing listens in the container yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      pause = Math.min(250, pause * 2);
    }
    return false;
  }
}
