package labenv.container;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;

/**
 * A container's cgroups: {@code labenv/<id>} in each hierarchy that holds a controller its limits
 * need. Each controller is looked for on cgroup v2 first (the unified mount, where it must be
 * offered in {@code cgroup.controllers}; it is enabled in {@code cgroup.subtree_control} on the way
 * down) and then on a v1 hierarchy of its own, so hybrid machines work. v2 groups sit at the
 * mount's root (a cgroup holding our own process can't enable controllers for its children); v1
 * groups sit under this process's own cgroup, so limits above us still apply.
 */
public final class Cgroups implements AutoCloseable {
  private final String id;
  private final Limits limits;
  /** controller -> its group's directory; several controllers may share one (v2, co-mounted v1). */
  private final Map<String, Path> groups;
  private final Map<String, Boolean> v2;

  private Cgroups(String id, Limits limits, Map<String, Path> groups, Map<String, Boolean> v2) {
    this.id = id;
    this.limits = limits;
    this.groups = groups;
    this.v2 = v2;
  }

  /** Creates the groups and writes the memory and CPU limits (pids: {@link #limitPids()}). */
  public static Cgroups create(String id, Limits limits) {
    List<String> controllers = new ArrayList<>();
    if (limits.memoryBytes() > 0) {
      controllers.add("memory");
    }
    if (limits.cpuQuotaMicros() > 0) {
      controllers.add("cpu");
    }
    if (limits.pids() > 0) {
      controllers.add("pids");
    }
    List<Mount> mounts = mounts();
    Map<String, String> own = ownCgroups();
    Map<String, Path> groups = new LinkedHashMap<>();
    Map<String, Boolean> v2 = new LinkedHashMap<>();
    Cgroups cgroups = new Cgroups(id, limits, groups, v2);
    try {
      for (String c : controllers) {
        Mount unified = mounts.stream().filter(m -> m.type().equals("cgroup2")).findFirst().orElse(null);
        Mount v1 = mounts.stream().filter(m -> m.type().equals("cgroup") && m.options().contains(c)).findFirst()
            .orElse(null);
        if (unified != null && words(unified.point().resolve("cgroup.controllers")).contains(c)) {
          Path parent = unified.point().resolve("labenv");
          enable(unified.point(), c);
          mkdir(parent);
          enable(parent, c);
          groups.put(c, mkdir(parent.resolve(id)));
          v2.put(c, true);
        } else if (v1 != null) {
          String path = own.entrySet().stream().filter(e -> List.of(e.getKey().split(",")).contains(c))
              .map(Map.Entry::getValue).findFirst().orElse("/");
          // The mount may show a subtree only (inside a cgroup namespace or a bind mount).
          if (path.startsWith(v1.root())) {
            path = path.substring(v1.root().length());
          }
          Path base = v1.point().resolve(path.replaceFirst("^/+", "")).resolve("labenv");
          groups.put(c, mkdir(base.resolve(id)));
          v2.put(c, false);
        } else {
          throw LabenvException.failed("cgroup controller " + c + " is not available: "
              + (unified == null ? "no cgroup v2 mount" : "the cgroup v2 mount " + unified.point() + " does not offer it")
              + " and no cgroup v1 hierarchy mounts it");
        }
      }
      cgroups.writeLimits();
      return cgroups;
    } catch (RuntimeException e) {
      try {
        cgroups.close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private void writeLimits() {
    // The init JVM needs about 30 MB until it execs: a smaller limit waits until then (see tighten).
    writeMemory(Math.max(limits.memoryBytes(), INIT_MEMORY_HEADROOM));
    // Unlimited until init runs (see limitPids), but never unbounded.
    limitPids(INIT_PIDS_HEADROOM);
    Path cpu = groups.get("cpu");
    if (cpu != null) {
      if (v2.get("cpu")) {
        write(cpu, "cpu.max", limits.cpuQuotaMicros() + " " + Limits.CPU_PERIOD_MICROS, "cpu");
      } else {
        write(cpu, "cpu.cfs_period_us", Long.toString(Limits.CPU_PERIOD_MICROS), "cpu");
        write(cpu, "cpu.cfs_quota_us", Long.toString(limits.cpuQuotaMicros()), "cpu");
      }
    }
  }

  /** What the init JVM may use before it execs the command, when the container's own limit is smaller. */
  static final long INIT_MEMORY_HEADROOM = 96L << 20;

  /**
   * The limits as asked, once init has exec'd the command (its JVM's memory and threads are gone then): the
   * memory limit if it was below init's headroom, and the pids limit.
   */
  public void tighten() {
    tighten(groups.values().stream().distinct().toList(), limits);
  }

  /**
   * {@link #tighten} for groups another process created (the OCI runtime's {@code start}): each directory gets the
   * limits its controller files take (pids.max; memory.max or memory.limit_in_bytes).
   */
  public static void tighten(List<Path> groups, Limits limits) {
    for (Path g : groups) {
      if (limits.memoryBytes() > 0 && limits.memoryBytes() < INIT_MEMORY_HEADROOM
          && (Files.exists(g.resolve("memory.max")) || Files.exists(g.resolve("memory.limit_in_bytes")))) {
        writeMemory(g, Files.exists(g.resolve("memory.max")), limits.memoryBytes());
      }
      if (limits.pids() > 0 && Files.exists(g.resolve("pids.max"))) {
        write(g, "pids.max", Long.toString(limits.pids()), "pids");
      }
    }
  }

  /** Whether {@link #tighten} has anything to do, so the launcher watches for init's exec closely. */
  public boolean tightens() {
    return limitsPids() || (limits.memoryBytes() > 0 && limits.memoryBytes() < INIT_MEMORY_HEADROOM);
  }

  private void writeMemory(long limit) {
    Path mem = groups.get("memory");
    if (mem != null) {
      writeMemory(mem, v2.get("memory"), limit);
    }
  }

  private static void writeMemory(Path mem, boolean v2, long limit) {
    {
      String bytes = Long.toString(limit);
      if (v2) {
        write(mem, "memory.max", bytes, "memory");
        // Without this the limit only moves the excess to swap.
        if (Files.exists(mem.resolve("memory.swap.max"))) {
          write(mem, "memory.swap.max", "0", "memory");
        }
      } else if (Files.exists(mem.resolve("memory.memsw.limit_in_bytes"))) {
        // v1 wants memory <= memory+swap at every step: raise the pair in that order, lower it the other way.
        Path memsw = mem.resolve("memory.memsw.limit_in_bytes");
        boolean lowering = limit < currentLimit(mem.resolve("memory.limit_in_bytes"));
        if (lowering) {
          write(mem, "memory.limit_in_bytes", bytes, "memory");
          write(mem, memsw.getFileName().toString(), bytes, "memory");
        } else {
          write(mem, memsw.getFileName().toString(), bytes, "memory");
          write(mem, "memory.limit_in_bytes", bytes, "memory");
        }
      } else {
        write(mem, "memory.limit_in_bytes", bytes, "memory");
      }
    }
  }

  private static long currentLimit(Path file) {
    try {
      return Long.parseLong(Files.readString(file).trim());
    } catch (IOException | NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Room above the limit for the init JVM's threads while it sets the container up. */
  public static final long INIT_PIDS_HEADROOM = 64;

  /**
   * Writes the pids limit plus {@code headroom}. The container's init is a JVM with a dozen
   * threads, more than a small limit allows; the kernel lets a group stay above a lowered limit
   * and only refuses new tasks, and init's threads go when it execs the command.
   */
  public void limitPids(long headroom) {
    Path pids = groups.get("pids");
    if (pids != null) {
      write(pids, "pids.max", Long.toString(limits.pids() + headroom), "pids");
    }
  }

  public boolean limitsPids() {
    return groups.containsKey("pids");
  }

  /** The {@code cgroup.procs} files a process writes its pid to, to join every group. */
  public List<Path> procsFiles() {
    return groups.values().stream().distinct().map(g -> g.resolve("cgroup.procs")).toList();
  }

  /** Whether the kernel's OOM killer killed a process in the container. */
  public boolean oomKilled() {
    Path mem = groups.get("memory");
    if (mem == null) {
      return false;
    }
    Path file = mem.resolve(v2.get("memory") ? "memory.events" : "memory.oom_control");
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] kv = line.trim().split("\\s+");
        if (kv.length == 2 && kv[0].equals("oom_kill")) {
          return Long.parseLong(kv[1]) > 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
    // Kernels before 4.13 don't count kills: the limit was hit and reclaim failed.
    try {
      return Long.parseLong(Files.readString(mem.resolve("memory.failcnt")).trim()) > 0;
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  public Limits limits() {
    return limits;
  }

  /** Removes the groups; their last processes may take a moment to be reaped. */
  @Override
  public void close() {
    List<Path> left = removeGroups(groups.values().stream().distinct().toList());
    if (!left.isEmpty()) {
      throw LabenvException.failed("container " + id.substring(0, Math.min(12, id.length()))
          + ": cannot remove cgroups " + left.stream().map(Path::toString).collect(java.util.stream.Collectors
              .joining(", ")) + ": still in use");
    }
  }

  /**
   * Removes groups (this process's, or another's whose container is gone: see {@link Containers#reconcile}), and
   * the shared labenv/ parent when it is empty, so no stray group outlives us in a cgroup we don't own (a
   * concurrent run's mkdir retries, see mkdir). Returns the groups still in use, which stay.
   */
  public static List<Path> removeGroups(List<Path> dirs) {
    List<Path> left = new ArrayList<>();
    for (Path g : dirs) {
      if (!Files.isDirectory(g)) {
        continue;
      }
      if (!rmdir(g)) {
        left.add(g);
        continue;
      }
      try {
        Files.deleteIfExists(g.getParent());
      } catch (IOException e) {
        // another container's group is in it
      }
    }
    return left;
  }

  private static boolean rmdir(Path dir) {
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (true) {
      try {
        Files.deleteIfExists(dir);
        return true;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          return false;
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
  }

  private static void enable(Path group, String controller) {
    if (words(group.resolve("cgroup.subtree_control")).contains(controller)) {
      return;
    }
    try {
      Files.writeString(group.resolve("cgroup.subtree_control"), "+" + controller);
    } catch (IOException e) {
      throw LabenvException.failed("cgroup controller " + controller + ": cannot enable it in " + group
          + "/cgroup.subtree_control: " + e.getMessage(), e);
    }
  }

  private static Path mkdir(Path dir) {
    for (int attempt = 1; ; attempt++) {
      try {
        Files.createDirectories(dir);
        return dir;
      } catch (IOException e) {
        // A finishing container may have removed the empty labenv/ parent in between.
        if (attempt == 3) {
          throw LabenvException.failed("cannot create cgroup " + dir + ": " + e.getMessage(), e);
        }
      }
    }
  }

  private static void write(Path group, String file, String value, String controller) {
    try {
      Files.writeString(group.resolve(file), value);
    } catch (IOException e) {
      throw LabenvException.failed("cgroup controller " + controller + ": cannot write " + value + " to "
          + group.resolve(file) + ": " + e.getMessage(), e);
    }
  }

  private static List<String> words(Path file) {
    try {
      return List.of(Files.readString(file).trim().split("\\s+"));
    } catch (IOException e) {
      return List.of();
    }
  }

  record Mount(Path point, String root, String type, List<String> options) {}

  /** cgroup mounts from /proc/self/mountinfo; v1 options are its controllers (and name=...). */
  static List<Mount> mounts() {
    List<Mount> mounts = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] f = line.split(" ");
        int dash = List.of(f).indexOf("-");
        if (dash < 0 || dash + 3 >= f.length || !f[dash + 1].startsWith("cgroup")) {
          continue;
        }
        List<String> opts = new ArrayList<>();
        for (String o : f[dash + 3].split(",")) {
          if (!o.equals("rw") && !o.equals("ro")) {
            opts.add(o);
          }
        }
        mounts.add(new Mount(Path.of(unescape(f[4])), unescape(f[3]), f[dash + 1], opts));
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
    }
    return mounts;
  }

  private static String unescape(String s) {
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }

  /** This process's v1 cgroups: "cpu" (or "cpu,cpuacct") -> path. */
  static Map<String, String> ownCgroups() {
    Map<String, String> own = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
        String[] f = line.split(":", 3);
        if (f.length == 3 && !f[1].isEmpty()) {
          own.put(f[1], f[2]);
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read /proc/self/cgroup: " + e.getMessage(), e);
    }
    return own;
  }
}
