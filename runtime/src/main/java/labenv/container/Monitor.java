package labenv.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.linux.Libc;
import labenv.linux.Pty;
import labenv.store.ContentStore;

/**
 * Supervises one container: records in its state when it started and how it ended, releases what it held, and
 * removes it when asked to ({@code --rm}). A foreground {@code run} supervises its container itself; a detached
 * one ({@code run -d}) gets this class's {@link #main} as a process of its own, in a session of its own, that
 * logs the container's output and outlives the command that started it (what conmon does for podman).
 */
public final class Monitor {
  private Monitor() {}

  /**
   * Runs the container created with {@code state} (status created) until it ends, keeping its state file up to
   * date. A failure to start it is recorded in the state too (as exited, with the error) and rethrown.
   */
  public static Launcher.Exit supervise(Containers containers, Launcher launcher, Container container,
      ContainerState state, Launcher.Stdio stdio) {
    ProcessHandle self = ProcessHandle.current();
    ContainerState supervised = state.supervisedBy(self.pid(), Processes.startTime(self.pid()));
    containers.write(supervised);
    ContainerState[] last = {supervised};
    RuntimeException[] forwarding = {null};
    Launcher.Exit exit;
    List<PortMapping> ports = supervised.ports().stream().map(PortMapping::parse).toList();
    // Bound before the container starts: a port taken meanwhile fails the start, with nothing running.
    try (PortForwarder forwarder = ports.isEmpty() ? null : PortForwarder.bind(ports)) {
      exit = launcher.start(container, supervised.limits(), stdio, (pid, startTime, cgroups) -> {
        if (forwarder != null) {
          try {
            forwarder.forwardTo(pid);
          } catch (RuntimeException e) {
            forwarding[0] = e;
            Libc.kill((int) pid, Libc.SIGKILL);
            return;
          }
        }
        synchronized (last) {
          last[0] = supervised.running(pid, startTime, cgroups.stream().map(Path::toString).toList());
          containers.write(last[0]);
        }
      });
    } catch (RuntimeException e) {
      fail(containers, last, e);
      throw e;
    }
    if (forwarding[0] != null) {
      fail(containers, last, forwarding[0]);
      throw forwarding[0];
    }
    synchronized (last) {
      // Init's own failures exit 125, 126 or 127; any other status is the command's, even when it ended before the
      // exec was seen (`run -d IMAGE true` on a busy machine).
      boolean ran = last[0].isRunning() || (exit.status() != 125 && exit.status() != 126 && exit.status() != 127);
      last[0] = last[0].exited(exit.status(), exit.oomKilled(), ran ? null
          : "the command did not start (exit status " + exit.status() + ", see its log)");
      containers.write(last[0]);
    }
    finish(containers, last[0]);
    return exit;
  }

  private static void fail(Containers containers, ContainerState[] last, RuntimeException e) {
    synchronized (last) {
      last[0] = last[0].exited(null, false, e.getMessage());
      containers.write(last[0]);
    }
    finish(containers, last[0]);
  }

  private static void finish(Containers containers, ContainerState ended) {
    if (ended.autoRemove()) {
      containers.remove(ended);
    }
  }

  /** The command line that starts a monitor for container {@code id} of the store at {@code storeRoot}. */
  public static List<String> command(Path storeRoot, String id) {
    List<String> cmd = new ArrayList<>();
    cmd.add(HostTools.java());
    // Lives as long as the container, so small: a serial collector in a small heap.
    cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx48m", "-Xss512k", "-XX:-UsePerfData",
        "-Xshare:auto"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Monitor.class.getName(),
        storeRoot.toAbsolutePath().toString(), id));
    return cmd;
  }

  /**
   * Starts a monitor for a created container and waits until the container's command runs or it failed to start.
   * Returns the state then (running, or exited: it may have ended already).
   */
  public static ContainerState startDetached(Containers containers, Path storeRoot, ContainerState created) {
    Path dir = containers.dir(created.id());
    ProcessBuilder pb = new ProcessBuilder(command(storeRoot, created.id()))
        .redirectInput(new java.io.File("/dev/null"))
        .redirectOutput(dir.resolve("monitor.log").toFile())
        .redirectErrorStream(true);
    pb.environment().keySet().retainAll(List.of("LANG", "LC_ALL", "TMPDIR", "PATH"));
    Process monitor;
    try {
      monitor = pb.start();
    } catch (IOException e) {
      throw LabenvException.failed("cannot start the monitor of container " + created.shortId() + ": "
          + e.getMessage(), e);
    }
    while (true) {
      ContainerState s = containers.read(created.id());
      if (s == null) {
        throw LabenvException.failed("container " + created.shortId() + " was removed while starting");
      }
      if (s.status() != ContainerState.Status.created) {
        return s;
      }
      if (!monitor.isAlive()) {
        s = containers.read(created.id());
        if (s != null && s.status() != ContainerState.Status.created) {
          return s;
        }
        throw LabenvException.failed("the monitor of container " + created.shortId() + " died (exit status "
            + monitor.exitValue() + "): " + lastLine(dir.resolve("monitor.log")));
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw LabenvException.failed("interrupted while starting container " + created.shortId());
      }
    }
  }

  private static String lastLine(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return lines.isEmpty() ? "no output" : lines.get(lines.size() - 1);
    } catch (IOException e) {
      return "no output";
    }
  }

  /** {@code Monitor STORE ID}: supervises a created, detached container; exits 0 once it is recorded as ended. */
  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("labenv-monitor: usage: Monitor STORE ID");
      System.exit(2);
    }
    // Its own session: the terminal that ran `labenv run -d` can close without taking the container along.
    Libc.setsid();
    ContentStore store = ContentStore.open(Path.of(args[0]));
    Containers containers = new Containers(store);
    ContainerState state = containers.read(args[1]);
    if (state == null) {
      System.err.println("labenv-monitor: no container " + args[1]);
      System.exit(1);
    }
    Container container = containers.container(state);
    try (ContainerLog log = ContainerLog.append(containers.log(state.id()));
        Pty pty = state.tty() ? Pty.open() : null) {
      supervise(containers, new Launcher(store), container, state, Launcher.Stdio.log(log, pty));
    } catch (RuntimeException e) {
      System.err.println("labenv-monitor: " + e.getMessage());
      System.exit(1);
    }
    System.exit(0);
  }
}
