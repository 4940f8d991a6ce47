package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import labenv.cli.RegistryFixture.Podman;
import labenv.cli.RegistryFixture.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry fixture itself, against the real docker-registry, skopeo and podman. */
class RegistryFixtureIT {
  @TempDir Path tmp;

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return new ObjectMapper().readTree(response.body());
  }

  @Test
  void anonymousRegistryTakesASkopeoPushKeepsItAcrossACrashAndLeavesNothingOnClose() throws Exception {
    Path dir;
    long pid;
    try (RegistryFixture registry = RegistryFixture.anonymous()) {
      dir = registry.directory();
      HttpResponse<String> ping = registry.get("/v2/");
      assertEquals(200, ping.statusCode(), registry::log);
      assertTrue(registry.url().matches("http://127\\.0\\.0\\.1:\\d+"), registry.url());

      String ref = registry.pushBusybox(tmp, "team/busybox", "1.0");
      assertEquals(registry.host() + "/team/busybox:1.0", ref);
      HttpResponse<String> tags = registry.get("/v2/team/busybox/tags/list");
      assertEquals(200, tags.statusCode(), tags::body);
      assertEquals("1.0", json(tags).path("tags").path(0).asText(), tags::body);
      HttpResponse<String> manifest = registry.get("/v2/team/busybox/manifests/1.0");
      assertEquals(200, manifest.statusCode(), manifest::body);
      String layer = json(manifest).path("layers").path(0).path("digest").asText();
      assertTrue(Files.isRegularFile(registry.blobData(layer)), () -> layer + " not under " + registry.storage());

      int port = registry.port();
      pid = registry.pid();
      registry.stop();
      assertFalse(registry.isRunning());
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "SIGKILLed registry still alive");
      assertThrows(ConnectException.class, () -> registry.get("/v2/"));

      registry.start();
      assertEquals(port, registry.port());
      assertNotEquals(pid, registry.pid());
      pid = registry.pid();
      HttpResponse<String> again = registry.get("/v2/team/busybox/manifests/1.0");
      assertEquals(200, again.statusCode(), registry::log);
      assertEquals(manifest.body(), again.body());
    }
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "registry alive after close");
    assertFalse(Files.exists(dir), dir + " left after close");
  }

  @Test
  void basicAuthOverPlainHttpChallengesAndPeersPushPullAndRunWithCredentials() throws Exception {
    try (RegistryFixture registry = RegistryFixture.withBasicAuth("alice", "s3cret")) {
      HttpResponse<String> anonymous = registry.get("/v2/");
      assertEquals(401, anonymous.statusCode(), registry::log);
      assertEquals(List.of("Basic realm=\"labenv-test\""), anonymous.headers().allValues("WWW-Authenticate"));
      assertEquals(200, registry.getAuthenticated("/v2/").statusCode(), registry::log);

      Path layout = RegistryFixture.busyboxLayout(tmp.resolve("oci"), "1");
      Result denied = RegistryFixture.tool(List.of("skopeo", "copy", "--dest-tls-verify=false",
          "oci:" + layout + ":1", "docker://" + registry.host() + "/bb:1"), Map.of(), null);
      assertNotEquals(0, denied.code(), denied::toString);
      assertTrue(denied.err().contains("authentication required"), denied::toString);

      String ref = registry.pushBusybox(tmp, "bb", "1");
      try (Podman podman = Podman.at(tmp.resolve("podman"))) {
        podman.pull(ref, registry.podmanCreds().toArray(String[]::new));
        assertEquals("hello from a peer\n", podman.run(ref, "echo", "hello from a peer").out());
        podman.push(ref, registry.host() + "/pushed/by-podman:2", registry.podmanCreds().toArray(String[]::new));
      }
      assertFalse(Files.exists(tmp.resolve("podman")), "podman's storage left after close");
      HttpResponse<String> tags = registry.getAuthenticated("/v2/pushed/by-podman/tags/list");
      assertEquals(200, tags.statusCode(), tags::body);
      assertEquals("2", json(tags).path("tags").path(0).asText(), tags::body);

      RegistryFixture.skopeoCopy("docker://" + registry.host() + "/pushed/by-podman:2",
          "oci:" + tmp.resolve("back") + ":2",
          registry.srcCreds().toArray(String[]::new));
      assertTrue(Files.isRegularFile(tmp.resolve("back/index.json")));
    }
  }

  @Test
  void tlsWithASelfSignedCertificateIsTrustedThroughItsCaFileOnly() throws Exception {
    try (RegistryFixture registry = RegistryFixture.launch(new RegistryFixture.Credentials("bob", "pw"), true)) {
      assertTrue(registry.url().startsWith("https://127.0.0.1:"), registry.url());
      assertEquals(401, registry.get("/v2/").statusCode(), registry::log);
      assertEquals(200, registry.getAuthenticated("/v2/").statusCode(), registry::log);
      HttpRequest ping = HttpRequest.newBuilder(URI.create(registry.url() + "/v2/")).build();
      assertThrows(SSLHandshakeException.class,
          () -> HttpClient.newHttpClient().send(ping, HttpResponse.BodyHandlers.discarding()));

      String ref = registry.pushBusybox(tmp, "secure/bb", "1");
      Result verified = RegistryFixture.tool(List.of("skopeo", "inspect", "--cert-dir", registry.certDir().toString(),
          "--creds", registry.credentials().joined(), "docker://" + ref), Map.of(), null);
      assertEquals(0, verified.code(), verified::toString);
      Result unverified = RegistryFixture.tool(List.of("skopeo", "inspect",
          "--creds", registry.credentials().joined(), "docker://" + ref), Map.of(), null);
      assertNotEquals(0, unverified.code(), unverified::toString);
      assertTrue(unverified.err().contains("certificate"), unverified::toString);
    }
  }

  @Test
  void anImageIndexPushedBySkopeoListsOneManifestPerPlatform() throws Exception {
    try (RegistryFixture registry = RegistryFixture.anonymous()) {
      registry.pushBusyboxIndex(tmp, "multi/bb", "1", List.of("amd64", "arm64"));
      HttpResponse<String> index = registry.get("/v2/multi/bb/manifests/1");
      assertEquals(200, index.statusCode(), index::body);
      assertEquals("application/vnd.oci.image.index.v1+json", index.headers().firstValue("Content-Type").orElse(""));
      List<String> platforms = new java.util.ArrayList<>();
      for (JsonNode m : json(index).path("manifests")) {
        platforms.add(m.path("platform").path("os").asText() + "/" + m.path("platform").path("architecture").asText());
        assertEquals(200, registry.get("/v2/multi/bb/manifests/" + m.path("digest").asText()).statusCode());
      }
      assertEquals(List.of("linux/amd64", "linux/arm64"), platforms);
    }
  }

  /** What the faults tests rely on: an upload begun before a SIGKILL can be finished after the restart. */
  @Test
  void anUploadInterruptedByACrashResumesAfterTheRestart() throws Exception {
    try (RegistryFixture registry = RegistryFixture.anonymous()) {
      HttpClient client = HttpClient.newHttpClient();
      byte[] first = "first half of the blob, ".getBytes(StandardCharsets.UTF_8);
      byte[] second = "second half of the blob".getBytes(StandardCharsets.UTF_8);
      URI uploads = URI.create(registry.url() + "/v2/up/blobs/uploads/");
      HttpResponse<Void> begun = client.send(HttpRequest.newBuilder(uploads)
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
      assertEquals(202, begun.statusCode());
      HttpResponse<Void> patched = patch(client, location(registry, begun), first, 0);
      assertEquals(202, patched.statusCode(), registry::log);

      registry.stop();
      registry.start();

      HttpResponse<Void> status = client.send(HttpRequest.newBuilder(location(registry, patched)).build(),
          HttpResponse.BodyHandlers.discarding());
      assertEquals(204, status.statusCode(), registry::log);
      assertEquals("0-" + (first.length - 1), status.headers().firstValue("Range").orElse(""));
      HttpResponse<Void> rest = patch(client, location(registry, patched), second, first.length);
      assertEquals(202, rest.statusCode(), registry::log);

      byte[] all = (new String(first, StandardCharsets.UTF_8) + new String(second, StandardCharsets.UTF_8))
          .getBytes(StandardCharsets.UTF_8);
      String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(all));
      URI put = URI.create(location(registry, rest) + "&digest=" + digest);
      HttpResponse<Void> done = client.send(
          HttpRequest.newBuilder(put).PUT(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.discarding());
      assertEquals(201, done.statusCode(), registry::log);
      HttpResponse<String> blob = registry.get("/v2/up/blobs/" + digest);
      assertEquals(new String(all, StandardCharsets.UTF_8), blob.body());
    }
  }

  private static HttpResponse<Void> patch(HttpClient client, URI location, byte[] chunk, int offset)
      throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(location)
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(chunk))
        .header("Content-Type", "application/octet-stream")
        .header("Content-Range", offset + "-" + (offset + chunk.length - 1)).build(),
        HttpResponse.BodyHandlers.discarding());
  }

  private static URI location(RegistryFixture registry, HttpResponse<?> response) {
    String location = response.headers().firstValue("Location").orElseThrow();
    return URI.create(registry.url()).resolve(location);
  }
}
