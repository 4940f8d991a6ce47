package labenv.container;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import labenv.LabenvException;
import labenv.linux.Libc;
import labenv.linux.Pty;
import labenv.linux.Syscalls;

/**
 * Runs a new process in a running container ({@code labenv exec}): util-linux {@code nsenter} enters the
 * container's pid namespace (and its user namespace, when rootless) and starts {@link labenv.linux.SetnsInit} in a
 * small JVM there, which joins the container's cgroups and other namespaces, takes on its security and execs the
 * command; nsenter waits for it and exits with its status. With a tty, the process gets a pty of the container's
 * own devpts, and this process copies between it and its terminal, in raw mode meanwhile.
 */
public final class Exec {
  private Exec() {}

  /**
   * Runs the request with this process's stdio (standard input only when interactive) and returns the command's
   * exit status: 128+N when signal N killed it, 125 when labenv failed, 126 when the command cannot be executed,
   * 127 when it is not found. SIGINT and SIGTERM sent to this process are passed on to the command.
   */
  public static int run(ExecRequest request) {
    long pid = request.containerPid();
    String userNs = namespace(pid, "user");
    if (namespace(pid, "pid").equals(namespace(ProcessHandle.current().pid(), "pid"))) {
      throw LabenvException.failed("process " + pid + " is not a container's: it is in labenv's own pid namespace");
    }
    boolean joinUserNs = !userNs.equals(namespace(ProcessHandle.current().pid(), "user"));
    ContainerSpec.Process process = process(request);
    ContainerSpec spec = new ContainerSpec(process, request.spec().root(), request.spec().hostname(), List.of(),
        request.spec().network(), request.spec().security());
    Path specFile = null;
    try {
      specFile = Files.createTempFile("labenv-exec-", ".spec");
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(specFile)))) {
        spec.write(out);
      }
      List<String> cmd = command(pid, joinUserNs, specFile, request.tty(), request.cgroupProcsFiles());
      ProcessBuilder pb = new ProcessBuilder(cmd);
      // The JVM needs no environment; the command's comes from the spec.
      pb.environment().keySet().retainAll(List.of("LANG", "LC_ALL", "TMPDIR"));
      int status = request.tty() ? runWithPty(pb, pid, request, process.user(), joinUserNs) : run(pb, request);
      if (Files.exists(specFile)) {
        // SetnsInit deletes it first: nsenter (or the JVM) failed before, and said why on stderr.
        throw LabenvException.failed("process " + pid + ": nsenter could not start labenv's exec in its namespaces"
            + " (exit status " + status + ")");
      }
      return status;
    } catch (IOException e) {
      throw LabenvException.failed("exec in process " + pid + ": " + e.getMessage(), e);
    } finally {
      if (specFile != null) {
        try {
          Files.deleteIfExists(specFile);
        } catch (IOException e) {
          // a temporary file left behind
        }
      }
    }
  }

  private static int run(ProcessBuilder pb, ExecRequest request) throws IOException {
    pb.redirectInput(request.interactive() ? ProcessBuilder.Redirect.INHERIT
        : ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    try (SignalForwarding forwarding = SignalForwarding.install(p)) {
      return HostTools.waitFor(p);
    }
  }

  /**
   * The pty's slave becomes the command's stdin, stdout and stderr (and its controlling terminal, see SetnsInit):
   * reopened here through /proc/self/fd, as ProcessBuilder only takes paths.
   */
  private static int runWithPty(ProcessBuilder pb, long pid, ExecRequest request, ContainerSpec.User user,
      boolean joinUserNs) throws IOException {
    int root = Syscalls.openat(Libc.AT_FDCWD, Syscalls.cstr("/proc/" + pid + "/root"), Libc.O_PATH | Libc.O_DIRECTORY,
        0);
    Pty pty;
    try {
      pty = Pty.openIn(root);
    } finally {
      Libc.close(root);
    }
    try (pty) {
      if (!joinUserNs && Syscalls.isRoot() && user.uid() != 0) {
        pty.chown(user.uid(), user.gid());
      }
      File slave = new File("/proc/self/fd/" + pty.slave());
      pb.redirectInput(ProcessBuilder.Redirect.from(slave)).redirectOutput(ProcessBuilder.Redirect.appendTo(slave))
          .redirectError(ProcessBuilder.Redirect.appendTo(slave));
      try (TerminalSession terminal = TerminalSession.open(pty, request.interactive())) {
        Process p = pb.start();
        pty.closeSlave();
        terminal.copy(request.interactive());
        try (SignalForwarding forwarding = SignalForwarding.install(p)) {
          return HostTools.waitFor(p);
        }
      }
    }
  }

  /** The process to start: the container's, with the request's command, overrides and user. */
  static ContainerSpec.Process process(ExecRequest request) {
    if (request.args().isEmpty()) {
      throw LabenvException.badInput("exec: no command given");
    }
    ContainerSpec.Process container = request.spec().process();
    Map<String, String> vars = new LinkedHashMap<>();
    for (List<String> list : List.of(container.env(), request.extraEnv())) {
      for (String e : list) {
        int eq = e.indexOf('=');
        if (eq <= 0) {
          throw LabenvException.badInput("environment entry \"" + e + "\": not KEY=VALUE");
        }
        vars.put(e.substring(0, eq), e.substring(eq + 1));
      }
    }
    if (request.tty()) {
      // as docker does: programs that draw on the terminal need to know what it is
      vars.putIfAbsent("TERM", "xterm");
    }
    List<String> env = new ArrayList<>();
    vars.forEach((k, v) -> env.add(k + "=" + v));
    String cwd = request.cwd() != null ? request.cwd() : container.cwd();
    if (!cwd.startsWith("/")) {
      throw LabenvException.badInput("working directory " + cwd + ": not an absolute path");
    }
    ContainerSpec.User user = request.user() == null ? container.user()
        : Users.resolve(Path.of("/proc/" + request.containerPid() + "/root"), request.user()).user();
    return new ContainerSpec.Process(request.args(), env, cwd, user);
  }

  static List<String> command(long pid, boolean joinUserNs, Path specFile, boolean tty, List<Path> cgroups) {
    List<String> cmd = new ArrayList<>(List.of(HostTools.utilLinux("nsenter", null), "--target", Long.toString(pid), "--pid"));
    if (joinUserNs) {
      // Credentials as they are: root of the container's user namespace is this user already, and setgroups,
      // which nsenter would call to change them, is denied there.
      cmd.addAll(List.of("--user", "--preserve-credentials"));
    }
    cmd.add("--");
    cmd.add(HostTools.java());
    cmd.addAll(Launcher.INIT_JVM_FLAGS);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "labenv.linux.SetnsInit", Long.toString(pid),
        specFile.toString()));
    if (tty) {
      cmd.add("--tty");
    }
    cgroups.forEach(c -> cmd.add(c.toString()));
    return cmd;
  }

  /** The namespace {@code type} of process {@code pid}, as its link names it ({@code pid:[4026531836]}). */
  private static String namespace(long pid, String type) {
    Path link = Path.of("/proc/" + pid + "/ns/" + type);
    try {
      return Files.readSymbolicLink(link).toString();
    } catch (NoSuchFileException e) {
      throw LabenvException.failed("process " + pid + " is not running: the container has stopped");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + link + ": " + e.getMessage()
          + " (only the container's owner can exec in it)", e);
    }
  }

  /**
   * The {@code cgroup.procs} files of the cgroups process {@code pid} is in where this process is not (on cgroup v1,
   * one per hierarchy that differs; on v2 the one group), as the host sees them.
   */
  public static List<Path> cgroupProcsFiles(long pid) {
    Map<String, String> theirs = cgroupLines(Path.of("/proc/" + pid + "/cgroup"));
    Map<String, String> ours = cgroupLines(Path.of("/proc/self/cgroup"));
    List<Cgroups.Mount> mounts = Cgroups.mounts();
    List<Path> files = new ArrayList<>();
    theirs.forEach((controllers, path) -> {
      if (path.equals(ours.get(controllers))) {
        return;
      }
      Optional<Cgroups.Mount> mount = mounts.stream().filter(m -> controllers.isEmpty()
          ? m.type().equals("cgroup2")
          : m.type().equals("cgroup") && m.options().containsAll(List.of(controllers.split(",")))).findFirst();
      if (mount.isEmpty()) {
        throw LabenvException.failed("process " + pid + " is in cgroup " + path + " of hierarchy \"" + controllers
            + "\", which is not mounted here");
      }
      String relative = path.startsWith(mount.get().root()) ? path.substring(mount.get().root().length()) : path;
      files.add(mount.get().point().resolve(relative.replaceFirst("^/+", "")).resolve("cgroup.procs"));
    });
    return files;
  }

  /** /proc/PID/cgroup as controllers ("" for v2) -> path. */
  private static Map<String, String> cgroupLines(Path file) {
    Map<String, String> lines = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String[] f = line.split(":", 3);
        if (f.length == 3) {
          lines.put(f[1], f[2]);
        }
      }
    } catch (NoSuchFileException e) {
      throw LabenvException.failed("process " + file.getParent().getFileName() + " is not running: the container "
          + "has stopped");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
    return lines;
  }
}
