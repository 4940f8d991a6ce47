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
      Path tree = bigImage(5, 200_000_000);
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

  @Test
  void aRegistryKilledMidUploadLeavesAPushThatStillCompletes() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      Path tree = bigImage(7, 150_000_000);
      String ref = reg.host() + "/big/upload:1";
      ProcessBuilder pb = new ProcessBuilder("java", "-jar", RunIT.JAR.toString(), "push", "--format", "json",
          "--chunk-size", "32m", "big:1", ref).redirectOutput(dir.resolve("push.out").toFile())
          .redirectError(dir.resolve("push.err").toFile());
      pb.environment().put("LABENV_HOME", dir.resolve("a").toString());
      Process push = pb.start();
      // Once more than one 32 MiB chunk is in the registry's upload, kill it, and bring it back a little later.
      // Killed in the middle of a PATCH, distribution keeps the part it wrote and refuses the session ("upload
      // resumed at wrong offset"): labenv must notice and upload the blob again in a new session.
      Path repos = reg.storage().resolve("docker/registry/v2/repositories/big/upload/_uploads");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (uploaded(repos) < 40_000_000 && push.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(push.isAlive(), "the push was still running when the registry was killed");
      reg.stop();
      Thread.sleep(700);
      reg.start();
      assertTrue(push.waitFor(120, TimeUnit.SECONDS));
      String out = Files.readString(dir.resolve("push.out"));
      String err = Files.readString(dir.resolve("push.err"));
      assertEquals(0, push.exitValue(), out + err + reg.log());
      assertEquals(0, labenv("a", "fsck").code());
      assertSameImageIn(ref, tree.resolve("big.bin"));
    }
  }

  @Test
  void anUploadCutBetweenChunksGoesOnFromWhatTheRegistryHas() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous();
        CuttingProxy proxy = new CuttingProxy(reg)) {
      Path tree = bigImage(9, 100_000_000);
      String ref = proxy.host() + "/big/resume:1";
      RegistryFixture.Result push = labenv("a", "push", "--format", "json", "--chunk-size", "32m", "big:1", ref);
      assertEquals(0, push.code(), push + reg.log());
      assertTrue(proxy.cut, "the proxy cut the second chunk's connection and the registry restarted");
      JsonNode p = Json.mapper().readTree(push.out());
      assertEquals(1, p.get("uploadsResumed").asInt(), () -> "went on from the registry's Range, not from 0: "
          + push.out());
      assertTrue(reg.log().lines().anyMatch(l -> l.contains("method=GET") && l.contains("/blobs/uploads/")
          && l.contains("status=204")), "asked the registry how much it had");
      assertSameImageIn(reg.host() + "/big/resume:1", tree.resolve("big.bin"));
    }
  }

  /** Another store pulls {@code ref} from the registry and unpacks the same {@code file}: the push was whole. */
  private void assertSameImageIn(String ref, Path file) throws Exception {
    assertEquals(0, labenv("b", "pull", ref).code());
    Path out = dir.resolve("out-" + System.nanoTime());
    assertEquals(0, labenv("b", "unpack", ref, out.toString()).code());
    assertEquals(-1L, Files.mismatch(file, out.resolve(file.getFileName())), "the same bytes");
  }

  /**
   * A proxy in front of a registry that reads each request's head: the first PATCH that does not start at byte 0
   * (a chunked upload's second chunk) has its connection closed before a byte of it is forwarded, and the registry
   * is restarted, so the upload session holds exactly the chunks before it. (Killed in the middle of a chunk,
   * distribution cannot resume a session at all.)
   */
  private static final class CuttingProxy implements AutoCloseable {
    private final RegistryFixture registry;
    private final ServerSocket server;
    private final List<Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    volatile boolean cut;

    CuttingProxy(RegistryFixture registry) throws IOException {
      this.registry = registry;
      this.server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      Thread accept = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket client = server.accept();
            sockets.add(client);
            Thread t = new Thread(() -> serve(client));
            t.setDaemon(true);
            t.start();
          } catch (IOException e) {
            return;
          }
        }
      });
      accept.setDaemon(true);
      accept.start();
    }

    String host() {
      return "127.0.0.1:" + server.getLocalPort();
    }

    private void serve(Socket client) {
      try (client; Socket upstream = new Socket("127.0.0.1", registry.port())) {
        sockets.add(upstream);
        Thread back = new Thread(() -> {
          try {
            upstream.getInputStream().transferTo(client.getOutputStream());
          } catch (IOException e) {
            // closed
          } finally {
            try {
              client.close();
            } catch (IOException e) {
              // closed
            }
          }
        });
        back.setDaemon(true);
        back.start();
        InputStream in = client.getInputStream();
        OutputStream out = upstream.getOutputStream();
        while (true) {
          byte[] head = readHead(in);
          if (head == null) {
            return;
          }
          String text = new String(head, StandardCharsets.ISO_8859_1);
          String lower = text.toLowerCase(java.util.Locale.ROOT);
          if (!cut && text.startsWith("PATCH ") && lower.contains("content-range:")
              && !lower.contains("content-range: 0-")) {
            cut = true;
            client.close();
            upstream.close();
            registry.stop();
            registry.start();
            return;
          }
          out.write(head);
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("content-length:\\s*(\\d+)").matcher(lower);
          long length = m.find() ? Long.parseLong(m.group(1)) : 0;
          byte[] buf = new byte[1 << 16];
          while (length > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, length));
            if (n < 0) {
              return;
            }
            out.write(buf, 0, n);
            length -= n;
          }
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // a connection ended
      }
    }

    /** The bytes up to and including the blank line ending a request's head, or null at the end of the stream. */
    private static byte[] readHead(InputStream in) throws IOException {
      java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
      int matched = 0;
      int c;
      while ((c = in.read()) >= 0) {
        if (head.size() == 0 && c == 0x16) {
          return null; // a TLS handshake (labenv tries HTTPS first): this proxy speaks plain HTTP only
        }
        head.write(c);
        matched = (c == '\r' && (matched == 0 || matched == 2)) || (c == '\n' && (matched == 1 || matched == 3))
            ? matched + 1 : (c == '\r' ? 1 : 0);
        if (matched == 4) {
          return head.toByteArray();
        }
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      server.close();
      synchronized (sockets) {
        for (Socket s : sockets) {
          s.close();
        }
      }
    }
  }

  /** The largest upload in progress under a repository's {@code _uploads}. */
  private static long uploaded(Path uploads) throws IOException {
    if (!Files.isDirectory(uploads)) {
      return 0;
    }
    long max = 0;
    try (var s = Files.list(uploads)) {
      for (Path u : s.toList()) {
        Path data = u.resolve("data");
        if (Files.isRegularFile(data)) {
          max = Math.max(max, Files.size(data));
        }
      }
    }
    return max;
  }

  @Test
  void blobsAnotherRepositoryHoldsAreMountedNotUploaded() throws Exception {
    try (RegistryFixture reg = RegistryFixture.anonymous()) {
      busyboxIn("a");
      RegistryFixture.Result first = labenv("a", "push", "--format", "json", "busybox", reg.host() + "/team/bb:1");
      assertEquals(0, first.code(), first::toString);
      assertEquals(2, Json.mapper().readTree(first.out()).get("blobsPushed").asInt());
      RegistryFixture.Result second = labenv("a", "push", "--format", "json", "busybox", reg.host() + "/other/bb:1");
      assertEquals(0, second.code(), second::toString);
      JsonNode q = Json.mapper().readTree(second.out());
      assertEquals(2, q.get("blobsMounted").asInt(), second.out());
      assertEquals(0, q.get("blobsPushed").asInt(), second.out());
      assertEquals(0, q.get("bytesPushed").asLong(), second.out());
      assertTrue(reg.log().contains("mount=sha256"), "the registry saw mount requests");

      // A store that pulled from one repository mounts from it when pushing to another.
      assertEquals(0, labenv("b", "pull", reg.host() + "/team/bb:1").code());
      RegistryFixture.Result third = labenv("b", "push", "--format", "json", reg.host() + "/team/bb:1",
          reg.host() + "/third/bb:1");
      assertEquals(2, Json.mapper().readTree(third.out()).get("blobsMounted").asInt(), third.out());
      RegistryFixture.Result inspect = RegistryFixture.tool(List.of("skopeo", "inspect", "--tls-verify=false",
          "docker://" + reg.host() + "/third/bb:1"), Map.of(), dir);
      assertEquals(0, inspect.code(), inspect::toString);
      assertEquals(0, labenv("c", "pull", reg.host() + "/third/bb:1").code(), "what was mounted is whole");
    }
  }

  @Test
  void tlsWithAPrivateCaIsTrustedFromCertsDAndRefusedWithoutIt() throws Exception {
    try (RegistryFixture reg = RegistryFixture.launch(null, true)) {
      busyboxIn("a");
      String ref = reg.host() + "/tls/bb:1";
      RegistryFixture.Result refused = labenv("a", "push", "busybox", ref);
      assertEquals(1, refused.code(), refused::toString);
      assertTrue(refused.err().contains("TLS certificate is not trusted") && refused.err().contains("certs.d/"
          + reg.host() + "/ca.crt"), refused.err());
      assertEquals(1, refused.err().strip().lines().count(), refused.err());

      Path certs = dir.resolve("home/.config/labenv/certs.d").resolve(reg.host());
      Files.createDirectories(certs);
      Files.copy(reg.caCert(), certs.resolve("ca.crt"));
      RegistryFixture.Result push = labenv("a", "push", "busybox", ref);
      assertEquals(0, push.code(), push::toString);
      RegistryFixture.Result pull = labenv("b", "pull", ref);
      assertEquals(0, pull.code(), pull::toString);
      Files.delete(certs.resolve("ca.crt"));
      RegistryFixture.Result insecure = labenv("c", "pull", "--insecure", ref);
      assertEquals(0, insecure.code(), insecure::toString);
      // skopeo, trusting the same CA, reads what labenv pushed over TLS
      RegistryFixture.Result inspect = RegistryFixture.tool(List.of("skopeo", "inspect", "--cert-dir",
          reg.certDir().toString(), "docker://" + ref), Map.of(), dir);
      assertEquals(0, inspect.code(), inspect::toString);
    }
  }

  /**
   * Image big:1 in store "a": one uncompressed layer holding big.bin, {@code size} random bytes from {@code seed}
   * (large enough that a registry can be stopped in the middle of it); returns the folder it was made from.
   */
  private Path bigImage(int seed, int size) throws Exception {
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree);
    Files.write(tree.resolve("big.bin"), DatasetIT.random(seed, size));
    assertEquals(0, labenv("a", "import", "--compression", "none", tree.toString(), "big:1").code());
    return tree;
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
        // every connection: labenv tries TLS first on a loopback host, then plain HTTP
        while (!garbage.isClosed()) {
          try (Socket s = garbage.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            in.read(new byte[4096]);
            out.write("SSH-2.0-OpenSSH_9.2 not a registry\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          } catch (IOException e) {
            // the test sees labenv's answer
          }
        }
      });
      t.setDaemon(true);
      t.start();
      RegistryFixture.Result junk = labenv("a", "pull", "127.0.0.1:" + garbage.getLocalPort() + "/x:1");
      assertEquals(1, junk.code(), junk::toString);
      assertEquals(1, junk.err().lines().count(), junk.err());
      assertTrue(junk.err().startsWith("labenv: ") && junk.err().contains("not HTTP"), junk.err());
    }
    // What a real registry will not serve: a manifest of a media type labenv does not know, and a manifest that
    // is not the one its digest names. A stand-in answering only those.
    byte[] odd = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example.thing.v1+json\"}"
        .getBytes(StandardCharsets.UTF_8);
    String wrongDigest = "sha256:" + "ab".repeat(32);
    com.sun.net.httpserver.HttpServer fake = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    fake.createContext("/v2/", ex -> {
      String path = ex.getRequestURI().getPath();
      byte[] body = path.equals("/v2/") ? "{}".getBytes(StandardCharsets.UTF_8) : odd;
      ex.getResponseHeaders().add("Content-Type", path.equals("/v2/") ? "application/json"
          : "application/vnd.example.thing.v1+json");
      ex.sendResponseHeaders(path.startsWith("/v2/x/manifests/") ? 200 : path.equals("/v2/") ? 200 : 404,
          ex.getRequestMethod().equals("HEAD") ? -1 : body.length);
      if (!ex.getRequestMethod().equals("HEAD")) {
        ex.getResponseBody().write(body);
      }
      ex.close();
    });
    fake.start();
    try {
      String host = "127.0.0.1:" + fake.getAddress().getPort();
      RegistryFixture.Result unknownType = labenv("a", "pull", host + "/x:1");
      assertEquals(1, unknownType.code(), unknownType::toString);
      assertTrue(unknownType.err().contains("application/vnd.example.thing.v1+json"), unknownType.err());
      assertEquals(1, unknownType.err().lines().count(), unknownType.err());
      RegistryFixture.Result mismatch = labenv("a", "pull", host + "/x@" + wrongDigest);
      assertEquals(1, mismatch.code(), mismatch::toString);
      assertTrue(mismatch.err().contains(wrongDigest), mismatch.err());
      assertEquals(1, mismatch.err().lines().count(), mismatch.err());
      assertEquals(0, labenv("a", "fsck").code());
      assertFalse(labenv("a", "images").out().contains(host), "nothing named");
    } finally {
      fake.stop(0);
    }
  }
}
