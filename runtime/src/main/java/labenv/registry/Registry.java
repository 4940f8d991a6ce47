package labenv.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Json;

/**
 * One registry, spoken to with the OCI distribution API ({@code /v2/}). Authentication follows the
 * registry's {@code WWW-Authenticate} challenge, as Docker does: anonymous first; for {@code Bearer},
 * a token from the realm (with the user's credentials when there are any) per repository scope; for
 * {@code Basic}, the credentials. HTTPS, trusting the JVM's CAs and the per-registry CA files of {@link Trust}.
 * A loopback registry is spoken to in plain HTTP until it answers that it wants HTTPS (nothing leaves the
 * machine, and no TLS set-up is paid for a local registry); one named with {@code --insecure} is tried with
 * HTTPS first and plain HTTP when it does not speak TLS (as Docker treats insecure registries), and any
 * certificate is accepted. Redirects (blob downloads from object storage) are followed by hand, without the
 * Authorization header when they leave the registry's host.
 *
 * <p>Requests go through the JDK's blocking {@code HttpURLConnection}: the JDK's HttpClient hands large bodies
 * over in small buffers between threads, about ten times slower here (80 MB from a loopback registry: 1.2 s
 * against 0.13 s), and its start costs a TLS context even for plain HTTP. HttpClient is made, on first use, only
 * for PATCH (chunked uploads), which HttpURLConnection refuses.
 */
public final class Registry {
  private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String host;
  /** Where requests go; a loopback or --insecure registry switches scheme once, on its first answer. */
  private volatile URI base;
  /** Whether the scheme is settled (always, except for loopback and --insecure registries before an answer). */
  private volatile boolean settled;
  private final boolean insecure;
  private final Path labenvConfig;
  private final Credentials.Basic credentials;
  /** Authorization header values by scope ("" for Basic, which has none). */
  private final Map<String, String> authorization = new ConcurrentHashMap<>();
  private volatile javax.net.ssl.SSLContext tls;
  private volatile HttpClient http;

  private Registry(String host, URI base, boolean settled, boolean insecure, Path labenvConfig,
      Credentials.Basic credentials) {
    this.host = host;
    this.base = base;
    this.settled = settled;
    this.insecure = insecure;
    this.labenvConfig = labenvConfig;
    this.credentials = credentials;
  }

  /** {@code docker.io} is served by {@code registry-1.docker.io}, as Docker resolves it. */
  public static Registry connect(String host, Credentials credentials, boolean insecure) {
    return withCredentials(host, credentials.find(host), credentials.labenvFile().getParent(), insecure);
  }

  /**
   * A registry spoken to with exactly {@code credentials} (labenv login checks them before storing them);
   * {@code labenvConfig} is labenv's config folder, whose {@code certs.d} holds per-registry CAs.
   */
  public static Registry withCredentials(String host, Credentials.Basic credentials, Path labenvConfig,
      boolean insecure) {
    String endpoint = host.equals("docker.io") ? "registry-1.docker.io" : host;
    boolean loopback = isLoopback(endpoint);
    URI base = URI.create((loopback && !insecure ? "http://" : "https://") + endpoint);
    return new Registry(host, base, !loopback && !insecure, insecure, labenvConfig, credentials);
  }

  private javax.net.ssl.SSLContext tls() {
    if (tls == null) {
      synchronized (this) {
        if (tls == null) {
          tls = Trust.context(Trust.certificateFolders(labenvConfig, host), insecure);
        }
      }
    }
    return tls;
  }

  private HttpClient http() {
    if (http == null) {
      synchronized (this) {
        if (http == null) {
          if (insecure) {
            // HttpClient checks host names apart from the trust manager; --insecure means neither is checked.
            System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
          }
          http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
              .connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1).sslContext(tls()).build();
        }
      }
    }
    return http;
  }

  static boolean isLoopback(String endpoint) {
    String h = endpoint.startsWith("[") ? endpoint.substring(1, endpoint.indexOf(']'))
        : endpoint.contains(":") ? endpoint.substring(0, endpoint.lastIndexOf(':')) : endpoint;
    return h.equals("localhost") || h.startsWith("127.") || h.equals("::1");
  }

  public String host() {
    return host;
  }

  /** A response whose body is still to be read (and closed). */
  public record Response(int status, Map<String, List<String>> headers, InputStream stream) implements AutoCloseable {
    public Response {
      Map<String, List<String>> h = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      headers.forEach((k, v) -> {
        if (k != null) {
          h.put(k, v);
        }
      });
      headers = h;
    }

    public String header(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    public byte[] body(long max) throws IOException {
      try (InputStream in = stream) {
        byte[] b = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
        if (b.length > max) {
          throw new IOException("answer longer than " + max + " bytes");
        }
        return b;
      }
    }

    @Override
    public void close() {
      try {
        stream.close();
      } catch (IOException e) {
        // nothing to do
      }
    }
  }

  /** What a request sends: bytes of a known length, opened again for each attempt. */
  public record Body(java.util.function.Supplier<InputStream> open, long length) {
    public static Body of(byte[] bytes) {
      return new Body(() -> new java.io.ByteArrayInputStream(bytes), bytes.length);
    }
  }

  /**
   * Sends a request for {@code path} (below the host, starting with /v2/) or an absolute URL (an upload's
   * Location), authenticated for {@code scope}; follows redirects. Throws a one-line failure for a host that
   * cannot be reached, and for 401/403 after authenticating; {@link Transient} for a connection that dropped.
   * {@code body}: null for none.
   */
  public Response send(String method, String path, String scope, Map<String, String> headers, Body body) {
    if (!settled) {
      // GET /v2/ (Docker's ping) settles HTTP or HTTPS on an answer that has a body to read, whatever comes next.
      connection("GET", base.resolve("/v2/"), "", Map.of(), null, 0).close();
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      URI uri = path.startsWith("http://") || path.startsWith("https://") ? URI.create(path) : base.resolve(path);
      Response r = "PATCH".equals(method) ? exchange(method, uri, scope, headers, body, 0)
          : connection(method, uri, scope, headers, body, 0);
      if (r.status() != 401 || attempt == 1) {
        refused(r, method, uri);
        return r;
      }
      String challenge = r.header("WWW-Authenticate");
      r.close();
      if (challenge == null) {
        throw LabenvException.failed(host + ": 401 without a WWW-Authenticate challenge for " + what(method, uri));
      }
      authenticate(challenge, scope);
    }
    throw new IllegalStateException("unreachable");
  }

  private static String what(String method, URI uri) {
    return method + " " + uri.getPath();
  }

  private String authorizationFor(String scope, URI uri) {
    String auth = authorization.getOrDefault(scope, authorization.get(""));
    return auth != null && sameHost(uri) ? auth : null;
  }

  private Response connection(String method, URI uri, String scope, Map<String, String> headers, Body body,
      int redirects) {
    boolean probing = !settled && sameHost(uri);
    java.net.HttpURLConnection c;
    try {
      c = (java.net.HttpURLConnection) uri.toURL().openConnection();
      if (c instanceof javax.net.ssl.HttpsURLConnection https) {
        https.setSSLSocketFactory(tls().getSocketFactory());
        if (insecure) {
          https.setHostnameVerifier((name, session) -> true);
        }
      }
      c.setInstanceFollowRedirects(false);
      // A first HTTPS attempt at an --insecure registry that may be a plain server ignoring the TLS hello
      c.setConnectTimeout(probing && "https".equals(uri.getScheme()) ? 3_000 : 10_000);
      c.setReadTimeout((int) TIMEOUT.toMillis());
      c.setRequestMethod(method);
      headers.forEach(c::setRequestProperty);
      String auth = authorizationFor(scope, uri);
      if (auth != null) {
        c.setRequestProperty("Authorization", auth);
      }
      if (body != null || method.equals("POST") || method.equals("PUT")) {
        Body b = body == null ? Body.of(new byte[0]) : body;
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(b.length());
        try (InputStream in = b.open().get(); java.io.OutputStream out = c.getOutputStream()) {
          // Large reads: a blob from the store is hashed as it is read, and SHA-256 is fast only on long runs.
          byte[] buf = new byte[1 << 20];
          int n;
          while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            out.write(buf, 0, n);
          }
        }
      }
      int status = c.getResponseCode();
      if (status < 0) {
        throw LabenvException.failed("registry " + host + " answered something that is not HTTP");
      }
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      Response r = new Response(status, c.getHeaderFields(), in == null ? InputStream.nullInputStream() : in);
      if (probing) {
        if ("http".equals(uri.getScheme()) && status == 400) {
          byte[] text = r.body(64 << 10);
          if (new String(text, StandardCharsets.UTF_8).contains("HTTPS")) {
            // A loopback registry with TLS answered the plain request as Go's and nginx's listeners do: HTTPS it is.
            return switchScheme("https", method, uri, scope, headers, body, redirects);
          }
          r = new Response(status, r.headers(), new java.io.ByteArrayInputStream(text));
        }
        settled = true;
      }
      if (status >= 300 && status < 400 && status != 304 && r.header("Location") != null) {
        r.close();
        if (redirects >= 5) {
          throw LabenvException.failed(host + ": too many redirects for " + what(method, uri));
        }
        return connection(method, uri.resolve(r.header("Location")), scope, headers, body, redirects + 1);
      }
      return r;
    } catch (java.net.UnknownHostException e) {
      throw LabenvException.failed("unknown registry host " + uri.getHost() + " (no such name)", e);
    } catch (ConnectException e) {
      throw new Unreachable("cannot connect to registry " + host + " (" + uri.getScheme() + "://"
          + uri.getAuthority() + "): connection refused", e);
    } catch (java.net.SocketTimeoutException e) {
      if (probing && "https".equals(uri.getScheme())) {
        return switchScheme("http", method, uri, scope, headers, body, redirects);
      }
      throw new Transient(host + ": " + what(method, uri) + ": timed out", e);
    } catch (javax.net.ssl.SSLException e) {
      if (Trust.untrusted(e)) {
        throw LabenvException.failed("registry " + host + ": its TLS certificate is not trusted (" + e.getMessage()
            + "): put its CA certificate in " + Trust.certificateFolders(labenvConfig, host).get(0).resolve("ca.crt")
            + ", or use --insecure", e);
      }
      if (probing && "https".equals(uri.getScheme())) {
        return switchScheme("http", method, uri, scope, headers, body, redirects);
      }
      throw LabenvException.failed("registry " + host + ": TLS failed: " + e.getMessage()
          + (insecure ? "" : " (a registry without TLS needs --insecure)"), e);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      if (msg.startsWith("Invalid Http response") || msg.contains("Unexpected end of file") && probing) {
        throw LabenvException.failed("registry " + host + " answered something that is not HTTP: " + msg, e);
      }
      throw new Transient(host + ": " + what(method, uri) + ": " + msg, e);
    }
  }

  private Response switchScheme(String scheme, String method, URI uri, String scope, Map<String, String> headers,
      Body body, int redirects) {
    base = URI.create(scheme + "://" + base.getRawAuthority());
    settled = true;
    URI next = URI.create(scheme + uri.toString().substring(uri.getScheme().length()));
    return connection(method, next, scope, headers, body, redirects);
  }

  /** 401 after authenticating, and 403: one line naming who was refused, never the secret. */
  private void refused(Response r, String method, URI uri) {
    if (r.status() == 401 || r.status() == 403) {
      String detail = errorText(r);
      throw LabenvException.failed(host + ": " + (r.status() == 401 ? "authentication required" : "access denied")
          + " for " + what(method, uri) + " (" + (credentials == null ? "no credentials: labenv login " + host
          : "tried " + credentials) + ")" + (detail.isEmpty() ? "" : ": " + detail));
    }
  }

  /** PATCH through the JDK's HttpClient (HttpURLConnection refuses the method). */
  private Response exchange(String method, URI uri, String scope, Map<String, String> headers, Body body,
      int redirects) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(TIMEOUT).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(body.open()),
            body.length()));
    headers.forEach(b::header);
    String auth = authorizationFor(scope, uri);
    if (auth != null) {
      b.header("Authorization", auth);
    }
    HttpResponse<InputStream> raw;
    try {
      raw = http().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (ConnectException e) {
      throw new Unreachable("cannot connect to registry " + host + " (" + uri.getScheme() + "://"
          + uri.getAuthority() + "): connection refused", e);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new Transient(host + ": " + what(method, uri) + ": " + msg, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed(host + ": interrupted", e);
    }
    return new Response(raw.statusCode(), raw.headers().map(), raw.body());
  }

  private boolean sameHost(URI uri) {
    return uri.getAuthority() != null && uri.getAuthority().equalsIgnoreCase(base.getAuthority());
  }

  /** A failure worth retrying: the connection dropped or timed out after it was made. */
  public static final class Transient extends LabenvException {
    private static final long serialVersionUID = 1L;

    Transient(String message, Throwable cause) {
      super(Kind.FAILED, message, cause);
    }
  }

  /**
   * The registry refused the connection: fatal for a command's first request, worth retrying in the middle of a
   * transfer (a registry restarting).
   */
  public static final class Unreachable extends LabenvException {
    private static final long serialVersionUID = 1L;

    Unreachable(String message, Throwable cause) {
      super(Kind.FAILED, message, cause);
    }
  }

  /** Answers a challenge: fetches a bearer token for {@code scope}, or sets Basic credentials. */
  private void authenticate(String challenge, String scope) {
    String scheme = challenge.trim().split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
    Map<String, String> params = new LinkedHashMap<>();
    Matcher m = PARAM.matcher(challenge);
    while (m.find()) {
      params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
    }
    if (scheme.equals("basic")) {
      if (credentials == null) {
        throw LabenvException.failed(host + ": authentication required (Basic) and no credentials: labenv login "
            + host);
      }
      authorization.put("", credentials.header());
      return;
    }
    if (!scheme.equals("bearer") || !params.containsKey("realm")) {
      throw LabenvException.failed(host + ": unsupported authentication challenge \"" + challenge + "\"");
    }
    StringBuilder url = new StringBuilder(params.get("realm"));
    url.append(url.indexOf("?") < 0 ? '?' : '&');
    if (params.containsKey("service")) {
      url.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8)).append('&');
    }
    String wanted = scope.isEmpty() ? params.get("scope") : scope;
    if (wanted != null) {
      url.append("scope=").append(URLEncoder.encode(wanted, StandardCharsets.UTF_8));
    }
    URI realm = URI.create(url.toString());
    try {
      java.net.HttpURLConnection c = (java.net.HttpURLConnection) realm.toURL().openConnection();
      if (c instanceof javax.net.ssl.HttpsURLConnection https) {
        https.setSSLSocketFactory(tls().getSocketFactory());
      }
      c.setConnectTimeout(10_000);
      c.setReadTimeout((int) TIMEOUT.toMillis());
      if (credentials != null) {
        c.setRequestProperty("Authorization", credentials.header());
      }
      int status = c.getResponseCode();
      if (status == 401 || status == 403) {
        throw LabenvException.failed(host + ": the token service refused "
            + (credentials == null ? "an anonymous request (labenv login " + host + ")" : credentials));
      }
      if (status != 200) {
        throw LabenvException.failed(host + ": token service " + params.get("realm") + " answered " + status);
      }
      JsonNode n;
      try (InputStream in = c.getInputStream()) {
        n = Json.mapper().readTree(in.readNBytes(1 << 20));
      }
      String token = n == null ? null : n.hasNonNull("token") ? n.get("token").asText()
          : n.hasNonNull("access_token") ? n.get("access_token").asText() : null;
      if (token == null || token.isEmpty()) {
        throw LabenvException.failed(host + ": token service " + params.get("realm") + " gave no token");
      }
      authorization.put(scope, "Bearer " + token);
    } catch (IOException e) {
      throw LabenvException.failed(host + ": token service " + params.get("realm") + ": " + e.getMessage(), e);
    }
  }

  /** The registry's error ({@code {"errors":[{"code","message"}]}}) as one line, or "". */
  public static String errorText(Response r) {
    try {
      byte[] b = r.body(64 << 10);
      JsonNode n = Json.mapper().readTree(b);
      if (n != null && n.has("errors") && n.get("errors").isArray() && !n.get("errors").isEmpty()) {
        JsonNode e = n.get("errors").get(0);
        return (e.hasNonNull("code") ? e.get("code").asText() : "") + (e.hasNonNull("message") ? " "
            + e.get("message").asText() : "");
      }
      return "";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** The scope of a repository: {@code repository:NAME:pull} or {@code pull,push}. */
  public static String scope(String repository, boolean push) {
    return "repository:" + repository + ":" + (push ? "pull,push" : "pull");
  }

  static List<String> acceptManifests() {
    return List.of(labenv.image.MediaTypes.OCI_INDEX, labenv.image.MediaTypes.OCI_MANIFEST,
        labenv.image.MediaTypes.DOCKER_MANIFEST_LIST, labenv.image.MediaTypes.DOCKER_MANIFEST);
  }
}
