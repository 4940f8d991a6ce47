package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real registry for tests: Debian's {@code docker-registry} (distribution 2.8) as a child process on
 * 127.0.0.1, on a free port, with its filesystem storage, config and log in a temporary directory that
 * {@link #close()} deletes. Optionally with basic auth (bcrypt htpasswd) and/or TLS (a self-signed
 * certificate for IP 127.0.0.1 made by openssl; {@link #caCert()} is the file to trust).
 *
 * <p>{@link #stop()} kills the registry with SIGKILL (a crash, mid-transfer if a transfer is running) and
 * {@link #start()} starts it again on the same port, storage and {@code http.secret}: the secret signs the
 * {@code _state} of upload URLs, so an upload begun before the crash can be resumed after it (with a new
 * secret the registry answers 404 BLOB_UPLOAD_INVALID). Upload purging is off for the same reason.
 *
 * <p>Also the peers of interop tests, run as real tools: {@link #skopeoCopy}, {@link Podman}, and
 * {@link #busyboxLayout}/{@link #pushBusybox} to put an image into the registry without labenv.
 */
final class RegistryFixture implements AutoCloseable {
  static final String REGISTRY = "/usr/bin/docker-registry";
  static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
  static final Duration TOOL_TIMEOUT = Duration.ofSeconds(300);
  static final String REALM = "labenv-test";

  record Credentials(String user, String password) {
    /** {@code user:password}, as skopeo's {@code --creds} and podman's {@code --creds} take them. */
    String joined() {
      return user + ":" + password;
    }

    String basicHeader() {
      return "Basic " + Base64.getEncoder().encodeToString(joined().getBytes(StandardCharsets.UTF_8));
    }
  }

  /** What a tool printed and how it exited. */
  record Result(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
    }
  }

  private final Path dir;
  private final Path storage;
  private final Path config;
  private final Path logFile;
  private final Credentials credentials;
  private final Path caCert;
  private final HttpClient http;
  private int port;
  private Process process;
  private final Thread reaper = new Thread(this::kill, "registry-fixture-reaper");

  private RegistryFixture(Path dir, Credentials credentials, Path caCert) throws IOException {
    this.dir = dir;
    this.storage = Files.createDirectories(dir.resolve("storage"));
    this.config = dir.resolve("config.yml");
    this.logFile = dir.resolve("registry.log");
    this.credentials = credentials;
    this.caCert = caCert;
    HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    if (caCert != null) {
      client.sslContext(sslContext());
    }
    this.http = client.build();
  }

  /** A registry anyone may push to and pull from, over plain HTTP. */
  static RegistryFixture anonymous() throws IOException, InterruptedException {
    return launch(null, false);
  }

  /** A registry that answers 401 with {@code WWW-Authenticate: Basic realm="labenv-test"} unless given these. */
  static RegistryFixture withBasicAuth(String user, String password) throws IOException, InterruptedException {
    return launch(new Credentials(user, password), false);
  }

  /**
   * Starts a registry and waits until {@code GET /v2/} answers; {@code credentials} null means anonymous,
   * {@code tls} serves HTTPS with a self-signed certificate for 127.0.0.1.
   */
  static RegistryFixture launch(Credentials credentials, boolean tls) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("registry-fixture-");
    RegistryFixture registry = null;
    try {
      Path caCert = tls ? selfSignedCertificate(dir) : null;
      registry = new RegistryFixture(dir, credentials, caCert);
      if (credentials != null) {
        registry.writeHtpasswd();
      }
      registry.firstStart();
      return registry;
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      if (registry != null) {
        registry.close();
      } else {
        deleteTree(dir);
      }
      throw e;
    }
  }

  /** {@code 127.0.0.1:PORT}, the registry part of image references. */
  String host() {
    return "127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  /** {@code http://127.0.0.1:PORT} or {@code https://...}, without a trailing slash. */
  String url() {
    return (caCert == null ? "http://" : "https://") + host();
  }

  /** The filesystem driver's root: blobs are under {@code docker/registry/v2/blobs}, uploads under repositories. */
  Path storage() {
    return storage;
  }

  /** Where the registry keeps the bytes of a blob, e.g. to corrupt it in a test. */
  Path blobData(String digest) {
    String hex = digest.substring(digest.indexOf(':') + 1);
    return storage.resolve("docker/registry/v2/blobs").resolve(digest.substring(0, digest.indexOf(':')))
        .resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
  }

  /** The registry's log (all its runs), for assertion messages. */
  String log() {
    try {
      return Files.exists(logFile) ? Files.readString(logFile) : "";
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e + ")";
    }
  }

  Path logFile() {
    return logFile;
  }

  /** Null for an anonymous registry. */
  Credentials credentials() {
    return credentials;
  }

  /** The self-signed certificate (its own CA) to trust, or null without TLS. */
  Path caCert() {
    return caCert;
  }

  /** A directory holding only {@code ca.crt}, as skopeo's {@code --*-cert-dir} and podman's {@code --cert-dir} want. */
  Path certDir() {
    return caCert == null ? null : caCert.getParent();
  }

  /** Trusts {@link #caCert()} only; for HttpClient.Builder.sslContext. */
  SSLContext sslContext() {
    try (InputStream in = Files.newInputStream(caCert)) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("registry", CertificateFactory.getInstance("X.509").generateCertificate(in));
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot trust " + caCert + ": " + e, e);
    }
  }

  /** {@code --dest-creds user:pass} for skopeo, or nothing when anonymous. */
  List<String> destCreds() {
    return credentials == null ? List.of() : List.of("--dest-creds", credentials.joined());
  }

  /** {@code --src-creds user:pass} for skopeo, or nothing when anonymous. */
  List<String> srcCreds() {
    return credentials == null ? List.of() : List.of("--src-creds", credentials.joined());
  }

  /** {@code --creds user:pass} for podman pull/push, or nothing when anonymous. */
  List<String> podmanCreds() {
    return credentials == null ? List.of() : List.of("--creds", credentials.joined());
  }

  /** {@code GET url()+path}, anonymous. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send(path, false);
  }

  /** {@code GET url()+path} with the basic-auth header (when the registry has credentials). */
  HttpResponse<String> getAuthenticated(String path) throws IOException, InterruptedException {
    return send(path, credentials != null);
  }

  private HttpResponse<String> send(String path, boolean authenticated) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(10))
        .header("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json,"
            + " application/vnd.docker.distribution.manifest.v2+json,"
            + " application/vnd.docker.distribution.manifest.list.v2+json, application/json");
    if (authenticated) {
      request.header("Authorization", credentials.basicHeader());
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The registry process's pid (of its current run). */
  long pid() {
    return process.pid();
  }

  /** Where the fixture keeps everything (storage, config, log, certificates); gone after {@link #close()}. */
  Path directory() {
    return dir;
  }

  boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Kills the registry (and anything it started) with SIGKILL, as a crash would; the storage stays. */
  void stop() throws InterruptedException {
    kill();
  }

  /** Starts the registry again on the same port, storage and secret, and waits until it answers. */
  void start() throws IOException, InterruptedException {
    if (isRunning()) {
      throw new IllegalStateException("the registry on " + host() + " is already running");
    }
    spawn();
    awaitReady();
  }

  /** Kills the registry and deletes its storage, config and log. */
  @Override
  public void close() {
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // already shutting down, or never registered: the reaper kills at most a dead process
    }
    deleteTree(dir);
  }

  // Another process may take the port between our probe and the registry's bind: try a few ports.
  private void firstStart() throws IOException, InterruptedException {
    writeSecret();
    for (int attempt = 1; ; attempt++) {
      port = freePort();
      writeConfig();
      spawn();
      if (attempt == 1) {
        Runtime.getRuntime().addShutdownHook(reaper);
      }
      try {
        awaitReady();
        return;
      } catch (IllegalStateException e) {
        if (attempt >= 5 || !logTail().contains("address already in use")) {
          throw e;
        }
        kill();
      }
    }
  }

  private void spawn() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(REGISTRY, "serve", config.toString());
    // REGISTRY_* variables override the config file (REGISTRY_AUTH_FILE, set for podman, would add an auth.file).
    pb.environment().keySet().removeIf(k -> k.startsWith("REGISTRY_"));
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    process = pb.start();
  }

  private void awaitReady() throws InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("docker-registry exited with " + process.exitValue() + " before answering on "
            + host() + "; its log ends:\n" + logTail());
      }
      try {
        int status = get("/v2/").statusCode();
        if (status == 200 || status == 401) {
          return;
        }
        last = new IOException("GET /v2/ answered " + status);
      } catch (IOException e) {
        last = e;
      }
      Thread.sleep(50);
    }
    kill();
    throw new IllegalStateException("docker-registry did not answer GET " + url() + "/v2/ within "
        + READY_TIMEOUT.toSeconds() + " s (last: " + last + "); its log ends:\n" + logTail());
  }

  private String logTail() {
    List<String> lines = log().lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  private void kill() {
    Process p = process;
    if (p == null) {
      return;
    }
    // Descendants first, while they are still findable through their parent.
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("docker-registry (pid " + p.pid() + ") survived SIGKILL for 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void writeSecret() throws IOException {
    byte[] secret = new byte[16];
    new SecureRandom().nextBytes(secret);
    Files.writeString(dir.resolve("secret"), HexFormat.of().formatHex(secret));
  }

  private void writeConfig() throws IOException {
    StringBuilder yaml = new StringBuilder();
    yaml.append("version: 0.1\n")
        .append("log:\n  level: info\n")
        .append("storage:\n")
        .append("  filesystem:\n    rootdirectory: ").append(storage).append('\n')
        .append("  delete:\n    enabled: true\n")
        // An interrupted upload must still be there when a test resumes it.
        .append("  maintenance:\n    uploadpurging:\n      enabled: false\n")
        .append("http:\n  addr: 127.0.0.1:").append(port).append('\n')
        .append("  secret: ").append(Files.readString(dir.resolve("secret"))).append('\n');
    if (caCert != null) {
      yaml.append("  tls:\n    certificate: ").append(caCert).append('\n')
          .append("    key: ").append(dir.resolve("key.pem")).append('\n');
    }
    if (credentials != null) {
      yaml.append("auth:\n  htpasswd:\n    realm: ").append(REALM).append('\n')
          .append("    path: ").append(dir.resolve("htpasswd")).append('\n');
    }
    Files.writeString(config, yaml.toString());
  }

  private void writeHtpasswd() throws IOException, InterruptedException {
    // distribution accepts only bcrypt entries.
    Result r = tool(List.of("htpasswd", "-Bbn", credentials.user(), credentials.password()), Map.of(), dir);
    assertEquals(0, r.code(), () -> "htpasswd -Bbn failed: " + r);
    Files.writeString(dir.resolve("htpasswd"), r.out());
  }

  /** {@code dir/certs/ca.crt} (the certificate, its own CA) and {@code dir/key.pem}, for IP 127.0.0.1. */
  private static Path selfSignedCertificate(Path dir) throws IOException, InterruptedException {
    Path cert = Files.createDirectories(dir.resolve("certs")).resolve("ca.crt");
    Path key = dir.resolve("key.pem");
    Result r = tool(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1"), Map.of(), dir);
    assertEquals(0, r.code(), () -> "openssl req -x509 failed: " + r);
    return cert;
  }

  // --- peers: skopeo, podman, umoci ---

  /**
   * {@code skopeo copy --src-tls-verify=false --dest-tls-verify=false EXTRA... SRC DST} (transports in the
   * references: {@code docker://host/repo:tag}, {@code oci:DIR:tag}, ...); fails the test unless it exits 0.
   */
  static Result skopeoCopy(String src, String dst, String... extraArgs) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false"));
    cmd.addAll(List.of(extraArgs));
    cmd.add(src);
    cmd.add(dst);
    Result r = tool(cmd, Map.of(), null);
    assertEquals(0, r.code(), () -> String.join(" ", cmd) + " failed: " + r);
    return r;
  }

  /**
   * An OCI image layout in {@code dir} (made by umoci, without labenv) holding one image tagged {@code tag}
   * for the host's platform: static busybox with {@code sh}, {@code echo}, {@code cat} and {@code applets} linked,
   * {@code /etc/passwd}, {@code /etc/platform} ({@code linux/amd64}), command {@code sh}. Copy it with
   * {@code skopeoCopy("oci:" + dir + ":" + tag, ...)}.
   */
  static Path busyboxLayout(Path dir, String tag, String... applets) throws IOException, InterruptedException {
    busyboxImage(dir, tag, hostArchitecture(), applets);
    return dir;
  }

  /**
   * Like {@link #busyboxLayout}, but {@code tag} names an image index of one image per architecture
   * (e.g. {@code amd64}, {@code arm64}; each also tagged {@code tag-ARCH}), told apart by
   * {@code /etc/platform}; the binary is the host's in all of them. Copy it with {@code skopeoCopy(..., "--all")}.
   */
  static Path busyboxIndexLayout(Path dir, String tag, List<String> architectures, String... applets)
      throws IOException, InterruptedException {
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode manifests = mapper.createArrayNode();
    for (String arch : architectures) {
      busyboxImage(dir, tag + "-" + arch, arch, applets);
      JsonNode descriptor = descriptor(mapper.readTree(dir.resolve("index.json").toFile()), tag + "-" + arch);
      ObjectNode entry = manifests.addObject();
      entry.put("mediaType", descriptor.path("mediaType").asText());
      entry.put("digest", descriptor.path("digest").asText());
      entry.put("size", descriptor.path("size").asLong());
      entry.putObject("platform").put("architecture", arch).put("os", "linux");
    }
    ObjectNode index = mapper.createObjectNode();
    index.put("schemaVersion", 2);
    index.put("mediaType", "application/vnd.oci.image.index.v1+json");
    index.set("manifests", manifests);
    byte[] bytes = mapper.writeValueAsBytes(index);
    String hex;
    try {
      hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Files.write(dir.resolve("blobs/sha256").resolve(hex), bytes);
    ObjectNode layoutIndex = (ObjectNode) mapper.readTree(dir.resolve("index.json").toFile());
    ObjectNode entry = ((ArrayNode) layoutIndex.path("manifests")).addObject();
    entry.put("mediaType", "application/vnd.oci.image.index.v1+json");
    entry.put("digest", "sha256:" + hex);
    entry.put("size", bytes.length);
    entry.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
    mapper.writeValue(dir.resolve("index.json").toFile(), layoutIndex);
    return dir;
  }

  private static JsonNode descriptor(JsonNode layoutIndex, String tag) {
    for (JsonNode d : layoutIndex.path("manifests")) {
      if (tag.equals(d.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
        return d;
      }
    }
    throw new IllegalStateException("no " + tag + " in the layout's index.json: " + layoutIndex);
  }

  private static void busyboxImage(Path dir, String tag, String arch, String... applets)
      throws IOException, InterruptedException {
    Path tree = Files.createTempDirectory("busybox-tree-");
    try {
      Files.createDirectories(tree.resolve("bin"));
      Files.createDirectories(tree.resolve("etc"));
      Files.copy(Path.of("/bin/busybox"), tree.resolve("bin/busybox"));
      List<String> links = new ArrayList<>(List.of("sh", "echo", "cat"));
      links.addAll(List.of(applets));
      for (String applet : links) {
        Files.createSymbolicLink(tree.resolve("bin").resolve(applet), Path.of("busybox"));
      }
      Files.writeString(tree.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
      Files.writeString(tree.resolve("etc/platform"), "linux/" + arch + "\n");
      String image = dir + ":" + tag;
      if (!Files.exists(dir.resolve("index.json"))) {
        umoci("init", "--layout", dir.toString());
      }
      umoci("new", "--image", image);
      umoci("insert", "--rootless", "--image", image, tree.toString(), "/");
      umoci("config", "--image", image, "--config.cmd", "sh", "--os", "linux", "--architecture", arch);
    } finally {
      deleteTree(tree);
    }
  }

  /**
   * Pushes a {@link #busyboxLayout} to {@code host()/repository:tag} with skopeo (with the credentials, if any),
   * and returns that reference.
   */
  String pushBusybox(Path workDir, String repository, String tag, String... applets)
      throws IOException, InterruptedException {
    Path layout = busyboxLayout(Files.createTempDirectory(workDir, "busybox-").resolve("oci"), tag, applets);
    String ref = host() + "/" + repository + ":" + tag;
    skopeoCopy("oci:" + layout + ":" + tag, "docker://" + ref, destCreds().toArray(String[]::new));
    return ref;
  }

  /** Pushes a {@link #busyboxIndexLayout} (all its images) to {@code host()/repository:tag}; returns that reference. */
  String pushBusyboxIndex(Path workDir, String repository, String tag, List<String> architectures)
      throws IOException, InterruptedException {
    Path layout = busyboxIndexLayout(Files.createTempDirectory(workDir, "busybox-").resolve("oci"), tag,
        architectures);
    String ref = host() + "/" + repository + ":" + tag;
    List<String> args = new ArrayList<>(List.of("--all"));
    args.addAll(destCreds());
    skopeoCopy("oci:" + layout + ":" + tag, "docker://" + ref, args.toArray(String[]::new));
    return ref;
  }

  static String hostArchitecture() {
    String arch = System.getProperty("os.arch");
    return switch (arch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64" -> "arm64";
      default -> arch;
    };
  }

  private static void umoci(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("umoci"));
    cmd.addAll(List.of(args));
    Result r = tool(cmd, Map.of(), null);
    assertEquals(0, r.code(), () -> String.join(" ", cmd) + " failed: " + r);
  }

  /**
   * Podman with its own storage under {@code dir}, set up as it works on this machine (cgroupfs, explicit
   * ulimits: see bench/lib.sh bench_podman), its own auth file, and {@code --tls-verify=false} to registries.
   * {@link #close()} unmounts what podman left mounted there (as root, its overlay driver bind-mounts
   * {@code root/overlay} onto itself and a pull does not undo it) and deletes {@code dir}.
   */
  static final class Podman implements AutoCloseable {
    private final Path dir;
    private final Map<String, String> env;

    private Podman(Path dir, Map<String, String> env) {
      this.dir = dir;
      this.env = env;
    }

    static Podman at(Path dir) throws IOException, InterruptedException {
      Files.createDirectories(dir);
      Result ulimit = tool(List.of("sh", "-c", "ulimit -Hn"), Map.of(), dir);
      String nofile = ulimit.out().trim();
      Path conf = dir.resolve("containers.conf");
      // With REGISTRY_AUTH_FILE set, podman --creds fails unless the file exists.
      Files.writeString(dir.resolve("auth.json"), "{}\n");
      Files.writeString(conf, "[containers]\n"
          + "default_ulimits = [\"nofile=" + nofile + ":" + nofile + "\", \"nproc=32768:32768\"]\n"
          + "[engine]\ncgroup_manager = \"cgroupfs\"\n");
      return new Podman(dir, Map.of("CONTAINERS_CONF", conf.toString(),
          "REGISTRY_AUTH_FILE", dir.resolve("auth.json").toString()));
    }

    /** {@code podman pull --tls-verify=false EXTRA... REF}; fails the test unless it exits 0. */
    Result pull(String ref, String... extraArgs) throws IOException, InterruptedException {
      return ok(concat(List.of("pull", "--tls-verify=false"), List.of(extraArgs), List.of(ref)));
    }

    /** {@code podman push --tls-verify=false EXTRA... IMAGE DST}; fails the test unless it exits 0. */
    Result push(String image, String ref, String... extraArgs) throws IOException, InterruptedException {
      return ok(concat(List.of("push", "--tls-verify=false"), List.of(extraArgs), List.of(image, ref)));
    }

    /** {@code podman tag IMAGE NAME}. */
    Result tag(String image, String name) throws IOException, InterruptedException {
      return ok(List.of("tag", image, name));
    }

    /**
     * {@code podman run --rm --network=none --pull=never IMAGE COMMAND...} (pull first); fails the test unless
     * the container exits 0, and returns what it printed.
     */
    Result run(String image, String... command) throws IOException, InterruptedException {
      return ok(concat(List.of("run", "--rm", "--network=none", "--pull=never", image), List.of(command), List.of()));
    }

    /** {@code podman ARGS...} with this storage, whatever its exit status. */
    Result exec(String... args) throws IOException, InterruptedException {
      List<String> cmd = new ArrayList<>(List.of("podman", "--root", dir.resolve("root").toString(),
          "--runroot", dir.resolve("run").toString()));
      cmd.addAll(List.of(args));
      return tool(cmd, env, null);
    }

    /** Unmounts everything under this podman's directory, deepest first, and deletes it. */
    @Override
    public void close() throws IOException, InterruptedException {
      List<String> mounts;
      try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
        mounts = lines.map(line -> line.split(" ")[4])
            .filter(point -> Path.of(point).startsWith(dir))
            .sorted(Comparator.reverseOrder())
            .toList();
      }
      for (String point : mounts) {
        Result r = tool(List.of("umount", point), Map.of(), null);
        assertEquals(0, r.code(), () -> "umount " + point + " (left by podman) failed: " + r);
      }
      deleteTree(dir);
    }

    private Result ok(List<String> args) throws IOException, InterruptedException {
      Result r = exec(args.toArray(String[]::new));
      assertEquals(0, r.code(), () -> "podman " + String.join(" ", args) + " failed: " + r);
      return r;
    }

    private static List<String> concat(List<String> a, List<String> b, List<String> c) {
      List<String> all = new ArrayList<>(a);
      all.addAll(b);
      all.addAll(c);
      return all;
    }
  }

  /** Runs a tool to completion (output through files: no pipe to fill), within {@link #TOOL_TIMEOUT}. */
  static Result tool(List<String> cmd, Map<String, String> env, Path cwd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    Path out = Files.createTempFile("tool-out", ".txt");
    Path err = Files.createTempFile("tool-err", ".txt");
    try {
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      Process p = pb.start();
      if (!p.waitFor(TOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor();
        assertTrue(false, () -> String.join(" ", cmd) + " did not finish within " + TOOL_TIMEOUT.toSeconds() + " s");
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new IllegalStateException("cannot delete " + p + ": " + e, e);
        }
      });
    } catch (IOException e) {
      throw new IllegalStateException("cannot delete " + root + ": " + e, e);
    }
  }
}
