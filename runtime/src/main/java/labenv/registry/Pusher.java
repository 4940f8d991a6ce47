package labenv.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
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
 * skipped (HEAD); the others are uploaded in parallel, small ones in one request (POST then PUT
 * with the digest), large ones in chunks (PATCH with Content-Range, then PUT), each retried with
 * backoff from its start when the connection drops; the manifest goes last, so the registry never
 * names an incomplete image, and the digest it announces is checked.
 */
public final class Pusher {
  /** Blobs at most this large go in one request; larger ones in chunks of this size. */
  static final long CHUNK = 32L << 20;

  private final ContentStore store;
  private final Credentials credentials;
  private final boolean insecure;
  private final Progress progress;

  public Pusher(ContentStore store, Credentials credentials, boolean insecure, Progress progress) {
    this.store = store;
    this.credentials = credentials;
    this.insecure = insecure;
    this.progress = Puller.threadSafe(progress);
  }

  public record Result(String reference, Descriptor manifest, int blobsPushed, int blobsSkipped, long bytesPushed) {}

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
      List<Descriptor> missing = new ArrayList<>();
      for (Descriptor b : blobs) {
        if (!exists(registry, repo, scope, b)) {
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
      return new Result(ref.familiarName(), manifest, missing.size(), blobs.size() - missing.size(), total);
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

  /** One blob, retried from its start (a new upload session) when the connection drops. */
  private void upload(Registry registry, String repo, String scope, Descriptor b) {
    LabenvException last = null;
    for (int attempt = 0; attempt < Puller.ATTEMPTS; attempt++) {
      if (attempt > 0) {
        Puller.sleep(500L << (attempt - 1));
      }
      long sent = 0;
      try {
        String location = start(registry, repo, scope, b);
        if (b.size() <= CHUNK) {
          finish(registry, scope, location, b, HttpRequest.BodyPublishers.ofInputStream(() -> store.open(b)), b.size());
          sent = b.size();
        } else {
          try (InputStream in = store.open(b)) {
            byte[] buf = new byte[(int) CHUNK];
            while (sent < b.size()) {
              int n = in.readNBytes(buf, 0, (int) Math.min(CHUNK, b.size() - sent));
              try (Registry.Response r = registry.send("PATCH", location, scope, Map.of("Content-Type",
                  "application/octet-stream", "Content-Range", sent + "-" + (sent + n - 1)),
                  HttpRequest.BodyPublishers.ofByteArray(buf, 0, n))) {
                if (r.status() != 202) {
                  throw LabenvException.failed("blob " + b.digest() + ": chunk at " + sent + ": " + registry.host()
                      + " answered " + r.status() + ": " + Registry.errorText(r));
                }
                location = r.header("Location") == null ? location : r.header("Location");
              }
              sent += n;
              progress.advance(n);
            }
          }
          finish(registry, scope, location, b, HttpRequest.BodyPublishers.noBody(), 0);
        }
        if (b.size() <= CHUNK) {
          progress.advance(b.size());
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

  private String start(Registry registry, String repo, String scope, Descriptor b) {
    try (Registry.Response r = registry.send("POST", "/v2/" + repo + "/blobs/uploads/", scope, Map.of(),
        HttpRequest.BodyPublishers.noBody())) {
      if (r.status() != 202 || r.header("Location") == null) {
        throw LabenvException.failed("blob " + b.digest() + ": " + registry.host() + " refused an upload ("
            + r.status() + "): " + Registry.errorText(r));
      }
      return r.header("Location");
    }
  }

  private void finish(Registry registry, String scope, String location, Descriptor b, HttpRequest.BodyPublisher body,
      long length) {
    String url = location + (location.contains("?") ? "&" : "?") + "digest="
        + java.net.URLEncoder.encode(b.digest().toString(), java.nio.charset.StandardCharsets.UTF_8);
    try (Registry.Response r = registry.send("PUT", url, scope, Map.of("Content-Type", "application/octet-stream"),
        length > 0 ? HttpRequest.BodyPublishers.fromPublisher(body, length) : body)) {
      if (r.status() != 201) {
        throw LabenvException.failed("blob " + b.digest() + ": " + registry.host() + " did not accept it ("
            + r.status() + "): " + Registry.errorText(r));
      }
    }
  }

  private void putManifest(Registry registry, String repo, String scope, Descriptor m, String reference) {
    byte[] bytes = store.read(m, ContentStore.MAX_JSON_BYTES);
    try (Registry.Response r = registry.send("PUT", "/v2/" + repo + "/manifests/" + reference, scope,
        Map.of("Content-Type", m.mediaType()), HttpRequest.BodyPublishers.ofByteArray(bytes))) {
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
