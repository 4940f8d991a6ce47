package labenv.container;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.linux.Libc;
import labenv.oci.OciConfig;
import labenv.oci.UserNamespace;

/**
 * Runs a labenv container with crun or runc instead of labenv's own init ({@code run --runtime crun|runc}): the
 * same container described as an OCI bundle in its directory ({@code bundle/config.json}, the root being the
 * container's root filesystem), run in the foreground with this process's stdio.
 */
public final class ExternalRuntime {
  private final String name;
  private final String binary;
  private final Limits limits;

  private ExternalRuntime(String name, String binary, Limits limits) {
    this.name = name;
    this.binary = binary;
    this.limits = limits;
  }

  /**
   * {@code crun} or {@code runc}, found on the usual paths, to run containers under {@code limits}; null for
   * {@code labenv}, labenv's own. Checked before any container is made.
   */
  public static ExternalRuntime named(String name, Limits limits) {
    if (name.equals("labenv")) {
      return null;
    }
    if (!name.equals("crun") && !name.equals("runc")) {
      throw LabenvException.badInput("runtime \"" + name + "\": expected labenv, crun or runc");
    }
    for (String dir : List.of("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin")) {
      if (Files.isExecutable(Path.of(dir, name))) {
        if (limits.any() && Libc.geteuid() != 0 && !unifiedCgroups()) {
          // Checked here because the runtimes don't: without root on cgroup v1 they run the container unlimited.
          throw LabenvException.failed("--runtime " + name + " with --memory, --cpus or --pids-limit needs root on"
              + " this machine: unprivileged on cgroup v1, " + name + " applies no limits and says nothing");
        }
        return new ExternalRuntime(name, dir + "/" + name, limits);
      }
    }
    throw LabenvException.failed(name + " is not installed: apt-get install " + name);
  }

  public String name() {
    return name;
  }

  /**
   * Runs the container and returns how it ended. The runtime's own failures (it prints them on stderr) come back
   * as 127 for a command not found, 126 for one that cannot be executed, else 125, told apart from the
   * container's own status by the runtime's log. SIGINT and SIGTERM are passed on as by {@link Launcher}.
   */
  public Launcher.Exit run(Container container) {
    Path bundle = container.dir().resolve("bundle");
    Path log = container.dir().resolve(name + ".log");
    try {
      Files.createDirectories(bundle);
      Files.write(bundle.resolve("config.json"),
          OciConfig.of(container.spec(), limits, UserNamespace.forCaller()).toJson());
      Files.deleteIfExists(log);
    } catch (IOException e) {
      throw LabenvException.failed("cannot write the bundle " + bundle + ": " + e.getMessage(), e);
    }
    // Its state in the container's directory, gone with it; its own errors to a log as well as to stderr.
    List<String> cmd = new ArrayList<>(List.of(binary, "--root=" + container.dir().resolve(name),
        "--log=" + (name.equals("crun") ? "file:" : "") + log, "--log-format=json"));
    if (name.equals("crun") && !limits.any()) {
      // crun refuses hybrid cgroup hierarchies; with no limits to enforce it needs no cgroup.
      cmd.add("--cgroup-manager=disabled");
    }
    cmd.addAll(List.of("run", "--bundle", bundle.toString(), container.id()));
    Process process;
    try {
      process = new ProcessBuilder(cmd).inheritIO().start();
    } catch (IOException e) {
      throw LabenvException.failed("cannot start " + binary + ": " + e.getMessage(), e);
    }
    int status;
    try (SignalForwarding forwarding = SignalForwarding.install(process)) {
      status = HostTools.waitFor(process);
    } finally {
      container.rootfs().release();
    }
    String error = lastError(log);
    if (error == null) {
      return new Launcher.Exit(status, false);
    }
    String e = error.toLowerCase(Locale.ROOT);
    if (e.contains("exec") && (e.contains("not found") || e.contains("no such file"))) {
      return new Launcher.Exit(127, false);
    }
    if (e.contains("exec") && e.contains("permission denied")) {
      return new Launcher.Exit(126, false);
    }
    return new Launcher.Exit(125, false);
  }

  /** Whether /sys/fs/cgroup is cgroup v2 alone, where an unprivileged runtime can be given a delegated group. */
  private static boolean unifiedCgroups() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] f = line.split(" ");
        int dash = List.of(f).indexOf("-");
        if (f.length > 4 && f[4].equals("/sys/fs/cgroup") && dash > 0 && dash + 1 < f.length) {
          return f[dash + 1].equals("cgroup2");
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
    }
    return false;
  }

  /** The last error the runtime logged (crun and runc both write JSON lines with level and msg), or null. */
  private static String lastError(Path log) {
    if (!Files.exists(log)) {
      return null;
    }
    String error = null;
    try {
      for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
        if (!line.startsWith("{")) {
          continue;
        }
        try {
          JsonNode n = Json.tree(line.getBytes(StandardCharsets.UTF_8), log.toString());
          if ("error".equals(n.path("level").asText()) || "fatal".equals(n.path("level").asText())) {
            error = n.path("msg").asText();
          }
        } catch (LabenvException ignored) {
          // a line that is not JSON: not one of the runtime's records
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + log + ": " + e.getMessage(), e);
    }
    return error;
  }
}
