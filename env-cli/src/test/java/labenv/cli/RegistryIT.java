package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import labenv.image.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * labenv pull/push/login against a real registry (Debian's docker-registry on 127.0.0.1), with skopeo and podman as
 * the peers that must read what labenv pushes and give it what they push.
 */
class RegistryIT {
  @TempDir Path dir;

  /** labenv with its own store and config under {@code dir} (nothing of the machine's user is read). */
  private RegistryFixture.Result labenv(String store, String... args) throws Exception {
    return labenvWith(Map.of(), store, args);
  }

  private RegistryFixture.Result labenvWith(Map<String, String> extraEnv, String store, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    cmd.addAll(List.of(args));
    Map<String, String> env = new HashMap<>();
    env.put("LABENV_HOME", dir.resolve(store).toString());
    env.put("HOME", dir.resolve("home").toString());
    env.put("XDG_CONFIG_HOME", dir.resolve("home/.config").toString());
    env.put("DOCKER_CONFIG", dir.resolve("home/.docker").toString());
    env.putAll(extraEnv);
    return RegistryFixture.tool(cmd, env, dir);
  }

  private void busyboxIn(String store) throws Exception {
    RegistryFixture.Result r = labenv(store, "bootstrap", "busybox");
    assertEquals(0, r.code(), r::toString);
  }

  @Test
  void pushPullRunAndPeersReadWhatLabenvPushed() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      busyboxIn("a");
      String ref = reg.host() + "/team/busybox:1";
      RegistryFixture.Result push = labenv("a", "push", "--format", "json", "busybox", ref);
      assertEquals(0, push.code(), push::toString);
      JsonNode p = Json.mapper().readTree(push.out());
      assertEquals(2, p.get("blobsPushed").asInt(), push.out());
      RegistryFixture.Result again = labenv("a", "push", "--format", "json", "busybox", ref);
      JsonNode q = Json.mapper().readTree(again.out());
      assertEquals(0, q.get("blobsPushed").asInt(), "blobs the registry has are not sent again");
      assertEquals(2, q.get("blobsSkipped").asInt());

      RegistryFixture.Result pull = labenv("b", "pull", ref);
      assertEquals(0, pull.code(), pull::toString);
      assertTrue(pull.out().contains(p.get("digest").asText()), pull.out());
      RegistryFixture.Result run = labenv("b", "run", "--rm", ref, "busybox", "echo", "pulled");
      assertEquals("pulled\n", run.out(), run::toString);
      assertEquals(0, labenv("b", "fsck").code());

      // skopeo reads the manifest labenv pushed, byte for byte the one labenv has
      RegistryFixture.Result inspect = RegistryFixture.tool(List.of("skopeo", "inspect", "--tls-verify=false",
          "docker://" + ref), Map.of(), dir);
      assertEquals(0, inspect.code(), inspect::toString);
      assertEquals(p.get("digest").asText(), Json.mapper().readTree(inspect.out()).get("Digest").asText());
      try (RegistryFixture.Podman podman = RegistryFixture.Podman.at(dir.resolve("podman"))) {
        podman.pull(ref);
        assertEquals("podman runs it\n", podman.run(ref, "busybox", "echo", "podman runs it").out());
      }
    }
  }

  @Test
  void labenvPullsWhatSkopeoPushedAndPicksThePlatformOfAnIndex() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      Files.createDirectories(dir.resolve("w1"));
      Files.createDirectories(dir.resolve("w2"));
      String single = reg.pushBusybox(dir.resolve("w1"), "peer/bb", "v1");
      RegistryFixture.Result pull = labenv("s", "pull", single);
      assertEquals(0, pull.code(), pull::toString);
      RegistryFixture.Result run = labenv("s", "run", "--rm", single, "cat", "/etc/platform");
      assertEquals(0, run.code(), run::toString);

      String multi = reg.pushBusyboxIndex(dir.resolve("w2"), "peer/multi", "v1", List.of("amd64", "arm64"));
      RegistryFixture.Result arm = labenv("s", "pull", "--platform", "linux/arm64", "--format", "json", multi);
      assertEquals(0, arm.code(), arm::toString);
      assertFalse(Json.mapper().readTree(arm.out()).get("index").isNull(), "pulled through the index");
      RegistryFixture.Result unpack = labenv("s", "unpack", multi, dir.resolve("arm").toString());
      assertEquals(0, unpack.code(), unpack::toString);
      assertTrue(Files.readString(dir.resolve("arm/etc/platform")).contains("arm64"));
      RegistryFixture.Result none = labenv("s", "pull", "--platform", "linux/s390x", multi);
      assertEquals(1, none.code(), none::toString);
      assertTrue(none.err().contains("no image for platform") && none.err().contains("linux/arm64"), none.err());
    }
  }

  @Test
  void basicAuthLoginLogoutAndDockerConfig() throws Exception {
    try (RegistryFixture reg = RegistryFixture.withBasicAuth("alice", "s3cret-pw")) {
      busyboxIn("a");
      String ref = reg.host() + "/private/bb:1";
      RegistryFixture.Result anonymous = labenv("a", "push", "busybox", ref);
      assertEquals(1, anonymous.code(), anonymous::toString);
      assertTrue(anonymous.err().contains("no credentials: labenv login " + reg.host()), anonymous.err());

      RegistryFixture.Result wrong = loginWith(reg, "not-it");
      assertEquals(1, wrong.code(), wrong::toString);
      assertTrue(wrong.err().contains("user alice"), wrong.err());
      assertFalse(wrong.err().contains("not-it"), "a password is never printed");
      RegistryFixture.Result login = loginWith(reg, "s3cret-pw");
      assertEquals(0, login.code(), login::toString);
      Path file = dir.resolve("home/.config/labenv/auth.json");
      assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(file)));
      assertFalse(login.out().contains("s3cret-pw") || login.err().contains("s3cret-pw"));

      RegistryFixture.Result push = labenv("a", "push", "busybox", ref);
      assertEquals(0, push.code(), push::toString);
      assertEquals(0, labenv("a", "logout", reg.host()).code());
      RegistryFixture.Result after = labenv("b", "pull", ref);
      assertEquals(1, after.code(), "logged out: " + after);

      // ~/.docker/config.json, as docker login writes it
      Files.createDirectories(dir.resolve("home/.docker"));
      Files.writeString(dir.resolve("home/.docker/config.json"), "{\"auths\":{\"" + reg.host() + "\":{\"auth\":\""
          + java.util.Base64.getEncoder().encodeToString("alice:s3cret-pw".getBytes(StandardCharsets.UTF_8))
          + "\"}}}");
      RegistryFixture.Result viaDocker = labenv("b", "pull", ref);
      assertEquals(0, viaDocker.code(), viaDocker::toString);
    }
  }

  private RegistryFixture.Result loginWith(RegistryFixture reg, String password) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("sh", "-c", "printf '%s\\n' \"$PW\" | java -jar " + RunIT.JAR
        + " login -u alice --password-stdin " + reg.host()));
    Map<String, String> env = new HashMap<>();
    env.put("LABENV_HOME", dir.resolve("a").toString());
    env.put("HOME", dir.resolve("home").toString());
    env.put("XDG_CONFIG_HOME", dir.resolve("home/.config").toString());
    env.put("DOCKER_CONFIG", dir.resolve("home/.docker").toString());
    env.put("PW", password);
    return RegistryFixture.tool(cmd, env, dir);
  }

  @Test
  void datasetsTravelThroughARegistry() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      Path data = dir.resolve("data");
      Files.createDirectories(data);
      Files.writeString(data.resolve("obs.csv"), "id,value\n1,2.5\n2,3.5\n");
      Files.write(data.resolve("big.bin"), DatasetIT.random(3, 2_000_000));
      assertEquals(0, labenv("a", "dataset", "add", "obs:v1", data.toString()).code());
      RegistryFixture.Result push = labenv("a", "dataset", "push", "obs:v1", reg.host() + "/data/obs:v1");
      assertEquals(0, push.code(), push::toString);
      RegistryFixture.Result pull = labenv("b", "dataset", "pull", reg.host() + "/data/obs:v1");
      assertEquals(0, pull.code(), pull::toString);
      assertTrue(pull.out().startsWith("obs:v1 "), pull.out());
      assertEquals(0, labenv("b", "dataset", "verify", "obs:v1").code());
      assertEquals(0, labenv("b", "dataset", "export", "obs:v1", dir.resolve("out").toString()).code());
      assertEquals("id,value\n1,2.5\n2,3.5\n", Files.readString(dir.resolve("out/obs.csv")));
      RegistryFixture.Result wrongKind = labenv("b", "pull", reg.host() + "/data/obs:v1");
      assertEquals(1, wrongKind.code());
      assertTrue(wrongKind.err().contains("labenv dataset pull takes it"), wrongKind.err());
    }
  }

  @Test
  void aRegistryKilledMidDownloadIsResumedAndTheStoreStaysSound() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      Path tree = dir.resolve("tree");
      Files.createDirectories(tree);
      Files.write(tree.resolve("big.bin"), DatasetIT.random(5, 200_000_000));
      assertEquals(0, labenv("a", "import", "--compression", "none", tree.toString(), "big:1").code());
      String ref = reg.host() + "/big/image:1";
      assertEquals(0, labenv("a", "push", "big:1", ref).code());

      List<String> cmd = List.of("java", "-jar", RunIT.JAR.toString(), "pull", ref);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("LABENV_HOME", dir.resolve("b").toString());
      pb.redirectOutput(dir.resolve("pull.log").toFile());
      Process pull = pb.start();
      // Once part of the layer is down, kill the registry, and bring it back a little later.
      Path blobs = dir.resolve("b/blobs/sha256");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (partial(blobs) < 20_000_000 && pull.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      reg.stop();
      Thread.sleep(700);
      reg.start();
      assertTrue(pull.waitFor(120, TimeUnit.SECONDS));
      String log = Files.readString(dir.resolve("pull.log"));
      assertEquals(0, pull.exitValue(), log);
      RegistryFixture.Result fsck = labenv("b", "fsck");
      assertEquals(0, fsck.code(), fsck::toString);
      assertTrue(log.contains(ref), log);
      assertEquals(0, labenv("b", "unpack", ref, dir.resolve("out").toString()).code());
      assertEquals(-1L, Files.mismatch(tree.resolve("big.bin"), dir.resolve("out/big.bin")), "the same bytes");
    }
  }

  private static long partial(Path blobs) throws IOException {
    if (!Files.isDirectory(blobs)) {
      return 0;
    }
    long max = 0;
    try (var s = Files.list(blobs)) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().startsWith(".tmp-")) {
          max = Math.max(max, Files.size(p));
        }
      }
    }
    return max;
  }

  @Test
  void badAnswersAreOneLineAndLeaveTheStoreAlone() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      RegistryFixture.Result missing = labenv("a", "pull", reg.host() + "/no/such:tag");
      assertEquals(1, missing.code(), missing::toString);
      assertTrue(missing.err().contains("not found in " + reg.host()), missing.err());

      // a blob damaged in the registry's storage: refused, nothing stored
      Files.createDirectories(dir.resolve("w"));
      String ref = reg.pushBusybox(dir.resolve("w"), "peer/bb", "v1");
      JsonNode manifest = Json.mapper().readTree(reg.getAuthenticated("/v2/peer/bb/manifests/v1").body());
      String layer = manifest.get("layers").get(0).get("digest").asText();
      Path data = reg.blobData(layer);
      byte[] bytes = Files.readAllBytes(data);
      bytes[bytes.length / 2] ^= 1;
      Files.write(data, bytes);
      RegistryFixture.Result damaged = labenv("c", "pull", ref);
      assertEquals(1, damaged.code(), damaged::toString);
      assertTrue(damaged.err().contains("sent bytes that are not that blob"), damaged.err());
      assertEquals(1, damaged.err().lines().count(), damaged.err());
      assertFalse(labenv("c", "images").out().contains("peer/bb"));
      assertEquals(0, labenv("c", "fsck").code());
    }
    RegistryFixture.Result refused = labenv("a", "pull", "127.0.0.1:9/x:1");
    assertEquals(1, refused.code());
    assertTrue(refused.err().contains("connection refused"), refused.err());
    RegistryFixture.Result unknown = labenv("a", "pull", "no-such-host.invalid/x:1");
    assertEquals(1, unknown.code());
    assertTrue(unknown.err().contains("unknown registry host"), unknown.err());
    try (ServerSocket garbage = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try (Socket s = garbage.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
          in.read(new byte[4096]);
          out.write("SSH-2.0-OpenSSH_9.2 not a registry\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
          // the test sees labenv's answer
        }
      });
      t.setDaemon(true);
      t.start();
      RegistryFixture.Result junk = labenv("a", "pull", "127.0.0.1:" + garbage.getLocalPort() + "/x:1");
      assertEquals(1, junk.code(), junk::toString);
      assertEquals(1, junk.err().lines().count(), junk.err());
      assertTrue(junk.err().startsWith("labenv: "), junk.err());
    }
  }
}
