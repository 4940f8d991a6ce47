package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import labenv.image.ImageConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunOptionsTest {
  @TempDir Path rootfs;

  static ImageConfig image(List<String> entrypoint, List<String> cmd, List<String> env, String user) {
    return new ImageConfig(null, null, "amd64", "linux", null,
        new ImageConfig.Config(user, null, env, entrypoint, cmd, null, null, null, null, null, null, null, null),
        null, null);
  }

  static RunOptions options(String entrypoint, List<String> command) {
    return new RunOptions(entrypoint, command, List.of(), null, null, null, List.of(), ContainerSpec.Network.NONE, false);
  }

  List<String> args(ImageConfig image, RunOptions options) {
    return options.toSpec("0123456789abcdef", image, rootfs).process().args();
  }

  @Test
  void commandArgumentsReplaceCmdAndKeepTheEntrypoint() {
    ImageConfig img = image(List.of("/ep", "x"), List.of("default"), null, null);
    assertEquals(List.of("/ep", "x", "default"), args(img, options(null, List.of())));
    assertEquals(List.of("/ep", "x", "mine"), args(img, options(null, List.of("mine"))));
  }

  @Test
  void anEntrypointReplacesEntrypointAndClearsCmd() {
    ImageConfig img = image(List.of("/ep"), List.of("default"), null, null);
    assertEquals(List.of("/other"), args(img, options("/other", List.of())));
    assertEquals(List.of("/other", "a"), args(img, options("/other", List.of("a"))));
    assertEquals(List.of("a"), args(img, options("", List.of("a"))));
  }

  @Test
  void noCommandAtAllIsBadInput() {
    LabenvException e = assertThrows(LabenvException.class, () -> args(image(null, null, null, null),
        options(null, List.of())));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
  }

  @Test
  void environmentDefaultsAndOverrides() {
    ImageConfig img = image(null, List.of("sh"), List.of("A=image", "B=image"), null);
    RunOptions o = new RunOptions(null, List.of(), List.of("B=flag", "C=x=y"), null, null, "h", List.of(),
        ContainerSpec.Network.HOST, false);
    ContainerSpec spec = o.toSpec("id", img, rootfs);
    assertEquals(List.of("PATH=" + RunOptions.DEFAULT_PATH, "HOSTNAME=h", "A=image", "B=flag", "C=x=y", "HOME=/"),
        spec.process().env());
    assertEquals("h", spec.hostname());
    assertEquals("/", spec.process().cwd());
  }

  @Test
  void usersResolveFromTheImagesPasswdAndNumbersWithoutIt() throws Exception {
    assertEquals(new ContainerSpec.User(7, 8, List.of(8)), Users.resolve(rootfs, "7:8").user());
    assertEquals(new ContainerSpec.User(7, 0, List.of(0)), Users.resolve(rootfs, "7").user());
    Files.createDirectories(rootfs.resolve("etc"));
    Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\nbob:x:1001:1002::/home/bob:/bin/sh\n");
    Files.writeString(rootfs.resolve("etc/group"), "bob:x:1002:\nwheel:x:10:root,bob\n");
    Users.Identity bob = Users.resolve(rootfs, "bob");
    assertEquals(new ContainerSpec.User(1001, 1002, List.of(1002, 10)), bob.user());
    assertEquals("/home/bob", bob.home());
    assertEquals(new ContainerSpec.User(1001, 10, List.of(10)), Users.resolve(rootfs, "bob:wheel").user());
    assertThrows(LabenvException.class, () -> Users.resolve(rootfs, "carol"));
  }

  @Test
  void aPasswdSymlinkCannotReachTheHost() throws Exception {
    Files.createDirectories(rootfs.resolve("etc"));
    // Followed inside the root, /etc/passwd -> /etc/passwd is itself: ELOOP, never the host's file.
    Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("/../../../../etc/passwd"));
    assertThrows(LabenvException.class, () -> Users.resolve(rootfs, "root"));
  }

  @Test
  void volumesParseAndRefuseMalformedOnes() throws Exception {
    ContainerSpec.Mount m = RunOptions.volume(rootfs + ":/data:ro");
    assertEquals(ContainerSpec.Mount.bind(rootfs.toString(), "/data", true), m);
    assertTrue(m.isReadOnly());
    assertEquals(List.of("rbind", "rw"), RunOptions.volume(rootfs + ":/data").options());
    for (String bad : List.of("x", rootfs + ":", ":/d", "./rel:/d", "-bad:/d", "vol:rel", rootfs + ":rel", rootfs + ":/d:rx",
        rootfs.resolve("missing") + ":/d", rootfs + ":/d:ro:x")) {
      LabenvException e = assertThrows(LabenvException.class, () -> RunOptions.volume(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), bad);
    }
  }

  @Test
  void aSourceWithoutASlashIsANamedVolume() {
    assertEquals(Volumes.mount("cache.1", "/c", true), RunOptions.volume("cache.1:/c/:ro"));
    assertEquals(new ContainerSpec.Mount("/c", "volume", "cache", List.of("rbind", "rw")),
        RunOptions.volume("cache:/c"));
  }

  @Test
  void mountsParseDockersKeysAndRefuseMalformedOnes() {
    assertEquals(ContainerSpec.Mount.bind(rootfs.toString(), "/b", true),
        RunOptions.mount("type=bind,source=" + rootfs + ",target=/b,readonly"));
    assertEquals(ContainerSpec.Mount.bind(rootfs.toString(), "/b", false),
        RunOptions.mount("type=bind,src=" + rootfs + ",dst=/b,ro=false"));
    assertEquals(Volumes.mount("v", "/v", true), RunOptions.mount("type=volume,source=v,destination=/v,ro=true"));
    assertEquals(ContainerSpec.Mount.tmpfs("/t", List.of("size=4096", "mode=700")),
        RunOptions.mount("type=tmpfs,target=/t,tmpfs-size=4096,tmpfs-mode=700"));
    assertEquals(ContainerSpec.Mount.tmpfs("/t", List.of("ro")), RunOptions.mount("type=tmpfs,target=/t,readonly"));
    for (String bad : List.of("", "type=bind", "type=bind,target=/x", "type=bind,source=rel,target=/x",
        "type=tmpfs,source=x,target=/x", "type=tmpfs,target=/x,tmpfs-size=1m", "type=tmpfs,target=/x,tmpfs-mode=9",
        "type=volume,source=a/b,target=/x", "type=volume,target=/x,tmpfs-size=1", "type=nfs,target=/x",
        "type=tmpfs,target=/x,type=bind", "type=tmpfs,target=/x,readonly=maybe", "type=tmpfs,target=/x,x=1",
        "type=tmpfs,target=")) {
      LabenvException e = assertThrows(LabenvException.class, () -> RunOptions.mount(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), bad);
      assertTrue(e.getMessage().startsWith("--mount \"" + bad + "\": "), e.getMessage());
    }
  }

  @Test
  void tmpfsTakesMountOptions() {
    assertEquals(ContainerSpec.Mount.tmpfs("/t", List.of()), RunOptions.tmpfs("/t/"));
    assertEquals(ContainerSpec.Mount.tmpfs("/t", List.of("size=64m", "mode=755", "noexec")),
        RunOptions.tmpfs("/t:size=64m,mode=755,noexec"));
    for (String bad : List.of("t", "/t:suid", "/t:size=lots", "/t:", "/t:mode=9")) {
      LabenvException e = assertThrows(LabenvException.class, () -> RunOptions.tmpfs(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), bad);
    }
  }

  @Test
  void theBinaryFormRoundTrips() throws Exception {
    ContainerSpec spec = new ContainerSpec(
        new ContainerSpec.Process(List.of("sh", "-c", "é\n"), List.of("A=1"), "/w", new ContainerSpec.User(1, 2,
            List.of(3, 4))),
        new ContainerSpec.Root("/r", true), "host", List.of(ContainerSpec.Mount.bind("/s", "/d", true)),
        ContainerSpec.Network.HOST, new ContainerSpec.Security(false, true, java.util.Set.of(0, 21, 40)));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    spec.write(new DataOutputStream(bytes));
    assertEquals(spec, ContainerSpec.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))));
  }

  @Test
  void capabilitiesAreDockersDefaultTweakedByAddAndDrop() {
    assertEquals(Capabilities.DOCKER_DEFAULT, RunOptions.capabilities(List.of(), List.of()));
    assertEquals(0xa80425fbL, Capabilities.mask(Capabilities.DOCKER_DEFAULT), "as /proc/PID/status shows it");
    java.util.Set<Integer> tweaked = RunOptions.capabilities(List.of("net_admin", "CAP_SYS_PTRACE"),
        List.of("Chown", "cap_mknod"));
    assertTrue(tweaked.containsAll(List.of(12, 19)), tweaked::toString);
    assertTrue(!tweaked.contains(0) && !tweaked.contains(27), tweaked::toString);
    assertEquals(Capabilities.DOCKER_DEFAULT.size(), tweaked.size());
    assertEquals(java.util.Set.of(12), RunOptions.capabilities(List.of("NET_ADMIN"), List.of("ALL")));
    assertEquals(java.util.Set.of(), RunOptions.capabilities(List.of(), List.of("all")));
    java.util.Set<Integer> all = RunOptions.capabilities(List.of("ALL"), List.of("SYS_ADMIN"));
    assertEquals(40, all.size(), all::toString);
    assertTrue(all.contains(40) && !all.contains(21), all::toString);
    for (List<String> bad : List.of(List.of("NET_ADMINN"), List.of("CAP_"), List.of("12"))) {
      LabenvException e = assertThrows(LabenvException.class, () -> RunOptions.capabilities(bad, List.of()));
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
      assertTrue(e.getMessage().startsWith("--cap-add \"" + bad.get(0) + "\": unknown capability"), e.getMessage());
      assertEquals(1, e.getMessage().lines().count());
    }
    LabenvException e = assertThrows(LabenvException.class, () -> RunOptions.capabilities(List.of(), List.of("x")));
    assertTrue(e.getMessage().startsWith("--cap-drop \"x\""), e.getMessage());
  }
}
