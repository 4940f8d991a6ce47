package labenv.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import labenv.LabenvException;
import labenv.container.ContainerSpec;
import labenv.container.Limits;
import labenv.image.Json;
import labenv.linux.Confinement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json both ways: labenv's spec survives the trip, and whatever labenv can't honour is refused by name. */
class OciConfigTest {
  @TempDir Path bundle;
  Path rootfs;
  Path data;

  @BeforeEach
  void dirs() throws Exception {
    rootfs = Files.createDirectories(bundle.resolve("rootfs"));
    data = Files.createDirectories(bundle.resolve("data"));
    Files.writeString(bundle.resolve("file"), "x");
  }

  ContainerSpec spec(ContainerSpec.Network network, ContainerSpec.Security security, List<Integer> gids) {
    return new ContainerSpec(
        new ContainerSpec.Process(List.of("sh", "-c", "echo hi"), List.of("PATH=/bin", "A=b=c"), "/work",
            new ContainerSpec.User(1000, 50, gids)),
        new ContainerSpec.Root(rootfs.toString(), true), "box",
        List.of(ContainerSpec.Mount.bind(data.toString(), "/data", true),
            ContainerSpec.Mount.bind(bundle.resolve("file").toString(), "/etc/f", false),
            ContainerSpec.Mount.tmpfs("/tmp", List.of("size=65536k", "mode=1777", "noexec")),
            ContainerSpec.Mount.tmpfs("/scratch", List.of())),
        network, security);
  }

  /** Through the JSON text, as a runtime would read it. */
  OciConfig.Bundle roundTrip(OciConfig config) throws Exception {
    Files.write(bundle.resolve("config.json"), config.toJson());
    return OciConfig.Bundle.read(bundle);
  }

  @Test
  void aSpecSurvivesTheTripThroughConfigJson() throws Exception {
    Limits limits = new Limits(64L << 20, 50_000, 100);
    for (ContainerSpec.Network network : ContainerSpec.Network.values()) {
      for (ContainerSpec.Security security : List.of(ContainerSpec.Security.DEFAULT,
          new ContainerSpec.Security(false, false), new ContainerSpec.Security(true, false))) {
        ContainerSpec spec = spec(network, security, List.of(50, 1000));
        OciConfig.Bundle b = roundTrip(OciConfig.of(spec, limits, null));
        assertEquals(spec, b.spec(), network + " " + security);
        assertEquals(limits, b.limits());
        assertNull(b.userNamespace());
        Set<String> expected = new TreeSet<>(Set.of("pid", "ipc", "uts", "mount", "cgroup"));
        if (network == ContainerSpec.Network.NONE) {
          expected.add("network");
        }
        assertEquals(expected, new TreeSet<>(b.namespaces()));
      }
    }
  }

  @Test
  void aUserNamespaceMapsTheCallerToRootAndDropsGroupsItCannotSet() throws Exception {
    ContainerSpec spec = spec(ContainerSpec.Network.NONE, ContainerSpec.Security.DEFAULT, List.of());
    OciConfig config = OciConfig.of(spec, Limits.NONE, new UserNamespace(1234, 567));
    assertEquals(List.of(new OciConfig.IdMapping(0, 1234, 1)), config.linux().uidMappings());
    assertEquals(List.of(new OciConfig.IdMapping(0, 567, 1)), config.linux().gidMappings());
    OciConfig.Bundle b = roundTrip(config);
    assertEquals(spec, b.spec());
    assertEquals(new UserNamespace(1234, 567), b.userNamespace());
    assertTrue(b.namespaces().contains("user"));

    // Init cannot set groups in a one-id namespace, and runc refuses to try: the config lists none.
    OciConfig withGroups = OciConfig.of(spec(ContainerSpec.Network.NONE, ContainerSpec.Security.DEFAULT,
        List.of(50)), Limits.NONE, new UserNamespace(1234, 567));
    assertNull(withGroups.process().user().additionalGids());
  }

  @Test
  void theConfigDescribesInitsContainer() {
    OciConfig c = OciConfig.of(spec(ContainerSpec.Network.HOST, ContainerSpec.Security.DEFAULT, List.of()),
        Limits.NONE, null);
    assertEquals(OciConfig.VERSION, c.ociVersion());
    assertEquals(Boolean.FALSE, c.process().terminal());
    assertEquals(labenv.container.Capabilities.DOCKER_DEFAULT.stream().map(labenv.container.Capabilities::name).toList(), c.process().capabilities().bounding());
    assertTrue(c.process().capabilities().bounding().containsAll(List.of("CAP_CHOWN", "CAP_KILL", "CAP_SETFCAP")));
    assertEquals(Boolean.TRUE, c.process().noNewPrivileges());
    assertEquals(List.of("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/data", "/etc/f", "/tmp",
        "/scratch"), c.mounts().stream().map(OciConfig.Mount::destination).toList());
    assertEquals(List.of("nosuid", "nodev", "size=65536k", "mode=1777", "noexec"), c.mounts().get(8).options());
    assertEquals(List.of("rbind", "ro"), c.mounts().get(6).options());
    assertEquals(List.of("pid", "ipc", "uts", "mount", "cgroup"),
        c.linux().namespaces().stream().map(OciConfig.Namespace::type).toList());
    assertEquals(Confinement.MASKED_PATHS, c.linux().maskedPaths());
    assertTrue(c.linux().maskedPaths().contains("/proc/kcore"));
    assertEquals(Confinement.READONLY_PATHS, c.linux().readonlyPaths());
    assertNull(c.linux().resources(), "no limits, no resources (crun then needs no cgroup)");
    assertNull(c.linux().cgroupsPath());
    var syscalls = c.linux().seccomp().get("syscalls");
    assertEquals("SCMP_ACT_ALLOW", c.linux().seccomp().get("defaultAction").asText());
    List<String> denied = new ArrayList<>();
    syscalls.get(0).get("names").forEach(n -> denied.add(n.asText()));
    assertTrue(denied.containsAll(List.of("mount", "umount2", "keyctl", "add_key", "bpf", "perf_event_open",
        "kexec_load", "ptrace", "fsopen")), denied::toString);
    assertEquals("clone3", syscalls.get(1).get("names").get(0).asText());
    assertEquals(38, syscalls.get(1).get("errnoRet").asInt());
    assertEquals("SCMP_CMP_MASKED_EQ", syscalls.get(2).get("args").get(0).get("op").asText());

    OciConfig limited = OciConfig.of(spec(ContainerSpec.Network.HOST, ContainerSpec.Security.DEFAULT, List.of()),
        new Limits(64L << 20, 50_000, 100), null);
    assertEquals(64L << 20, limited.linux().resources().memory().limit());
    assertEquals(64L << 20, limited.linux().resources().memory().swap(), "no swap beyond the limit");
    assertEquals(50_000L, limited.linux().resources().cpu().quota());
    assertEquals(100_000L, limited.linux().resources().cpu().period());
    assertEquals(100L, limited.linux().resources().pids().limit());
  }

  /** A runc-style config: what a conformance suite or a hand-written bundle gives. */
  ObjectNode minimal() {
    return (ObjectNode) Json.tree(("""
        {"ociVersion": "1.0.2",
         "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
           "capabilities": {"bounding": %1$s, "effective": %1$s, "permitted": %1$s}},
         "root": {"path": "rootfs"},
         "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"},
                    {"destination": "/mnt", "type": "none", "source": "data", "options": ["bind", "ro"]}],
         "annotations": {"org.example": "yes"},
         "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}],
                   "resources": {"devices": [{"allow": false, "access": "rwm"}],
                                 "cpu": {"quota": 25000, "period": 50000}, "pids": {"limit": 32}}}}
        """).formatted(Json.pretty(labenv.container.Capabilities.DOCKER_DEFAULT.stream().map(labenv.container.Capabilities::name).toList())).getBytes(), "test");
  }

  OciConfig.Bundle read(ObjectNode config) throws Exception {
    Files.writeString(bundle.resolve("config.json"), Json.pretty(config));
    return OciConfig.Bundle.read(bundle);
  }

  @Test
  void aHandWrittenConfigIsReadRelativeToTheBundle() throws Exception {
    OciConfig.Bundle b = read(minimal());
    assertEquals(rootfs.toString(), b.spec().root().path());
    assertEquals(List.of(ContainerSpec.Mount.bind(data.toString(), "/mnt", true)), b.spec().mounts());
    assertEquals(ContainerSpec.Network.HOST, b.spec().network(), "no network namespace: the host's");
    assertEquals(Files.readString(Path.of("/proc/sys/kernel/hostname")).strip(), b.spec().hostname(),
        "no hostname: the one a new uts namespace starts with");
    assertEquals(new ContainerSpec.Security(false, false), b.spec().security());
    assertEquals(new Limits(0, 50_000, 32), b.limits(), "the same share of a CPU per labenv's 100ms period");
    assertEquals(Set.of("pid", "mount", "uts", "ipc"), b.namespaces());
    assertEquals(java.util.Map.of("org.example", "yes"), b.annotations());
  }

  String problem(Consumer<ObjectNode> edit) {
    ObjectNode config = minimal();
    edit.accept(config);
    LabenvException e = assertThrows(LabenvException.class, () -> read(config));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e::getMessage);
    assertEquals(1, e.getMessage().lines().count(), e::getMessage);
    assertTrue(e.getMessage().startsWith(bundle.resolve("config.json") + ": "), e::getMessage);
    return e.getMessage().substring(bundle.resolve("config.json").toString().length() + 2);
  }

  ObjectNode process(ObjectNode config) {
    return (ObjectNode) config.get("process");
  }

  ObjectNode linux(ObjectNode config) {
    return (ObjectNode) config.get("linux");
  }

  @Test
  void whatLabenvCannotHonourIsRefusedByFieldPath() {
    assertTrue(problem(c -> process(c).put("terminal", true)).startsWith("process.terminal: true needs a console"));
    assertTrue(problem(c -> process(c).putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE"))
        .startsWith("process.rlimits: "));
    assertTrue(problem(c -> c.putObject("hooks").putArray("prestart").addObject().put("path", "/bin/true"))
        .startsWith("hooks: "));
    assertTrue(problem(c -> process(c).put("apparmorProfile", "docker-default")).startsWith("process.apparmorProfile"));
    assertTrue(problem(c -> process(c).put("selinuxLabel", "system_u:system_r:container_t:s0"))
        .startsWith("process.selinuxLabel"));
    assertTrue(problem(c -> ((ArrayNode) c.get("mounts")).addObject().put("destination", "/nfs").put("type", "nfs")
        .put("source", "server:/x")).startsWith("mounts[3].type: \"nfs\" at /nfs"));
    assertTrue(problem(c -> ((ArrayNode) c.get("mounts")).addObject().put("destination", "/d").put("type", "bind")
        .put("source", "data").putArray("options").add("rbind").add("nosuid"))
        .startsWith("mounts[3].options: \"nosuid\" on the bind mount at /d"));
    assertTrue(problem(c -> ((ArrayNode) c.get("mounts")).addObject().put("destination", "/proc").put("type", "tmpfs"))
        .startsWith("mounts[3].type: /proc is mounted by labenv itself as proc"));
    assertTrue(problem(c -> ((ArrayNode) linux(c).get("namespaces")).addObject().put("type", "network")
        .put("path", "/var/run/netns/x")).startsWith("linux.namespaces[4].path: "));
    assertTrue(problem(c -> ((ArrayNode) linux(c).get("namespaces")).remove(1))
        .startsWith("linux.namespaces: a mount namespace is required"));
    assertTrue(problem(c -> linux(c).putArray("devices").addObject().put("path", "/dev/sda").put("type", "b")
        .put("major", 8).put("minor", 0)).startsWith("linux.devices[0]: /dev/sda (b 8:0): labenv's /dev has only"));
    assertTrue(problem(c -> linux(c).putObject("seccomp").put("defaultAction", "SCMP_ACT_ERRNO"))
        .startsWith("linux.seccomp: labenv applies only its own default filter"));
    assertTrue(problem(c -> linux(c).putObject("sysctl").put("net.ipv4.ip_forward", "1")).startsWith("linux.sysctl"));
    assertTrue(problem(c -> linux(c).put("mountLabel", "x")).startsWith("linux.mountLabel"));
    assertTrue(problem(c -> linux(c).putArray("maskedPaths").add("/proc/kcore").add("/etc/shadow"))
        .contains("not in it: [/etc/shadow]"));
    assertTrue(problem(c -> ((ObjectNode) linux(c).get("resources")).putObject("memory").put("limit", 1 << 26)
        .put("swap", -1)).startsWith("linux.resources.memory.swap: "));
    assertTrue(problem(c -> ((ObjectNode) linux(c).get("resources")).putObject("blockIO").put("weight", 10))
        .startsWith("linux.resources.blockIO"));
    assertTrue(problem(c -> {
      ((ArrayNode) linux(c).get("namespaces")).addObject().put("type", "user");
      linux(c).putArray("uidMappings").addObject().put("containerID", 0).put("hostID", 100000).put("size", 65536);
    }).startsWith("linux.uidMappings: labenv maps exactly one host id to 0"));
    assertTrue(problem(c -> ((ArrayNode) process(c).with("capabilities").get("bounding")).add("CAP_SYS_ADMIN"))
        .startsWith("process.capabilities.effective/permitted: labenv keeps one set: it must equal bounding"));
    assertTrue(problem(c -> ((ArrayNode) process(c).with("capabilities").get("bounding")).add("CAP_NOPE"))
        .contains("process.capabilities.bounding: \"CAP_NOPE\" is not a capability"));
    assertTrue(problem(c -> process(c).remove("capabilities")).startsWith("process.capabilities: required"));
    assertTrue(problem(c -> ((ObjectNode) c.get("root")).put("path", "nosuch")).startsWith("root.path: "
        + bundle.resolve("nosuch") + ": no such directory"));
    assertTrue(problem(c -> c.put("ociVersion", "2.0.0")).startsWith("ociVersion: \"2.0.0\" is not a 1.x version"));
    assertTrue(problem(c -> process(c).put("cwd", "work")).startsWith("process.cwd: \"work\" is not an absolute"));
  }

  @Test
  void everyProblemIsNamedInTheOneLine() {
    String all = problem(c -> {
      process(c).put("terminal", true);
      linux(c).putObject("sysctl").put("kernel.shmmax", "1");
    });
    assertTrue(all.contains("process.terminal: ") && all.contains("; linux.sysctl: "), all);
  }

  @Test
  void malformedJsonNamesTheField() {
    String p = problem(c -> process(c).put("args", 5));
    assertTrue(p.startsWith("invalid JSON: process.args: "), p);
  }

  @Test
  void aUserNamespaceWithoutMappingsMapsTheCallerAsCrunDoes() throws Exception {
    ObjectNode c = minimal();
    ((ArrayNode) linux(c).get("namespaces")).addObject().put("type", "user");
    assertEquals(new UserNamespace(labenv.linux.Libc.geteuid(), labenv.linux.Libc.getegid()), read(c).userNamespace());
  }

  @Test
  void harmlessFieldsAreAccepted() throws Exception {
    ObjectNode c = minimal();
    c.put("somethingNew", "runtimes ignore unknown properties, as the spec requires");
    process(c).putObject("consoleSize").put("height", 24).put("width", 80);
    linux(c).put("rootfsPropagation", "rprivate");
    linux(c).putArray("maskedPaths").add("/proc/kcore");
    linux(c).putArray("devices").addObject().put("path", "/dev/null").put("type", "c").put("major", 1)
        .put("minor", 3);
    assertEquals("sh", read(c).spec().process().args().get(0));
  }

  /**
   * The cross-check: crun's and runc's own default configs through the converter. What it refuses is what labenv
   * cannot do the same way: a terminal, rlimits, and their smaller capability set (plus ambient ones).
   */
  @Test
  void crunAndRuncDefaultSpecsAreRefusedForExactlyWhatLabenvDoesDifferently() throws Exception {
    List<Path> runtimes = java.util.stream.Stream.of("/usr/bin/crun", "/usr/sbin/runc", "/usr/bin/runc")
        .map(Path::of).filter(Files::isExecutable).toList();
    assumeTrue(!runtimes.isEmpty(), "neither crun nor runc is installed (apt-get install crun runc)");
    for (Path runtime : runtimes) {
      for (boolean rootless : List.of(false, true)) {
        Files.deleteIfExists(bundle.resolve("config.json"));
        List<String> cmd = new ArrayList<>(List.of(runtime.toString(), "spec", "--bundle", bundle.toString()));
        if (rootless) {
          cmd.add("--rootless");
        }
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), cmd::toString);
        LabenvException e = assertThrows(LabenvException.class, () -> OciConfig.Bundle.read(bundle));
        List<String> fields = new ArrayList<>();
        for (String problem : e.getMessage().substring(e.getMessage().indexOf(": ") + 2).split("; ")) {
          fields.add(problem.substring(0, problem.indexOf(": ")));
        }
        assertEquals(List.of("process.terminal", "process.rlimits",
            "process.capabilities.ambient"), fields,
            () -> cmd + ": " + e.getMessage());
      }
    }
  }
}
