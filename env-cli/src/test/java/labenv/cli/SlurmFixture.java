package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import labenv.cli.RegistryFixture.Result;

/**
 * A real single-machine Slurm for tests: Debian's {@code slurmctld} and {@code slurmd} (and a {@code munged} of its
 * own) as child processes of the test, with everything they write (munge key and socket, slurm.conf, state, spool,
 * pid files, logs) in a temporary directory that {@link #close()} deletes. Installs {@code slurm-wlm} and
 * {@code munge} with apt-get when they are missing.
 *
 * <p>The one node is this host ({@code hostname -s}) at 127.0.0.1, with 2 CPUs, in partition {@value #PARTITION}.
 * Clients find the cluster through {@code SLURM_CONF} ({@link #environment()}); the conf names the fixture's munge
 * socket ({@code AuthInfo=socket=...}), so the host's own munge (if any) is neither used nor disturbed.
 *
 * <p>Choices that matter on this machine (a hybrid cgroup v1/v2 host, no systemd, no accounting database):
 * <ul>
 *   <li>{@code ProctrackType=proctrack/linuxproc}, {@code TaskPlugin=task/none}, {@code JobAcctGatherType=none}:
 *       no cgroup plugin is loaded, so no cgroup.conf is needed and slurmd never touches the cgroup tree that labenv's
 *       own containers use (proctrack/cgroup would put each job in a slurm cgroup and fight over the v1 hierarchy).
 *   <li>{@code SelectTypeParameters=CR_CPU_Memory} with {@code DefMemPerCPU}: without a default, a job that asks for
 *       no memory is given the whole node and array tasks run one at a time.
 *   <li>{@code SlurmdParameters=config_overrides}: the node's configured CPUs and sockets need not match the
 *       hardware's (slurmd would otherwise drain the node on the mismatch).
 *   <li>No {@code AccountingStorageType}: {@code sacct} has nothing to read; finished jobs stay in {@code squeue -t
 *       all} for MinJobAge (300 s) only.
 * </ul>
 *
 * <p>{@link #close()} cancels every job, waits for them to end (their processes belong to slurmstepd, not to
 * slurmd: stopping slurmd alone would leave them running), then stops the daemons.
 */
final class SlurmFixture implements AutoCloseable {
  static final String PARTITION = "debug";
  static final int CPUS = 2;
  static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final Path conf;
  private final Path socket;
  private final String node;
  private final Map<String, String> env = new HashMap<>();
  private final List<Process> daemons = new ArrayList<>();
  private final Thread reaper = new Thread(this::kill, "slurm-fixture-reaper");
  private int controllerPort;

  private SlurmFixture(Path dir, String node) {
    this.dir = dir;
    this.conf = dir.resolve("slurm.conf");
    this.socket = dir.resolve("run/munge.socket");
    this.node = node;
    env.put("SLURM_CONF", conf.toString());
  }

  /** Starts munged, slurmctld and slurmd, and returns once {@code sinfo} shows the node idle. */
  static SlurmFixture start() throws IOException, InterruptedException {
    install();
    Path dir = Files.createTempDirectory("slurm-fixture-");
    SlurmFixture slurm = null;
    try {
      slurm = new SlurmFixture(dir, shortHostname());
      slurm.launch();
      return slurm;
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      if (slurm != null) {
        slurm.close();
      } else {
        RegistryFixture.deleteTree(dir);
      }
      throw e;
    }
  }

  /** {@code SLURM_CONF}: what a client (sbatch, squeue, labenv submit) needs to reach this cluster. */
  Map<String, String> environment() {
    return Map.copyOf(env);
  }

  Path conf() {
    return conf;
  }

  /** The node's name, this host's short name. */
  String node() {
    return node;
  }

  /** Where everything lives; gone after {@link #close()}. */
  Path directory() {
    return dir;
  }

  /** The pids of munged, slurmctld and slurmd, to check that close leaves none. */
  List<Long> pids() {
    return daemons.stream().map(Process::pid).toList();
  }

  /** A Slurm client command (sbatch, squeue, scontrol...) against this cluster, whatever its exit status. */
  Result client(String... cmd) throws IOException, InterruptedException {
    return RegistryFixture.tool(List.of(cmd), env, null);
  }

  /** Waits until the queue ({@code squeue}) shows none of the job's tasks; fails the test after {@code timeout}. */
  void awaitDone(String jobId, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Result q = client("squeue", "-h", "-r", "-j", jobId, "-o", "%i %T");
      // Once the controller forgot the job, squeue -j says "Invalid job id" and exits 1: done all the same.
      if (q.code() != 0 && !q.err().contains("Invalid job id") || q.code() == 0 && !q.out().isBlank()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("job " + jobId + " still queued after " + timeout.toSeconds() + " s: " + q
              + "\n" + logs());
        }
        Thread.sleep(200);
        continue;
      }
      return;
    }
  }

  /** The ends of slurmctld's and slurmd's logs, for assertion messages. */
  String logs() {
    return "--- slurmctld.log:\n" + tail(dir.resolve("slurmctld.log")) + "\n--- slurmd.log:\n"
        + tail(dir.resolve("slurmd.log"));
  }

  /** Cancels every job, waits for their processes to end, stops the daemons and deletes the directory. */
  @Override
  public void close() {
    try {
      if (isUp()) {
        cancelAll();
      }
    } catch (IOException | InterruptedException e) {
      // stopping the daemons is still the best we can do
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // already shutting down, or never registered
    }
    RegistryFixture.deleteTree(dir);
  }

  private boolean isUp() {
    return daemons.size() == 3 && daemons.stream().allMatch(Process::isAlive);
  }

  private void cancelAll() throws IOException, InterruptedException {
    client("scancel", "--full", "--user", System.getProperty("user.name"));
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      Result q = client("squeue", "-h", "-o", "%i");
      // slurmstepd removes its step socket from the spool once the job's processes are gone.
      if (q.code() == 0 && q.out().isBlank() && stepSockets().isEmpty()) {
        return;
      }
      Thread.sleep(200);
    }
  }

  private List<Path> stepSockets() throws IOException {
    try (var s = Files.list(dir.resolve("spool"))) {
      return s.filter(p -> p.getFileName().toString().startsWith(node + "_")).toList();
    }
  }

  private void launch() throws IOException, InterruptedException {
    Files.createDirectories(dir.resolve("state"));
    Files.createDirectories(dir.resolve("spool"));
    Files.createDirectories(dir.resolve("run"));
    // munged refuses a key that others can read, a socket directory that others can write, and a socket path that
    // others cannot search (every client of the socket, slurmstepd included, needs x on each directory above it).
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    Path key = dir.resolve("munge.key");
    byte[] secret = new byte[128];
    new SecureRandom().nextBytes(secret);
    Files.write(key, secret);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    Runtime.getRuntime().addShutdownHook(reaper);
    daemons.add(spawn("munged.out", "munged", "--foreground", "--socket=" + socket, "--key-file=" + key,
        "--pid-file=" + dir.resolve("run/munged.pid"), "--log-file=" + dir.resolve("munged.log"),
        "--seed-file=" + dir.resolve("munged.seed"), "--num-threads=2"));
    awaitFile(socket, daemons.get(0), "munged.out");

    // Another process may take a port between our probe and the daemon's bind: try a few.
    for (int attempt = 1; ; attempt++) {
      controllerPort = freePort();
      writeConf(controllerPort, freePort());
      Process controller = spawn("slurmctld.out", "slurmctld", "-D", "-f", conf.toString());
      Process slurmd = spawn("slurmd.out", "slurmd", "-D", "-f", conf.toString());
      daemons.add(controller);
      daemons.add(slurmd);
      try {
        awaitIdle();
        return;
      } catch (IllegalStateException e) {
        String logs = logs();
        if (attempt >= 3 || !logs.contains("Address already in use")) {
          throw e;
        }
        stop(slurmd);
        stop(controller);
        daemons.remove(controller);
        daemons.remove(slurmd);
      }
    }
  }

  private void writeConf(int ctldPort, int slurmdPort) throws IOException {
    long memory = memoryMiB();
    String text = String.join("\n",
        "ClusterName=labenvtest",
        "SlurmctldHost=" + node + "(127.0.0.1)",
        "SlurmUser=" + System.getProperty("user.name"),
        "SlurmdUser=root",
        "SlurmctldPort=" + ctldPort,
        "SlurmdPort=" + slurmdPort,
        "AuthType=auth/munge",
        "CredType=cred/munge",
        "AuthInfo=socket=" + socket,
        "StateSaveLocation=" + dir.resolve("state"),
        "SlurmdSpoolDir=" + dir.resolve("spool"),
        "SlurmctldPidFile=" + dir.resolve("run/slurmctld.pid"),
        "SlurmdPidFile=" + dir.resolve("run/slurmd.pid"),
        "SlurmctldLogFile=" + dir.resolve("slurmctld.log"),
        "SlurmdLogFile=" + dir.resolve("slurmd.log"),
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "MpiDefault=none",
        "SchedulerType=sched/builtin",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU_Memory",
        "DefMemPerCPU=" + Math.min(1024, memory / CPUS),
        "SlurmdParameters=config_overrides",
        "ReturnToService=2",
        "NodeName=" + node + " NodeAddr=127.0.0.1 CPUs=" + CPUS + " RealMemory=" + memory + " State=UNKNOWN",
        "PartitionName=" + PARTITION + " Nodes=" + node + " Default=YES MaxTime=INFINITE State=UP",
        "");
    Files.writeString(conf, text);
  }

  private void awaitIdle() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    Result last = null;
    while (System.nanoTime() < deadline) {
      for (Process p : daemons) {
        if (!p.isAlive()) {
          throw new IllegalStateException(p.info().command().orElse("a Slurm daemon") + " exited with "
              + p.exitValue() + " before the node was idle\n" + outputs() + logs());
        }
      }
      last = client("sinfo", "-h", "-n", node, "-o", "%t");
      if (last.code() == 0 && last.out().strip().equals("idle")) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("node " + node + " not idle within " + READY_TIMEOUT.toSeconds() + " s (sinfo: "
        + last + ")\n" + outputs() + logs());
  }

  private Process spawn(String output, String... cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("SLURM"));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(output).toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    return pb.start();
  }

  private static void awaitFile(Path file, Process owner, String output) throws InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (!Files.exists(file)) {
      if (!owner.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(owner.info().command().orElse("daemon") + " made no " + file + ": "
            + tail(file.getParent().getParent().resolve(output)));
      }
      Thread.sleep(50);
    }
  }

  /** Stops the daemons in reverse order: SIGTERM, then SIGKILL after {@link #STOP_TIMEOUT}. */
  private void kill() {
    for (int i = daemons.size() - 1; i >= 0; i--) {
      stop(daemons.get(i));
    }
  }

  private static void stop(Process p) {
    // slurmctld's helper (slurmscriptd) is its child: end it too if the parent cannot.
    List<ProcessHandle> children = p.descendants().toList();
    p.destroy();
    try {
      if (!p.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      for (ProcessHandle c : children) {
        c.destroyForcibly();
        c.onExit().get(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("a child of " + p.pid() + " survived SIGKILL: " + e, e);
    }
  }

  private String outputs() {
    StringBuilder sb = new StringBuilder();
    for (String f : List.of("munged.out", "slurmctld.out", "slurmd.out")) {
      sb.append("--- ").append(f).append(":\n").append(tail(dir.resolve(f))).append('\n');
    }
    return sb.toString();
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** MemTotal in MiB: slurmd refuses a RealMemory above what it finds. */
  private static long memoryMiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemTotal:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    throw new IllegalStateException("no MemTotal in /proc/meminfo");
  }

  /** slurmd finds its node by the host's short name. */
  private static String shortHostname() throws IOException, InterruptedException {
    Result r = RegistryFixture.tool(List.of("hostname", "-s"), Map.of(), null);
    assertEquals(0, r.code(), r::toString);
    return r.out().strip();
  }

  /** Installs Debian's slurm-wlm and munge when a daemon is missing (CI machines start without them). */
  private static void install() throws IOException, InterruptedException {
    if (Files.isExecutable(Path.of("/usr/sbin/slurmctld")) && Files.isExecutable(Path.of("/usr/sbin/slurmd"))
        && Files.isExecutable(Path.of("/usr/sbin/munged")) && Files.isExecutable(Path.of("/usr/bin/sbatch"))) {
      return;
    }
    Map<String, String> noninteractive = Map.of("DEBIAN_FRONTEND", "noninteractive");
    Result update = RegistryFixture.tool(List.of("apt-get", "update", "-qq"), noninteractive, null);
    assertEquals(0, update.code(), update::toString);
    Result r = RegistryFixture.tool(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends",
        "slurm-wlm", "munge"), noninteractive, null);
    assertEquals(0, r.code(), r::toString);
  }
}
