package labenv.build;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import labenv.LabenvException;
import labenv.image.Digest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maven Resolver against a real HTTP Maven repository on 127.0.0.1 (the JDK's HTTP server over a repository
 * layout the test writes), so that what goes over the network can be counted and what is served can be changed.
 * {@link MavenDependenciesIT} does the same against Maven Central.
 */
class MavenDependenciesTest {
  @TempDir Path tmp;

  private Path remote;
  private Path local;
  private HttpServer server;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private String url;

  @BeforeEach
  void serve() throws IOException {
    remote = Files.createDirectories(tmp.resolve("remote"));
    local = tmp.resolve("store/maven");
    // app depends on lib (compile), rt (runtime), and on a test-scoped and an optional artifact that are left out.
    pom("org.example", "app", "1.0", dep("org.example", "lib", "2.0", null, false)
        + dep("org.example", "testonly", "1.0", "test", false) + dep("org.example", "optional", "1.0", null, true)
        + dep("org.example", "rt", "1.0", "runtime", false));
    pom("org.example", "lib", "2.0", "");
    pom("org.example", "rt", "1.0", "");
    jar("org.example", "app", "1.0", "app bytes");
    jar("org.example", "lib", "2.0", "lib bytes");
    jar("org.example", "rt", "1.0", "rt bytes");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/maven2/", exchange -> {
      String path = exchange.getRequestURI().getPath().substring("/maven2/".length());
      requests.add(exchange.getRequestMethod() + " " + path);
      Path file = remote.resolve(path).normalize();
      if (!file.startsWith(remote) || !Files.isRegularFile(file)) {
        exchange.sendResponseHeaders(404, -1);
      } else {
        byte[] body = Files.readAllBytes(file);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(200, head ? -1 : body.length);
        if (!head) {
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        }
      }
      exchange.close();
    });
    server.start();
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/maven2/";
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void resolvesRuntimeDependenciesInClasspathOrder() throws IOException {
    List<MavenDependencies.ResolvedArtifact> got = new MavenDependencies(local, url).resolve(List.of("org.example:app:1.0"));
    assertEquals(List.of("org.example:app:1.0", "org.example:lib:2.0", "org.example:rt:1.0"),
        got.stream().map(a -> a.coordinates().toString()).toList());
    for (MavenDependencies.ResolvedArtifact a : got) {
      byte[] bytes = Files.readAllBytes(a.file());
      assertEquals(Digest.of(bytes), a.digest());
      assertEquals(bytes.length, a.size());
      assertEquals(url, a.repository());
      assertTrue(a.file().startsWith(local), a.file().toString());
    }
    assertEquals("lib bytes", Files.readString(got.get(1).file()));
    assertFalse(requests.stream().anyMatch(r -> r.contains("testonly") || r.contains("optional")), requests.toString());
  }

  @Test
  void aPinnedBuildFromAFullLocalRepositoryUsesNoNetwork() {
    MavenDependencies deps = new MavenDependencies(local, url);
    List<String> requested = List.of("org.example:app:1.0");
    Lockfile.Maven pins = MavenDependencies.pins(requested, deps.resolve(requested));
    requests.clear();
    server.stop(0);
    List<MavenDependencies.ResolvedArtifact> again = new MavenDependencies(local, url).resolvePinned(requested, pins);
    assertEquals(pins.artifacts(), again.stream().map(MavenDependencies.ResolvedArtifact::pin).toList());
    assertEquals(List.of(), requests);
  }

  @Test
  void aTamperedLocalCopyIsNotUsedButFetchedAgain() throws IOException {
    MavenDependencies deps = new MavenDependencies(local, url);
    List<String> requested = List.of("org.example:app:1.0");
    List<MavenDependencies.ResolvedArtifact> first = deps.resolve(requested);
    Lockfile.Maven pins = MavenDependencies.pins(requested, first);
    Path lib = first.get(1).file();
    Files.writeString(lib, "evil bytes");
    requests.clear();

    List<MavenDependencies.ResolvedArtifact> again = deps.resolvePinned(requested, pins);
    assertEquals(pins.artifacts(), again.stream().map(MavenDependencies.ResolvedArtifact::pin).toList());
    assertEquals("lib bytes", Files.readString(lib));
    // Only the tampered artifact went over the network.
    assertTrue(requests.stream().allMatch(r -> r.contains("/lib/")), requests.toString());
    assertTrue(requests.contains("GET org/example/lib/2.0/lib-2.0.jar"), requests.toString());
  }

  @Test
  void bytesServedOtherThanThePinFailNamingBothDigests() throws IOException {
    MavenDependencies deps = new MavenDependencies(local, url);
    List<String> requested = List.of("org.example:app:1.0");
    List<MavenDependencies.ResolvedArtifact> first = deps.resolve(requested);
    Lockfile.Maven pins = MavenDependencies.pins(requested, first);
    // Upstream republishes lib 2.0 with other bytes (and a matching .sha1, so only the pin can tell).
    jar("org.example", "lib", "2.0", "republished lib");
    Files.delete(first.get(1).file());

    LabenvException e = assertThrows(LabenvException.class, () -> deps.resolvePinned(requested, pins));
    assertEquals(LabenvException.Kind.FAILED, e.kind());
    String served = Digest.of("republished lib".getBytes(UTF_8)).toString();
    assertTrue(e.getMessage().startsWith("maven artifact org.example:lib:2.0: labenv.lock pins "
        + first.get(1).digest() + " but Maven repository " + url + " served " + served), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
    // The wrong bytes do not stay in the local repository.
    assertFalse(Files.exists(first.get(1).file()));
  }

  @Test
  void aDownloadThatDoesNotMatchItsPublishedChecksumFails() throws IOException {
    Path jar = remote.resolve("org/example/lib/2.0/lib-2.0.jar");
    Files.writeString(jar, "corrupted in transit");
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, url).resolve(List.of("org.example:app:1.0")));
    assertEquals(LabenvException.Kind.FAILED, e.kind());
    assertTrue(e.getMessage().contains("does not match its published checksum"), e.getMessage());
  }

  @Test
  void anArtifactNotInTheRepositoryIsBadInput() {
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, url).resolve(List.of("org.example:missing:1.0")));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith("maven artifact org.example:missing:1.0: not found"
        + " in Maven repository " + url), e.getMessage());
  }

  @Test
  void anUnreachableRepositoryIsOneLine() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    String nowhere = "http://127.0.0.1:" + closed + "/maven2/";
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, nowhere).resolve(List.of("org.example:app:1.0")));
    assertEquals(LabenvException.Kind.FAILED, e.kind());
    assertTrue(e.getMessage().startsWith("cannot reach Maven repository " + nowhere + ": "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));

    // A pinned artifact missing locally needs the network too: the same message.
    Lockfile.Maven pins = new Lockfile.Maven(List.of(MavenCoordinates.parse("org.example:lib:2.0")), List.of(
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.example:lib:2.0"), Digest.of(new byte[0]), 0, url)));
    e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, nowhere).resolvePinned(List.of("org.example:lib:2.0"), pins));
    assertTrue(e.getMessage().startsWith("cannot reach Maven repository " + nowhere + ": "), e.getMessage());
  }

  @Test
  void changedMavenInstructionsMakeTheLockOutOfDate() {
    MavenDependencies deps = new MavenDependencies(local, url);
    Lockfile.Maven pins = MavenDependencies.pins(List.of("org.example:app:1.0"), deps.resolve(List.of("org.example:app:1.0")));
    LabenvException e = assertThrows(LabenvException.class,
        () -> deps.resolvePinned(List.of("org.example:app:1.0", "org.example:rt:1.0"), pins));
    assertEquals("the MAVEN instructions changed since labenv.lock was written (added org.example:rt:1.0): run"
        + " `labenv lock` to accept the change", e.getMessage());
    e = assertThrows(LabenvException.class, () -> deps.resolvePinned(List.of("org.example:app:1.1"), pins));
    assertTrue(e.getMessage().contains("(added org.example:app:1.1) (removed org.example:app:1.0)"), e.getMessage());
  }

  @Test
  void badCoordinatesAreBadInput() {
    LabenvException e = assertThrows(LabenvException.class,
        () -> new MavenDependencies(local, url).resolve(List.of("commons-text")));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().contains("\"commons-text\""), e.getMessage());
    assertEquals(List.of(), requests);
  }

  @Test
  void theLayerTreeAndItsClasspathFile() throws IOException {
    MavenDependencies deps = new MavenDependencies(local, url);
    List<MavenDependencies.ResolvedArtifact> got = deps.resolve(List.of("org.example:app:1.0"));
    Path staging = tmp.resolve("staging");
    Path classpath = deps.writeLayerTree(got, staging);
    assertEquals(staging.resolve("opt/labenv/maven/classpath"), classpath);
    assertEquals("""
        /opt/labenv/maven/org/example/app/1.0/app-1.0.jar
        /opt/labenv/maven/org/example/lib/2.0/lib-2.0.jar
        /opt/labenv/maven/org/example/rt/1.0/rt-1.0.jar
        """, Files.readString(classpath));
    assertEquals("/opt/labenv/maven/org/example/app/1.0/app-1.0.jar:/opt/labenv/maven/org/example/lib/2.0/lib-2.0.jar"
        + ":/opt/labenv/maven/org/example/rt/1.0/rt-1.0.jar", MavenDependencies.classpath(got));
    Path lib = staging.resolve("opt/labenv/maven/org/example/lib/2.0/lib-2.0.jar");
    assertArrayEquals("lib bytes".getBytes(UTF_8), Files.readAllBytes(lib));
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(lib)));
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(lib.getParent())));
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(staging.resolve("opt"))));
    // What the image's inventory reads back is what the lock pins (the repository aside).
    assertEquals(got.stream().map(a -> new Lockfile.MavenArtifact(a.coordinates(), a.digest(), a.size(), null)).toList(),
        Inventory.of(staging).maven());
  }

  @Test
  void aFileChangedAfterResolutionIsNotPacked() throws IOException {
    MavenDependencies deps = new MavenDependencies(local, url);
    List<MavenDependencies.ResolvedArtifact> got = deps.resolve(List.of("org.example:app:1.0"));
    Files.writeString(got.get(2).file(), "swapped");
    LabenvException e = assertThrows(LabenvException.class, () -> deps.writeLayerTree(got, tmp.resolve("staging")));
    assertTrue(e.getMessage().startsWith("maven artifact org.example:rt:1.0: "), e.getMessage());
  }

  @Test
  void mirrorsOfCentralInMavenSettings() throws IOException {
    Path settings = tmp.resolve("settings.xml");
    Files.writeString(settings, """
        <settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
          <mirrors>
            <mirror><id>all</id><mirrorOf>*,!internal</mirrorOf><url>https://all.example/maven2</url></mirror>
            <mirror><id>c</id><mirrorOf>central</mirrorOf><url>https://central.example/maven2</url></mirror>
          </mirrors>
        </settings>
        """);
    assertEquals("https://central.example/maven2", MavenDependencies.settingsMirror(settings));
    Files.writeString(settings, "<settings><mirrors><mirror><mirrorOf>external:*</mirrorOf><url>https://x.example/"
        + "</url></mirror><mirror><mirrorOf>*,!central</mirrorOf><url>https://y.example/</url></mirror></mirrors>"
        + "</settings>");
    assertEquals("https://x.example/", MavenDependencies.settingsMirror(settings));
    Files.writeString(settings, "<settings><mirrors><mirror><mirrorOf>*,!central</mirrorOf><url>https://y.example/"
        + "</url></mirror></mirrors></settings>");
    assertEquals(null, MavenDependencies.settingsMirror(settings));
    assertEquals(null, MavenDependencies.settingsMirror(tmp.resolve("none.xml")));
  }

  // --- the repository the server serves ---

  private static String dep(String g, String a, String v, String scope, boolean optional) {
    return "<dependency><groupId>" + g + "</groupId><artifactId>" + a + "</artifactId><version>" + v + "</version>"
        + (scope == null ? "" : "<scope>" + scope + "</scope>") + (optional ? "<optional>true</optional>" : "")
        + "</dependency>";
  }

  private void pom(String g, String a, String v, String dependencies) throws IOException {
    publish(g, a, v, "pom", ("<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
        + "<groupId>" + g + "</groupId><artifactId>" + a + "</artifactId><version>" + v + "</version>"
        + "<dependencies>" + dependencies + "</dependencies></project>").getBytes(UTF_8));
  }

  private void jar(String g, String a, String v, String content) throws IOException {
    publish(g, a, v, "jar", content.getBytes(UTF_8));
  }

  /** The file and its .sha1, as a repository publishes them (the resolver checks the latter). */
  private void publish(String g, String a, String v, String ext, byte[] content) throws IOException {
    Path dir = Files.createDirectories(remote.resolve(g.replace('.', '/')).resolve(a).resolve(v));
    Files.write(dir.resolve(a + "-" + v + "." + ext), content);
    try {
      String sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(content));
      Files.writeString(dir.resolve(a + "-" + v + "." + ext + ".sha1"), sha1);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
