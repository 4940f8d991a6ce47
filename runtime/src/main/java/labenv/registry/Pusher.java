package labenv.registry;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.ImageIndex;
import labenv.image.ImageReference;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.store.ContentStore;
import labenv.store.StoreLock;

/**
 * {@code labenv push}: a manifest (an image, or a dataset version: both are OCI manifests) and
 * everything it references, from the store to a registry. Blobs the repository has already are
 * skipped (HEAD); those another repository of the same registry is known to hold (pulled from or
 * pushed to it, {@link BlobSources}) are mounted from it, not uploaded; the others are uploaded in
 * parallel, small ones in one request (POST then PUT with the digest), large ones in chunks (PATCH
 * with Content-Range, then PUT). When the connection drops or the registry restarts mid-upload, a
 * chunked upload asks the registry how much it has (GET on the upload's URL, its {@code Range})
 * and goes on from there; a monolithic one starts again; both with backoff. The manifest goes last,
 * so the registry never names an incomplete image, and the digest it announces is checked.
 */
public final class Pusher {
  /**
   * Blobs at most this large go in one streamed request (the fast path: an 80 MB layer in 0.3 s on loopback); larger
   * ones in chunks of this size, which a dropped connection resumes from (PATCH, through the JDK's slower HttpClient).
   */
  public static final long DEFAULT_CHUNK = 256L << 20;

  private final ContentStore store;
  private final Credentials credentials;
  private final boolean insecure;
  private final Progress progress;
  private final java.util.concurrent.atomic.AtomicInteger resumed = new java.util.concurrent.atomic.AtomicInteger();
  private long chunk = DEFAULT_CHUNK;

  public Pusher(ContentStore store, Credentials credentials, boolean insecure, Progress progress) {
    this.store = store;
    this.credentials = credentials;
    this.insecure = insecure;
    this.progress = Puller.threadSafe(progress);
  }

  /**
   * {@code blobsSkipped}: the repository had them; {@code blobsMounted}: mounted from another repository of the
   * registry; {@code bytesPushed}: what was uploaded (resumed uploads count each byte once); {@code uploadsResumed}:
   * chunked uploads that went on from where the registry had them after a dropped connection or a restart.
   */
  /**
   * Uploads blobs larger than {@code bytes} in chunks of that size ({@code labenv push --chunk-size}: registries
   * behind a proxy that limits request bodies, or resumable uploads of smaller blobs).
   */
  public Pusher withChunkSize(long bytes) {
    if (bytes < (1 << 20)) {
      throw LabenvException.badInput("--chunk-size " + bytes + ": at least 1m");
    }
    this.chunk = bytes;
    return this;
  }

  /** {@code N[k|m|g]} (1024-based) as bytes; bad input otherwise. */
  public static long parseSize(String value) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,12})([kmg]?)b?")
        .matcher(value.toLowerCase(java.util.Locale.ROOT));
    if (!m.matches()) {
      throw LabenvException.badInput("--chunk-size \"" + value + "\": expected a number with an optional unit k, m or g");
    }
    int shift = switch (m.group(2)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      default -> 0;
    };
    return Long.parseLong(m.group(1)) << shift;
  }

  public record Result(String reference, Descriptor manifest, int blobsPushed, int blobsSkipped, int blobsMounted,
      long bytesPushed, int uploadsResumed) {}

  /** Pushes {@code manifest} (a manifest or an index in the store) as {@code target}. */
  public Result push(Descriptor manifest, String target) {
    ImageReference ref = ImageReference.parse(target);
    if (ref.digest() != null) {
      throw LabenvException.badInput("push " + target + ": push to a tag, not a digest (the digest is the manifest's)");
    }
    Registry registry = Registry.connect(ref.registry(), credentials, insecure);
    String repo = ref.path();
    String scope = Registry.scope(repo, true);
    try (StoreLock gc = store.lockShared()) {
      List<Descriptor> manifests = new ArrayList<>();
      List<Descriptor> blobs = new ArrayList<>();
      collect(manifest, manifests, blobs);
      BlobSources sources = new BlobSources(store);
      List<Descriptor> missing = new ArrayList<>();
      int mounted = 0;
      for (Descriptor b : blobs) {
        if (exists(registry, repo, scope, b)) {
          continue;
        }
        if (mount(registry, repo, b, sources.repositories(b.digest(), registry.host(), repo))) {
          mounted++;
        } else {
          missing.add(b);
        }
      }
      long total = missing.stream().mapToLong(Descriptor::size).sum();
      progress.start("push " + ref.familiarName(), total);
      try {
        uploadAll(registry, repo, scope, missing);
      } finally {
        progress.done();
      }
      // children of an index first, the named one last
      for (Descriptor m : manifests) {
        putManifest(registry, repo, scope, m, m == manifest ? ref.tag() : m.digest().toString());
      }
      blobs.forEach(b -> sources.record(b.digest(), registry.host(), repo));
      return new Result(ref.familiarName(), manifest, missing.size(), blobs.size() - missing.size() - mounted, mounted,
          total, resumed.get());
    }
  }

  /** The manifests (children before their index) and distinct blobs {@code d} needs. */
  private void collect(Descriptor d, List<Descriptor> manifests, List<Descriptor> blobs) {
    if (MediaTypes.isIndex(d.mediaType())) {
      ImageIndex index = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), ImageIndex.class, "index " + d.digest());
      for (Descriptor child : index.manifests()) {
        collect(child, manifests, blobs);
      }
    } else {
      Manifest m = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), Manifest.class, "manifest " + d.digest());
      List<Descriptor> all = new ArrayList<>();
      all.add(m.config());
      all.addAll(m.layers());
      for (Descriptor b : all) {
        if (blobs.stream().noneMatch(x -> x.digest().equals(b.digest()))) {
          if (!store.has(b.digest())) {
            throw LabenvException.failed("manifest " + d.digest() + ": blob " + b.digest() + " is not in the store "
                + "(a partial image cannot be pushed)");
          }
          blobs.add(b);
        }
      }
    }
    manifests.add(d);
  }

  private boolean exists(Registry registry, String repo, String scope, Descriptor b) {
    try (Registry.Response r = registry.send("HEAD", "/v2/" + repo + "/blobs/" + b.digest(), scope, Map.of(), null)) {
      return r.status() == 200;
    }
  }

  private void uploadAll(Registry registry, String repo, String scope, List<Descriptor> blobs) {
    Puller.parallel("push", blobs, b -> upload(registry, repo, scope, b));
  }

  /**
   * Asks the registry to mount {@code b} into {@code repo} from one of {@code from} (a cross-repository blob
   * mount): true when it did (201). A registry that cannot (no access to the source, mounts disabled) answers
   * 202 with a fresh upload session, which is cancelled: the blob is then uploaded as usual.
   */
  private boolean mount(Registry registry, String repo, Descriptor b, List<String> from) {
    for (String source : from) {
      // The token must allow pulling from the source too, as Docker asks for both scopes.
      String scope = Registry.scope(repo, true) + " " + Registry.scope(source, false);
      String path = "/v2/" + repo + "/blobs/uploads/?mount=" + b.digest() + "&from="
          + java.net.URLEncoder.encode(source, java.nio.charset.StandardCharsets.UTF_8);
      try (Registry.Response r = registry.send("POST", path, scope, Map.of(), null)) {
        if (r.status() == 201) {
          return true;
        }
        if (r.status() == 202 && r.header("Location") != null) {
          cancel(registry, scope, r.header("Location"));
        }
      } catch (LabenvException e) {
        // No right to read the source (401/403) or any other refusal: upload it instead.
      }
    }
    return false;
  }

  private static void cancel(Registry registry, String scope, String location) {
    try (Registry.Response r = registry.send("DELETE", location, scope, Map.of(), null)) {
      // 204, or 404 when the registry dropped the session already: either way it is gone
    } catch (LabenvException e) {
      // an abandoned session expires on the registry's side
    }
  }

  /**
   * One blob. A chunked upload whose connection drops goes on from what the registry says it has (a registry
   * restarted mid-upload keeps the session when its http.secret is fixed); a monolithic one, or a chunked one
   * whose session is gone, starts a new session. Progress counts each byte once.
   */
  private void upload(Registry registry, String repo, String scope, Descriptor b) {
    LabenvException last = null;
    long[] reported = {0};
    // The session's latest Location: each PATCH answers a new one (distribution signs the offset into it).
    String[] location = {null};
    for (int attempt = 0; attempt < Puller.ATTEMPTS; attempt++) {
      if (attempt > 0) {
        Puller.sleep(500L << (attempt - 1));
      }
      try {
        if (b.size() <= chunk) {
          String session = start(registry, repo, scope, b);
          finish(registry, scope, session, b, new Registry.Body(() -> store.open(b), b.size()));
          report(reported, b.size());
        } else {
          long from = 0;
          if (location[0] != null) {
            from = uploaded(registry, scope, location[0]);
            if (from < 0) {
              location[0] = null;
            } else if (from > 0) {
              resumed.incrementAndGet();
            }
          }
          if (location[0] == null) {
            location[0] = start(registry, repo, scope, b);
            from = 0;
          }
          chunks(registry, scope, location, b, from, reported);
          finish(registry, scope, location[0], b, null);
        }
        return;
      } catch (Registry.Transient | Registry.Unreachable e) {
        last = e;
      } catch (IOException e) {
        last = new Registry.Transient("blob " + b.digest() + ": " + e.getMessage(), e);
      }
    }
    throw LabenvException.failed("blob " + b.digest() + ": gave up after " + Puller.ATTEMPTS + " attempts: "
        + last.getMessage(), last);
  }

  /**
   * Sends {@code b} from byte {@code from} in chunks, keeping {@code location[0]} the session's latest. Each chunk is
   * streamed from the store, never held in memory.
   */
  private void chunks(Registry registry, String scope, String[] location, Descriptor b, long from, long[] reported)
      throws IOException {
    try (InputStream in = store.open(b)) {
      in.skipNBytes(from);
      long sent = from;
      while (sent < b.size()) {
        long n = Math.min(chunk, b.size() - sent);
        InputStream part = new Part(in, n);
        try (Registry.Response r = registry.send("PATCH", location[0], scope, Map.of("Content-Type",
            "application/octet-stream", "Content-Range", sent + "-" + (sent + n - 1)),
            new Registry.Body(() -> part, n))) {
          if (r.status() != 202) {
            throw LabenvException.failed("blob " + b.digest() + ": chunk at " + sent + ": " + registry.host()
                + " answered " + r.status() + ": " + Registry.errorText(r));
          }
          if (r.header("Location") != null) {
            location[0] = r.header("Location");
          }
        }
        sent += n;
        report(reported, sent);
      }
    }
  }

  /** The next {@code left} bytes of a stream, which closing this leaves open. */
  private static final class Part extends java.io.FilterInputStream {
    private long left;

    Part(InputStream in, long left) {
      super(in);
      this.left = left;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int c = in.read();
      if (c >= 0) {
        left--;
      }
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }

    @Override
    public void close() {
      // the whole blob's stream is closed by its owner
    }
  }

  /**
   * How many bytes the upload session at {@code location} holds (its {@code Range: 0-LAST}), or -1 when the
   * registry no longer knows the session.
   */
  private static long uploaded(Registry registry, String scope, String location) {
    try (Registry.Response r = registry.send("GET", location, scope, Map.of(), null)) {
      String range = r.header("Range");
      if (r.status() != 204 || range == null) {
        return -1;
      }
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:bytes=)?0-(\\d+)").matcher(range.trim());
      return m.matches() ? Long.parseLong(m.group(1)) + 1 : -1;
    }
  }

  /** Advances progress to {@code upTo} bytes of this blob, never counting a byte twice. */
  private void report(long[] reported, long upTo) {
    if (upTo > reported[0]) {
      progress.advance(upTo - reported[0]);
      reported[0] = upTo;
    }
  }

  private String start(Registry registry, String repo, String scope, Descriptor b) {
    try (Registry.Response r = registry.send("POST", "/v2/" + repo + "/blobs/uploads/", scope, Map.of(),
        null)) {
      if (r.status() != 202 || r.header("Location") == null) {
        throw LabenvException.failed("blob " + b.digest() + ": " + registry.host() + " refused an upload ("
            + r.status() + "): " + Registry.errorText(r));
      }
      return r.header("Location");
    }
  }

  /** Closes an upload with its digest; {@code body}: the whole blob (monolithic), or null after PATCHes. */
  private void finish(Registry registry, String scope, String location, Descriptor b, Registry.Body body) {
    String url = location + (location.contains("?") ? "&" : "?") + "digest="
        + java.net.URLEncoder.encode(b.digest().toString(), java.nio.charset.StandardCharsets.UTF_8);
    try (Registry.Response r = registry.send("PUT", url, scope, Map.of("Content-Type", "application/octet-stream"),
        body)) {
      if (r.status() != 201) {
        throw LabenvException.failed("blob " + b.digest() + ": " + registry.host() + " did not accept it ("
            + r.status() + "): " + Registry.errorText(r));
      }
    }
  }

  private void putManifest(Registry registry, String repo, String scope, Descriptor m, String reference) {
    byte[] bytes = store.read(m, ContentStore.MAX_JSON_BYTES);
    try (Registry.Response r = registry.send("PUT", "/v2/" + repo + "/manifests/" + reference, scope,
        Map.of("Content-Type", m.mediaType()), Registry.Body.of(bytes))) {
      if (r.status() != 201 && r.status() != 200) {
        throw LabenvException.failed("manifest " + m.digest() + ": " + registry.host() + " did not accept it ("
            + r.status() + "): " + Registry.errorText(r));
      }
      String announced = r.header("Docker-Content-Digest");
      if (announced != null && !announced.equals(m.digest().toString())) {
        throw LabenvException.failed("manifest " + m.digest() + ": " + registry.host() + " stored it as " + announced);
      }
    }
  }
}
