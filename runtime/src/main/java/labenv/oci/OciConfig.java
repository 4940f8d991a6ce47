package labenv.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.container.ContainerSpec;
import labenv.container.Limits;
import labenv.image.Json;
import labenv.linux.Confinement;
import labenv.linux.Seccomp;

/**
 * An OCI runtime-spec {@code config.json}, field for field (the wire form), and its translation to and from
 * labenv's {@link ContainerSpec}: {@link #of} describes a labenv container to crun or runc; {@link #toBundle}
 * checks that labenv's own init can run a bundle's config exactly as written.
 *
 * <p>Fields labenv cannot honour are declared (as raw JSON where their content does not matter) so that their
 * presence is refused by name, never dropped; properties the spec does not define are ignored, as the spec
 * requires of runtimes.
 */
public record OciConfig(String ociVersion, Process process, Root root, String hostname, String domainname,
    List<Mount> mounts, JsonNode hooks, Map<String, String> annotations, Linux linux, JsonNode solaris,
    JsonNode windows, JsonNode vm, JsonNode zos) {

  /** The runtime-spec version labenv writes. */
  public static final String VERSION = "1.0.2";

  public record Process(Boolean terminal, JsonNode consoleSize, User user, List<String> args, JsonNode commandLine,
      List<String> env, String cwd, Capabilities capabilities, JsonNode rlimits, Boolean noNewPrivileges,
      String apparmorProfile, Integer oomScoreAdj, JsonNode scheduler, String selinuxLabel, JsonNode ioPriority,
      JsonNode execCPUAffinity) {}

  public record User(Long uid, Long gid, Long umask, List<Long> additionalGids, String username) {}

  public record Capabilities(List<String> bounding, List<String> effective, List<String> inheritable,
      List<String> permitted, List<String> ambient) {}

  public record Root(String path, Boolean readonly) {}

  public record Mount(String destination, String type, String source, List<String> options, JsonNode uidMappings,
      JsonNode gidMappings) {
    static Mount of(String destination, String type, String source, List<String> options) {
      return new Mount(destination, type, source, options, null, null);
    }
  }

  public record Linux(List<IdMapping> uidMappings, List<IdMapping> gidMappings, JsonNode sysctl,
      Resources resources, String cgroupsPath, List<Namespace> namespaces, List<Device> devices, JsonNode seccomp,
      String rootfsPropagation, List<String> maskedPaths, List<String> readonlyPaths, String mountLabel,
      JsonNode intelRdt, JsonNode personality, JsonNode timeOffsets, JsonNode netDevices, JsonNode memoryPolicy) {}

  public record IdMapping(long containerID, long hostID, long size) {}

  public record Namespace(String type, String path) {}

  public record Device(String path, String type, Long major, Long minor, Long fileMode, Long uid, Long gid) {}

  public record Resources(List<DeviceRule> devices, Memory memory, Cpu cpu, Pids pids, JsonNode blockIO,
      JsonNode hugepageLimits, JsonNode network, JsonNode rdma, JsonNode unified) {}

  public record DeviceRule(Boolean allow, String type, Long major, Long minor, String access) {}

  public record Memory(Long limit, Long reservation, Long swap, Long kernel, Long kernelTCP, Long swappiness,
      Boolean disableOOMKiller, Boolean useHierarchy, Boolean checkBeforeUpdate) {}

  public record Cpu(Long shares, Long quota, Long burst, Long period, Long realtimeRuntime, Long realtimePeriod,
      String cpus, String mems, Long idle) {}

  public record Pids(Long limit) {}

  // ---------------------------------------------------------------------------------------------------------------
  // labenv -> OCI

  /**
   * The config for a labenv container: its process, root and volumes, the standard mounts, namespaces and
   * confinement Init gives it, and {@code limits} as linux.resources (omitted when there are none).
   *
   * @param userNamespace the ids mapped to root in a new user namespace, or null for none (root)
   */
  public static OciConfig of(ContainerSpec spec, Limits limits, UserNamespace userNamespace) {
    ContainerSpec.Process p = spec.process();
    List<String> caps = spec.security().capabilities().stream().map(labenv.container.Capabilities::name).toList();
    // In a user namespace of one mapped id there are no groups to set: Init's setgroups is refused and it goes on
    // without them, and runc refuses any.
    List<Long> gids = userNamespace != null ? List.of()
        : p.user().additionalGids().stream().map(Integer::longValue).toList();
    Process process = new Process(false, null,
        new User((long) p.user().uid(), (long) p.user().gid(), null, gids.isEmpty() ? null : gids, null),
        p.args(), null, p.env(), p.cwd(), new Capabilities(caps, caps, null, caps, null), null,
        spec.security().noNewPrivileges(), null, null, null, null, null, null);

    List<Mount> mounts = new ArrayList<>(STANDARD_MOUNTS);
    for (ContainerSpec.Mount m : spec.mounts()) {
      if (m.type().equals("tmpfs")) {
        // Init mounts every tmpfs nosuid and nodev.
        List<String> options = new ArrayList<>(List.of("nosuid", "nodev"));
        options.addAll(m.options());
        mounts.add(Mount.of(m.destination(), "tmpfs", "tmpfs", options));
      } else {
        mounts.add(Mount.of(m.destination(), "bind", m.source(), List.of("rbind", m.isReadOnly() ? "ro" : "rw")));
      }
    }

    List<Namespace> namespaces = new ArrayList<>();
    for (String type : List.of("pid", "network", "ipc", "uts", "mount", "cgroup", "user")) {
      boolean wanted = switch (type) {
        case "network" -> spec.network() == ContainerSpec.Network.NONE;
        case "user" -> userNamespace != null;
        default -> true;
      };
      if (wanted) {
        namespaces.add(new Namespace(type, null));
      }
    }
    List<IdMapping> uids = userNamespace == null ? null : List.of(new IdMapping(0, userNamespace.hostUid(), 1));
    List<IdMapping> gidMap = userNamespace == null ? null : List.of(new IdMapping(0, userNamespace.hostGid(), 1));
    JsonNode seccomp = spec.security().seccomp() ? defaultSeccomp() : null;
    Linux linux = new Linux(uids, gidMap, null, resources(limits), null, namespaces, null, seccomp, null,
        Confinement.MASKED_PATHS, Confinement.READONLY_PATHS, null, null, null, null, null, null);
    return new OciConfig(VERSION, process, new Root(spec.root().path(), spec.root().readonly()), spec.hostname(),
        null, mounts, null, null, linux, null, null, null, null);
  }

  /** {@code config.json}'s bytes: indented, as runtimes and people read it. */
  public byte[] toJson() {
    return (Json.pretty(this) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static Resources resources(Limits limits) {
    if (!limits.any()) {
      return null;
    }
    // swap is memory plus swap in the spec: equal to the limit means no swap, as labenv's cgroups do.
    Memory memory = limits.memoryBytes() > 0
        ? new Memory(limits.memoryBytes(), null, limits.memoryBytes(), null, null, null, null, null, null) : null;
    Cpu cpu = limits.cpuQuotaMicros() > 0
        ? new Cpu(null, limits.cpuQuotaMicros(), null, Limits.CPU_PERIOD_MICROS, null, null, null, null, null) : null;
    Pids pids = limits.pids() > 0 ? new Pids(limits.pids()) : null;
    return new Resources(null, memory, cpu, pids, null, null, null, null, null);
  }

  /** As parsed from JSON text, so that it compares equal to a config's (numbers as the parser types them). */
  private static JsonNode defaultSeccomp() {
    return Json.tree(Json.canonical(Seccomp.ociProfile("aarch64".equals(System.getProperty("os.arch")))), "seccomp");
  }

  /** What Init mounts itself, as crun's and runc's default specs spell them (devpts without gid=5: rootless). */
  private static final List<Mount> STANDARD_MOUNTS = List.of(
      Mount.of("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
      Mount.of("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
      Mount.of("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666",
          "mode=0620")),
      Mount.of("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
      Mount.of("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
      Mount.of("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));

  // ---------------------------------------------------------------------------------------------------------------
  // OCI -> labenv

  /**
   * A bundle's container as labenv's init runs it.
   *
   * @param dir the bundle directory (absolute)
   * @param namespaces the namespace types to create ({@code pid}, {@code network}, {@code mount}, ...)
   * @param userNamespace the mapping of a {@code user} namespace, or null without one
   */
  public record Bundle(Path dir, String ociVersion, ContainerSpec spec, Limits limits, Set<String> namespaces,
      UserNamespace userNamespace, Map<String, String> annotations) {
    public Bundle {
      namespaces = Set.copyOf(namespaces);
      annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** Reads and checks {@code dir/config.json}; the root path is relative to {@code dir}. */
    public static Bundle read(Path dir) {
      Path abs = dir.toAbsolutePath().normalize();
      Path file = abs.resolve("config.json");
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (java.nio.file.NoSuchFileException e) {
        throw LabenvException.badInput("bundle " + abs + ": no config.json in it");
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
      return Json.parse(bytes, OciConfig.class, file.toString()).toBundle(abs);
    }
  }

  /**
   * Checks that labenv can run this config exactly as written and translates it. Every field it cannot honour
   * is named, all of them in one line: {@code config.json: process.terminal: ...; linux.sysctl: ...}.
   *
   * @param dir the bundle directory, which relative root and bind-mount paths are resolved against
   */
  public Bundle toBundle(Path dir) {
    Check c = new Check();
    if (ociVersion == null || !ociVersion.startsWith("1.")) {
      c.fail("ociVersion", ociVersion == null ? "required" : "\"" + ociVersion + "\" is not a 1.x version");
    }
    c.absent("hooks", hooks, "labenv runs no hooks");
    c.absent("domainname", domainname, "labenv does not set a NIS domain name");
    c.absent("solaris", solaris, "not a Linux container");
    c.absent("windows", windows, "not a Linux container");
    c.absent("vm", vm, "labenv runs no virtual machines");
    c.absent("zos", zos, "not a Linux container");
    ContainerSpec.Process proc = process(c);
    Path rootPath = null;
    boolean readonly = false;
    if (root == null || root.path() == null || root.path().isEmpty()) {
      c.fail("root.path", "required");
    } else {
      rootPath = dir.resolve(root.path()).normalize();
      readonly = Boolean.TRUE.equals(root.readonly());
      if (!Files.isDirectory(rootPath)) {
        c.fail("root.path", rootPath + ": no such directory");
      }
    }
    List<ContainerSpec.Mount> volumes = mounts(c, dir);
    Linux l = linux != null ? linux : new Linux(null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null);
    Set<String> ns = namespaces(c, l);
    UserNamespace userNs = userNamespace(c, l, ns.contains("user"));
    devices(c, l);
    Limits limits = limits(c, l.resources());
    boolean seccomp = false;
    if (present(l.seccomp())) {
      if (l.seccomp().equals(defaultSeccomp())) {
        seccomp = true;
      } else {
        c.fail("linux.seccomp", "labenv applies only its own default filter (as `labenv run --runtime crun` writes"
            + " it) or none");
      }
    }
    c.absent("linux.sysctl", l.sysctl(), "labenv sets no sysctls");
    c.absent("linux.cgroupsPath", l.cgroupsPath(), "labenv places cgroups itself (labenv/<id>)");
    c.absent("linux.mountLabel", l.mountLabel(), "labenv applies no SELinux labels");
    c.absent("linux.intelRdt", l.intelRdt(), "not supported by labenv");
    c.absent("linux.personality", l.personality(), "not supported by labenv");
    c.absent("linux.timeOffsets", l.timeOffsets(), "not supported by labenv");
    c.absent("linux.netDevices", l.netDevices(), "labenv moves no network devices");
    c.absent("linux.memoryPolicy", l.memoryPolicy(), "not supported by labenv");
    if (l.rootfsPropagation() != null && !List.of("", "private", "rprivate").contains(l.rootfsPropagation())) {
      c.fail("linux.rootfsPropagation", "\"" + l.rootfsPropagation() + "\": labenv's mounts are always private");
    }
    java.util.SortedSet<Integer> caps = process == null ? labenv.container.Capabilities.DOCKER_DEFAULT
        : capabilities(c, process.capabilities());
    subset(c, "linux.maskedPaths", l.maskedPaths(), Confinement.MASKED_PATHS);
    subset(c, "linux.readonlyPaths", l.readonlyPaths(), Confinement.READONLY_PATHS);
    c.throwIfAny(dir.resolve("config.json").toString());

    ContainerSpec.Network network = ns.contains("network") ? ContainerSpec.Network.NONE : ContainerSpec.Network.HOST;
    String host = hostname != null ? hostname : currentHostname();
    ContainerSpec spec = new ContainerSpec(proc, new ContainerSpec.Root(rootPath.toString(), readonly), host, volumes,
        network, new ContainerSpec.Security(seccomp, Boolean.TRUE.equals(process.noNewPrivileges()), caps));
    return new Bundle(dir, ociVersion, spec, limits, ns, userNs, annotations);
  }

  private ContainerSpec.Process process(Check c) {
    if (process == null) {
      c.fail("process", "required");
      return null;
    }
    Process p = process;
    if (Boolean.TRUE.equals(p.terminal())) {
      c.fail("process.terminal", "true needs a console socket (--console-socket), which labenv runtime does not offer");
    }
    c.absent("process.commandLine", p.commandLine(), "Windows only");
    c.absent("process.rlimits", p.rlimits(), "labenv sets no rlimits");
    c.absent("process.apparmorProfile", p.apparmorProfile(), "labenv applies no AppArmor profile");
    c.absent("process.selinuxLabel", p.selinuxLabel(), "labenv applies no SELinux label");
    c.absent("process.oomScoreAdj", p.oomScoreAdj(), "labenv does not set oom_score_adj");
    c.absent("process.scheduler", p.scheduler(), "labenv does not set a scheduling policy");
    c.absent("process.ioPriority", p.ioPriority(), "labenv does not set an I/O priority");
    c.absent("process.execCPUAffinity", p.execCPUAffinity(), "labenv does not set a CPU affinity");
    if (p.args() == null || p.args().isEmpty()) {
      c.fail("process.args", "required (the command to run)");
    }
    if (p.cwd() == null || !p.cwd().startsWith("/")) {
      c.fail("process.cwd", p.cwd() == null ? "required" : "\"" + p.cwd() + "\" is not an absolute path");
    }
    User u = p.user() != null ? p.user() : new User(0L, 0L, null, null, null);
    c.absent("process.user.umask", u.umask(), "labenv does not set a umask");
    c.absent("process.user.username", u.username(), "Windows only");
    List<Integer> gids = new ArrayList<>();
    if (u.additionalGids() != null) {
      u.additionalGids().forEach(g -> gids.add(id(c, "process.user.additionalGids", g)));
    }
    if (p.args() == null || p.args().isEmpty() || p.cwd() == null) {
      return null;
    }
    return new ContainerSpec.Process(p.args(), p.env() == null ? List.of() : p.env(), p.cwd(),
        new ContainerSpec.User(id(c, "process.user.uid", u.uid()), id(c, "process.user.gid", u.gid()), gids));
  }

  private static int id(Check c, String field, Long id) {
    if (id == null) {
      return 0;
    }
    if (id < 0 || id > 0xFFFF_FFFEL) {
      c.fail(field, id + " is not a valid id");
      return 0;
    }
    return (int) (long) id;
  }

  /**
   * labenv keeps one set of capabilities: bounding, effective and permitted must name the same ones (runc's and
   * crun's defaults do), none inheritable or ambient.
   */
  private static java.util.SortedSet<Integer> capabilities(Check c, Capabilities caps) {
    if (caps == null) {
      c.fail("process.capabilities", "required: labenv needs the bounding, effective and permitted sets");
      return labenv.container.Capabilities.DOCKER_DEFAULT;
    }
    Set<String> bounding = caps.bounding() == null ? Set.of() : new TreeSet<>(caps.bounding());
    Set<Integer> numbers = new TreeSet<>();
    for (String name : bounding) {
      int n = labenv.container.Capabilities.number(name);
      if (n < 0 || !name.startsWith("CAP_")) {
        c.fail("process.capabilities.bounding", "\"" + name + "\" is not a capability");
      } else {
        numbers.add(n);
      }
    }
    List<String> differ = new ArrayList<>();
    if (!bounding.equals(caps.effective() == null ? Set.of() : new TreeSet<>(caps.effective()))) {
      differ.add("effective");
    }
    if (!bounding.equals(caps.permitted() == null ? Set.of() : new TreeSet<>(caps.permitted()))) {
      differ.add("permitted");
    }
    if (!differ.isEmpty()) {
      c.fail("process.capabilities." + String.join("/", differ), "labenv keeps one set: it must equal bounding");
    }
    c.absent("process.capabilities.inheritable", caps.inheritable(), "labenv keeps none inheritable");
    c.absent("process.capabilities.ambient", caps.ambient(), "labenv keeps none ambient");
    return labenv.container.Capabilities.of(numbers);
  }

  /** Destinations Init mounts itself, and the types a config may give them. */
  private static final Map<String, Set<String>> STANDARD = Map.of(
      "/proc", Set.of("proc"),
      "/dev", Set.of("tmpfs"),
      "/dev/pts", Set.of("devpts"),
      "/dev/shm", Set.of("tmpfs"),
      "/dev/mqueue", Set.of("mqueue"),
      "/sys", Set.of("sysfs", "bind"),
      "/sys/fs/cgroup", Set.of("cgroup", "cgroup2"));

  private static final Set<String> BIND_OPTIONS = Set.of("bind", "rbind", "ro", "rw", "private", "rprivate");
  private static final Pattern TMPFS_OPTION = Pattern.compile("ro|rw|noexec|exec|nosuid|nodev"
      + "|size=[0-9]+[kmgKMG%]?|mode=[0-7]{3,4}|nr_inodes=[0-9]+[kmgKMG]?|uid=[0-9]+|gid=[0-9]+");

  private List<ContainerSpec.Mount> mounts(Check c, Path dir) {
    List<ContainerSpec.Mount> volumes = new ArrayList<>();
    if (mounts == null) {
      return volumes;
    }
    for (int i = 0; i < mounts.size(); i++) {
      Mount m = mounts.get(i);
      String at = "mounts[" + i + "]";
      if (m == null || m.destination() == null || !m.destination().startsWith("/")) {
        c.fail(at + ".destination", "must be an absolute path");
        continue;
      }
      c.absent(at + ".uidMappings", m.uidMappings(), "labenv makes no id-mapped mounts");
      c.absent(at + ".gidMappings", m.gidMappings(), "labenv makes no id-mapped mounts");
      String dest = Path.of(m.destination()).normalize().toString();
      List<String> options = m.options() == null ? List.of() : m.options();
      boolean bind = "bind".equals(m.type()) || ((m.type() == null || m.type().equals("none"))
          && (options.contains("bind") || options.contains("rbind")));
      Set<String> standard = STANDARD.get(dest);
      if (standard != null) {
        if (!standard.contains(bind ? "bind" : String.valueOf(m.type()))) {
          c.fail(at + ".type", dest + " is mounted by labenv itself as " + String.join(" or ", new TreeSet<>(standard))
              + ", not " + m.type());
        }
        continue;
      }
      if (bind) {
        for (String o : options) {
          if (!BIND_OPTIONS.contains(o)) {
            c.fail(at + ".options", "\"" + o + "\" on the bind mount at " + dest
                + ": labenv binds recursively, read-only or read-write, and nothing else");
          }
        }
        if (m.source() == null || m.source().isEmpty()) {
          c.fail(at + ".source", "required for a bind mount");
          continue;
        }
        Path source = dir.resolve(m.source()).normalize();
        if (!Files.exists(source)) {
          c.fail(at + ".source", source + ": no such file or directory");
          continue;
        }
        volumes.add(ContainerSpec.Mount.bind(source.toString(), dest, options.contains("ro")));
      } else if ("tmpfs".equals(m.type())) {
        List<String> kept = new ArrayList<>();
        for (String o : options) {
          if (!TMPFS_OPTION.matcher(o).matches()) {
            c.fail(at + ".options", "\"" + o + "\" on the tmpfs at " + dest + " is not supported by labenv");
          } else if (!o.equals("nosuid") && !o.equals("nodev")) {
            // Init mounts every tmpfs nosuid and nodev anyway.
            kept.add(o);
          }
        }
        volumes.add(ContainerSpec.Mount.tmpfs(dest, kept));
      } else {
        c.fail(at + ".type", "\"" + m.type() + "\" at " + dest + ": labenv mounts only bind and tmpfs volumes");
      }
    }
    return volumes;
  }

  private static final Set<String> NAMESPACE_TYPES = Set.of("pid", "network", "mount", "ipc", "uts", "user",
      "cgroup", "time");

  private static Set<String> namespaces(Check c, Linux l) {
    Set<String> types = new LinkedHashSet<>();
    List<Namespace> list = l.namespaces() == null ? List.of() : l.namespaces();
    for (int i = 0; i < list.size(); i++) {
      Namespace n = list.get(i);
      String at = "linux.namespaces[" + i + "]";
      if (n == null || !NAMESPACE_TYPES.contains(n.type())) {
        c.fail(at + ".type", (n == null ? "null" : "\"" + n.type() + "\"") + " is not a Linux namespace type");
        continue;
      }
      if (n.path() != null && !n.path().isEmpty()) {
        c.fail(at + ".path", "labenv creates namespaces and cannot join " + n.path());
      }
      if (!types.add(n.type())) {
        c.fail(at + ".type", n.type() + " is listed twice");
      }
    }
    if (!types.contains("mount")) {
      c.fail("linux.namespaces", "a mount namespace is required: labenv's init builds the container's mounts in it");
    }
    if (!types.contains("uts")) {
      c.fail("linux.namespaces", "a uts namespace is required: labenv's init sets the hostname in it");
    }
    return types;
  }

  private static UserNamespace userNamespace(Check c, Linux l, boolean wanted) {
    if (!wanted) {
      c.absent("linux.uidMappings", l.uidMappings(), "mappings need a user namespace");
      c.absent("linux.gidMappings", l.gidMappings(), "mappings need a user namespace");
      return null;
    }
    if (l.uidMappings() == null && l.gidMappings() == null) {
      // crun's rootless default: the caller is root inside.
      return new UserNamespace(labenv.linux.Libc.geteuid(), labenv.linux.Libc.getegid());
    }
    Long uid = single(c, "linux.uidMappings", l.uidMappings());
    Long gid = single(c, "linux.gidMappings", l.gidMappings());
    return uid == null || gid == null ? null : new UserNamespace(uid, gid);
  }

  private static Long single(Check c, String field, List<IdMapping> mappings) {
    if (mappings == null || mappings.size() != 1 || mappings.get(0).containerID() != 0
        || mappings.get(0).size() != 1) {
      c.fail(field, "labenv maps exactly one host id to 0 (a single mapping with containerID 0, size 1)");
      return null;
    }
    return mappings.get(0).hostID();
  }

  /** Init's /dev: these nodes, bound from the host. */
  private static final Map<String, String> DEVICES = Map.of("/dev/null", "c 1:3", "/dev/zero", "c 1:5",
      "/dev/full", "c 1:7", "/dev/random", "c 1:8", "/dev/urandom", "c 1:9", "/dev/tty", "c 5:0");

  private static void devices(Check c, Linux l) {
    List<Device> list = l.devices() == null ? List.of() : l.devices();
    for (int i = 0; i < list.size(); i++) {
      Device d = list.get(i);
      String node = d == null ? "null" : d.type() + " " + d.major() + ":" + d.minor();
      if (d == null || !node.equals(DEVICES.get(d.path()))) {
        c.fail("linux.devices[" + i + "]", (d == null ? "null" : d.path() + " (" + node + ")")
            + ": labenv's /dev has only null, zero, full, random, urandom and tty");
      }
    }
  }

  private static Limits limits(Check c, Resources r) {
    if (r == null) {
      return Limits.NONE;
    }
    // Device rules are accepted without a device cgroup, as `labenv run` has none: /dev holds only Init's
    // harmless nodes (see devices) and an allowance of another node has no node to act on. A denial is not
    // enforced against a node the container makes itself (root keeps CAP_MKNOD, as in Docker's set).
    c.absent("linux.resources.blockIO", r.blockIO(), "labenv sets no block I/O limits");
    c.absent("linux.resources.hugepageLimits", r.hugepageLimits(), "labenv sets no hugepage limits");
    c.absent("linux.resources.network", r.network(), "labenv sets no network classes");
    c.absent("linux.resources.rdma", r.rdma(), "labenv sets no RDMA limits");
    c.absent("linux.resources.unified", r.unified(), "labenv writes no raw cgroup v2 files");
    Limits limits = Limits.NONE;
    Memory m = r.memory();
    if (m != null) {
      if (m.limit() != null && m.limit() > 0) {
        limits = limits.withMemory(m.limit());
        if (m.swap() != null && !m.swap().equals(m.limit())) {
          c.fail("linux.resources.memory.swap", "labenv allows no swap beyond the limit: swap must equal limit");
        }
      } else {
        c.absent("linux.resources.memory.swap", m.swap(), "labenv sets swap only as equal to a memory limit");
      }
      c.absent("linux.resources.memory.reservation", m.reservation(), "labenv sets no soft limit");
      c.absent("linux.resources.memory.kernel", m.kernel(), "labenv sets no kernel memory limit");
      c.absent("linux.resources.memory.kernelTCP", m.kernelTCP(), "labenv sets no kernel TCP memory limit");
      c.absent("linux.resources.memory.swappiness", m.swappiness(), "labenv does not set swappiness");
      if (Boolean.TRUE.equals(m.disableOOMKiller())) {
        c.fail("linux.resources.memory.disableOOMKiller", "labenv keeps the OOM killer");
      }
      c.absent("linux.resources.memory.useHierarchy", m.useHierarchy(), "not set by labenv");
      c.absent("linux.resources.memory.checkBeforeUpdate", m.checkBeforeUpdate(), "labenv does not update limits");
    }
    Cpu cpu = r.cpu();
    if (cpu != null) {
      if (cpu.quota() != null && cpu.quota() > 0) {
        long period = cpu.period() != null && cpu.period() > 0 ? cpu.period() : Limits.CPU_PERIOD_MICROS;
        // labenv's period is fixed: the same share of CPU time per its period.
        long quota = Math.round((double) cpu.quota() * Limits.CPU_PERIOD_MICROS / period);
        if (quota < 1000) {
          c.fail("linux.resources.cpu.quota", "below 1% of a CPU, labenv's minimum");
        }
        limits = limits.withCpuQuota(quota);
      }
      c.absent("linux.resources.cpu.shares", cpu.shares(), "labenv sets no CPU weight");
      c.absent("linux.resources.cpu.burst", cpu.burst(), "labenv sets no CPU burst");
      c.absent("linux.resources.cpu.realtimeRuntime", cpu.realtimeRuntime(), "labenv sets no realtime budget");
      c.absent("linux.resources.cpu.realtimePeriod", cpu.realtimePeriod(), "labenv sets no realtime budget");
      c.absent("linux.resources.cpu.cpus", cpu.cpus(), "labenv sets no cpuset");
      c.absent("linux.resources.cpu.mems", cpu.mems(), "labenv sets no cpuset");
      c.absent("linux.resources.cpu.idle", cpu.idle(), "labenv does not set SCHED_IDLE");
    }
    if (r.pids() != null && r.pids().limit() != null && r.pids().limit() > 0) {
      limits = limits.withPids(r.pids().limit());
    }
    return limits;
  }

  private static void subset(Check c, String field, List<String> given, List<String> ours) {
    if (given == null) {
      return;
    }
    List<String> extra = given.stream().filter(p -> !ours.contains(p)).toList();
    if (!extra.isEmpty()) {
      c.fail(field, "labenv applies its own fixed list " + ours + ", not in it: " + extra);
    }
  }

  private static String currentHostname() {
    // What a new uts namespace starts with: runc leaves it so when the config names none.
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException e) {
      throw LabenvException.failed("cannot read /proc/sys/kernel/hostname: " + e.getMessage(), e);
    }
  }

  static boolean present(Object value) {
    if (value == null) {
      return false;
    }
    if (value instanceof JsonNode n) {
      return !n.isNull() && !(n.isContainerNode() && n.isEmpty());
    }
    if (value instanceof String s) {
      return !s.isEmpty();
    }
    if (value instanceof java.util.Collection<?> col) {
      return !col.isEmpty();
    }
    return true;
  }

  /** The problems found so far, each a field path and what labenv can't do about it. */
  private static final class Check {
    private final List<String> problems = new ArrayList<>();

    void fail(String field, String why) {
      problems.add(field + ": " + why);
    }

    void absent(String field, Object value, String why) {
      if (present(value)) {
        fail(field, why);
      }
    }

    void throwIfAny(String what) {
      if (!problems.isEmpty()) {
        throw LabenvException.badInput(what + ": " + String.join("; ", problems));
      }
    }
  }
}
