package labenv.container;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import labenv.LabenvException;

/**
 * The rootless port forwarder: a JVM started through {@code nsenter --preserve-credentials -U -t PID}, so it is
 * root in the container's user namespace (and may join the container's network namespace) while it listens in the
 * host's. It runs {@link PortForwarder#main} and says {@code ready} or why not on its output.
 */
final class ForwarderProcess implements AutoCloseable {
  static final String READY = "ready";
  /** Long enough for a JVM to start on a loaded machine; the helper normally answers in well under a second. */
  static final int START_SECONDS = 60;

  private final Process process;

  private ForwarderProcess(Process process) {
    this.process = process;
  }

  static ForwarderProcess start(List<PortMapping> ports, long containerPid) {
    String nsenter = HostTools.utilLinux("nsenter", "to publish ports as an ordinary user");
    List<String> cmd = new ArrayList<>(List.of(nsenter, "--preserve-credentials", "-U", "-t",
        Long.toString(containerPid), "--", HostTools.java()));
    cmd.addAll(Launcher.INIT_JVM_FLAGS);
    for (String p : List.of("java.io.tmpdir", "jna.tmpdir", "jna.boot.library.path", "jna.nosys")) {
      if (System.getProperty(p) != null) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PortForwarder.class.getName(),
        Long.toString(ProcessHandle.current().pid()), Long.toString(containerPid)));
    ports.forEach(p -> cmd.add(p.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    CompletableFuture<Process> started = new CompletableFuture<>();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    // The helper's parent-death signal fires when the thread that started it ends, not the process: so the thread
    // that starts it is the one that reads its output until it exits.
    Thread thread = new Thread(() -> run(pb, started, ready), "labenv-port-forwarder");
    thread.setDaemon(true);
    thread.start();
    Process process;
    try {
      process = started.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw (LabenvException) e.getCause();
    }
    try {
      ready.get(START_SECONDS, TimeUnit.SECONDS);
      return new ForwarderProcess(process);
    } catch (TimeoutException e) {
      stop(process);
      throw LabenvException.failed("the port forwarder did not start within " + START_SECONDS + " s");
    } catch (ExecutionException e) {
      stop(process);
      throw (LabenvException) e.getCause();
    } catch (InterruptedException e) {
      stop(process);
      Thread.currentThread().interrupt();
      throw LabenvException.failed("interrupted while starting the port forwarder");
    }
  }

  private static void run(ProcessBuilder pb, CompletableFuture<Process> started, CompletableFuture<Void> ready) {
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      started.completeExceptionally(LabenvException.failed("cannot start the port forwarder: " + e.getMessage(), e));
      return;
    }
    started.complete(process);
    String last = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        if (!ready.isDone() && line.equals(READY)) {
          ready.complete(null);
        } else if (!ready.isDone() && line.startsWith("error ")) {
          String[] f = line.split(" ", 3);
          ready.completeExceptionally(new LabenvException(kind(f[1]), f.length > 2 ? f[2] : line));
        } else if (!line.isBlank()) {
          last = line; // nsenter's or the JVM's own complaint, should it die before it can say
        }
      }
    } catch (IOException e) {
      // the helper is gone: its exit status tells the rest
    }
    int status = HostTools.waitFor(process);
    ready.completeExceptionally(LabenvException.failed("the port forwarder exited with status " + status
        + (last == null ? "" : ": " + last)));
  }

  private static LabenvException.Kind kind(String name) {
    try {
      return LabenvException.Kind.valueOf(name);
    } catch (IllegalArgumentException e) {
      return LabenvException.Kind.FAILED;
    }
  }

  /** Kills the helper and waits for it: its ports are free when this returns. */
  @Override
  public void close() {
    stop(process);
  }

  private static void stop(Process process) {
    process.destroyForcibly();
    HostTools.waitFor(process);
  }
}
