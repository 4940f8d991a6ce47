package labenv.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.channels.UnresolvedAddressException;
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
 * {@code Basic}, the credentials. HTTPS, trusting the JVM's CAs and the per-registry CA files of {@link Trust};
 * loopback hosts and registries named with {@code --insecure} are tried with HTTPS first and plain HTTP when they
 * do not speak TLS (as Docker treats insecure registries), and {@code --insecure} accepts any certificate.
 * Redirects (blob downloads from object storage) are followed by hand, without the Authorization
 * header when they leave the registry's host.
 */
public final class Registry {
  private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String host;
  /** https://HOST, or http://HOST once a registry that may fall back has shown it does not speak TLS. */
  private volatile URI base;
  private final boolean mayFallBack;
  private final Path labenvConfig;
  private final Credentials.Basic credentials;
  private final HttpClient http;
  /** Authorization header values by scope ("" for Basic, which has none). */
  private final Map<String, String> authorization = new ConcurrentHashMap<>();

  private Registry(String host, URI base, boolean mayFallBack, Path labenvConfig, Credentials.Basic credentials,
      HttpClient http) {
    this.host = host;
    this.base = base;
    this.mayFallBack = mayFallBack;
    this.labenvConfig = labenvConfig;
    this.credentials = credentials;
    this.http = http;
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
    if (insecure) {
      // The JDK's client checks host names apart from the trust manager; --insecure means neither is checked.
      System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
    }
    HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1)
        .sslContext(Trust.context(Trust.certificateFolders(labenvConfig, host), insecure)).build();
    return new Registry(host, URI.create("https://" + endpoint), insecure || isLoopback(endpoint), labenvConfig,
        credentials, http);
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
  public record Response(int status, HttpResponse<InputStream> raw) implements AutoCloseable {
    public String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    public byte[] body(long max) throws IOException {
      try (InputStream in = raw.body()) {
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
        raw.body().close();
      } catch (IOException e) {
        // nothing to do
      }
    }
  }

  /**
   * Sends a request for {@code path} (below the host, starting with /v2/) or an absolute URL (an upload's
   * Location), authenticated for {@code scope}; follows redirects. Throws a one-line failure for a host that
   * cannot be reached, and for 401/403 after authenticating.
   */
  public Response send(String method, String path, String scope, Map<String, String> headers,
      HttpRequest.BodyPublisher body) {
    URI uri = path.startsWith("http://") || path.startsWith("https://") ? URI.create(path) : base.resolve(path);
    for (int attempt = 0; attempt < 2; attempt++) {
      Response r = exchange(method, uri, scope, headers, body, 0);
      if (r.status() != 401 || attempt == 1) {
        if (r.status() == 401 || r.status() == 403) {
          String detail = errorText(r);
          throw LabenvException.failed(host + ": " + (r.status() == 401 ? "authentication required" : "access denied")
              + " for " + what(method, uri) + " (" + (credentials == null ? "no credentials: labenv login " + host
              : "tried " + credentials) + ")" + (detail.isEmpty() ? "" : ": " + detail));
        }
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

  private Response exchange(String method, URI uri, String scope, Map<String, String> headers,
      HttpRequest.BodyPublisher body, int redirects) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
    headers.forEach(b::header);
    String auth = authorization.get(scope);
    if (auth == null) {
      auth = authorization.get("");
    }
    if (auth != null && sameHost(uri)) {
      b.header("Authorization", auth);
    }
    HttpResponse<InputStream> raw;
    try {
      raw = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (javax.net.ssl.SSLException e) {
      if (Trust.untrusted(e)) {
        throw LabenvException.failed("registry " + host + ": its TLS certificate is not trusted (" + e.getMessage()
            + "): put its CA certificate in " + Trust.certificateFolders(labenvConfig, host).get(0).resolve("ca.crt")
            + ", or use --insecure", e);
      }
      if (mayFallBack && "https".equals(uri.getScheme()) && sameHost(uri)) {
        // A loopback or --insecure registry that does not speak TLS: plain HTTP from now on.
        base = URI.create("http://" + base.getRawAuthority());
        URI plain = URI.create("http://" + uri.toString().substring("https://".length()));
        return exchange(method, plain, scope, headers, body, redirects);
      }
      throw LabenvException.failed("registry " + host + ": TLS failed: " + e.getMessage()
          + (mayFallBack ? "" : " (a registry without TLS needs --insecure)"), e);
    } catch (ConnectException e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof UnresolvedAddressException || c instanceof java.net.UnknownHostException) {
          throw LabenvException.failed("unknown registry host " + uri.getHost() + " (no such name)", e);
        }
      }
      throw new Unreachable("cannot connect to registry " + host + " (" + uri.getScheme() + "://"
          + uri.getAuthority() + "): connection refused", e);
    } catch (HttpConnectTimeoutException e) {
      throw LabenvException.failed("cannot connect to registry " + host + ": timed out", e);
    } catch (IOException e) {
      if (e.getCause() instanceof UnresolvedAddressException || e instanceof java.net.UnknownHostException) {
        throw LabenvException.failed("unknown registry host " + uri.getHost(), e);
      }
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      // "received no bytes": the connection closed before an answer (a registry killed mid-request), worth a retry
      if (!msg.contains("received no bytes") && (msg.contains("HTTP/1.1 header parser") || msg.contains("Invalid")
          || msg.contains("unexpected content"))) {
        throw LabenvException.failed("registry " + host + " answered something that is not HTTP: " + msg, e);
      }
      throw new Transient(host + ": " + what(method, uri) + ": " + msg, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed(host + ": interrupted", e);
    }
    int status = raw.statusCode();
    if (status >= 300 && status < 400 && status != 304 && raw.headers().firstValue("Location").isPresent()) {
      try {
        raw.body().close();
      } catch (IOException e) {
        // ignore
      }
      if (redirects >= 5) {
        throw LabenvException.failed(host + ": too many redirects for " + what(method, uri));
      }
      URI next = uri.resolve(raw.headers().firstValue("Location").get());
      return exchange(method, next, scope, headers, body, redirects + 1);
    }
    return new Response(status, raw);
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
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.toString())).timeout(TIMEOUT).GET();
    if (credentials != null) {
      b.header("Authorization", credentials.header());
    }
    try {
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 401 || r.statusCode() == 403) {
        throw LabenvException.failed(host + ": the token service refused "
            + (credentials == null ? "an anonymous request (labenv login " + host + ")" : credentials));
      }
      if (r.statusCode() != 200) {
        throw LabenvException.failed(host + ": token service " + params.get("realm") + " answered " + r.statusCode());
      }
      JsonNode n = Json.mapper().readTree(r.body());
      String token = n == null ? null : n.hasNonNull("token") ? n.get("token").asText()
          : n.hasNonNull("access_token") ? n.get("access_token").asText() : null;
      if (token == null || token.isEmpty()) {
        throw LabenvException.failed(host + ": token service " + params.get("realm") + " gave no token");
      }
      authorization.put(scope, "Bearer " + token);
    } catch (IOException e) {
      throw LabenvException.failed(host + ": token service " + params.get("realm") + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed(host + ": interrupted", e);
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
