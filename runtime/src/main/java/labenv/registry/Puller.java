package labenv.registry;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import labenv.LabenvException;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageIndex;
import labenv.image.ImageReference;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import labenv.store.BlobWriter;
import labenv.store.ContentStore;
import labenv.store.ImageStore;
import labenv.store.StoreLock;

/**
 * {@code labenv pull}: an image from a registry into the store. The manifest (for an index, the one of
 * the wanted platform) is checked against the digest asked for and the one the registry announces;
 * the config and the layers the store lacks are downloaded in parallel, each verified against its
 * digest as it is written, resumed from where it stopped when a connection drops; the manifest is
 * stored last, then named. A failure leaves no name and no half-written blob.
 */
public final class Puller {
  /** Downloads at once. */
  static final int PARALLEL = 4;
  /** Attempts per blob before giving up (with backoff 0.5, 1, 2, 4 s). */
  static final int ATTEMPTS = 5;

  private final ImageStore images;
  private final ContentStore store;
  private final Credentials credentials;
  private final boolean insecure;
  private final Progress progress;

  public Puller(ImageStore images, Credentials credentials, boolean insecure, Progress progress) {
    this.images = images;
    this.store = images.content();
    this.credentials = credentials;
    this.insecure = insecure;
    this.progress = threadSafe(progress);
  }

  /** {@code p} for several transfer threads at once. */
  static Progress threadSafe(Progress p) {
    return new Progress() {
      @Override
      public synchronized void start(String task, long totalBytes) {
        p.start(task, totalBytes);
      }

      @Override
      public synchronized void advance(long bytes) {
        p.advance(bytes);
      }

      @Override
      public synchronized void done() {
        p.done();
      }
    };
  }

  public record Result(String name, Descriptor manifest, Digest index, int blobsFetched, long bytesFetched) {}

  /** Pulls an image and names it as {@code reference} (unnamed when it names a digest only). */
  public Result pull(String reference, Platform platform) {
    Result r = fetch(reference, platform, null);
    ImageReference ref = ImageReference.parse(reference);
    try (StoreLock gc = store.lockShared()) {
      if (ref.tag() != null) {
        images.tag(r.manifest(), r.name());
      } else {
        images.keep(r.manifest());
      }
    }
    return r;
  }

  /**
   * Downloads the manifest {@code reference} names (for an index, {@code platform}'s) and every blob it needs into the
   * store, without naming it: the caller names what it is. {@code artifactType}: what the manifest must be (null: an
   * image); anything else is refused before a blob is downloaded.
   */
  public Result fetch(String reference, Platform platform, String artifactType) {
    ImageReference ref = ImageReference.parse(reference);
    Registry registry = Registry.connect(ref.registry(), credentials, insecure);
    String repo = ref.path();
    String scope = Registry.scope(repo, false);
    String wanted = ref.digest() != null ? ref.digest().toString() : ref.tag();
    Fetched top = manifest(registry, repo, scope, wanted, ref.digest(), ref.familiarName());
    Digest indexDigest = null;
    Fetched chosen = top;
    if (MediaTypes.isIndex(top.mediaType())) {
      ImageIndex index = Json.parse(top.bytes(), ImageIndex.class, ref.familiarName() + ": index");
      Descriptor d = ImageStore.selectPlatform(index.manifests(), platform);
      if (d == null) {
        List<String> have = new ArrayList<>();
        index.manifests().forEach(m -> have.add(m.platform() == null ? "?" : m.platform().toString()));
        throw LabenvException.failed(ref.familiarName() + ": no image for platform " + platform + " (the registry has "
            + String.join(", ", have) + ")");
      }
      indexDigest = top.digest();
      chosen = manifest(registry, repo, scope, d.digest().toString(), d.digest(), ref.familiarName());
    }
    if (!MediaTypes.isManifest(chosen.mediaType())) {
      throw LabenvException.failed(ref.familiarName() + ": media type \"" + chosen.mediaType()
          + "\" is not an image manifest labenv knows");
    }
    Manifest manifest = Json.parse(chosen.bytes(), Manifest.class, ref.familiarName() + ": manifest " + chosen.digest());
    if (manifest.config() == null || manifest.layers() == null) {
      throw LabenvException.failed(ref.familiarName() + ": manifest " + chosen.digest() + " has no config or layers");
    }
    String type = manifest.artifactType() == null || manifest.artifactType().isEmpty() ? null : manifest.artifactType();
    if (!java.util.Objects.equals(type, artifactType)) {
      throw LabenvException.failed(ref.familiarName() + ": " + (type == null ? "an image" : "an artifact of type "
          + type) + ", not " + (artifactType == null ? "an image" : "an artifact of type " + artifactType)
          + (type != null && type.startsWith("application/vnd.labenv.dataset") ? " (labenv dataset pull takes it)"
          : artifactType != null && type == null ? " (labenv pull takes it)" : "") + "; nothing was downloaded");
    }
    List<Descriptor> blobs = new ArrayList<>();
    blobs.add(manifest.config());
    blobs.addAll(manifest.layers());
    try (StoreLock gc = store.lockShared()) {
      List<Descriptor> missing = blobs.stream().filter(b -> !store.has(b.digest())).distinct().toList();
      long total = missing.stream().mapToLong(Descriptor::size).sum();
      progress.start("pull " + ref.familiarName(), total);
      try {
        fetchAll(registry, repo, scope, missing);
      } finally {
        progress.done();
      }
      BlobSources sources = new BlobSources(store);
      blobs.forEach(b -> sources.record(b.digest(), registry.host(), repo));
      Descriptor stored = store.put(chosen.mediaType(), chosen.bytes());
      Descriptor named = new Descriptor(chosen.mediaType(), stored.digest(), stored.size(), null, null, null,
          manifest.artifactType());
      String name = ref.tag() == null ? null : new ImageReference(ref.registry(), ref.path(), ref.tag(), null)
          .familiarName();
      return new Result(name, named, indexDigest, missing.size(), total);
    }
  }

  private record Fetched(String mediaType, byte[] bytes, Digest digest) {}

  private Fetched manifest(Registry registry, String repo, String scope, String reference, Digest expected,
      String what) {
    try (Registry.Response r = registry.send("GET", "/v2/" + repo + "/manifests/" + reference, scope,
        Map.of("Accept", String.join(", ", Registry.acceptManifests())), null)) {
      if (r.status() == 404) {
        String detail = Registry.errorText(r);
        throw LabenvException.failed(what + ": not found in " + registry.host() + (detail.isEmpty() ? ""
            : " (" + detail + ")"));
      }
      if (r.status() != 200) {
        throw LabenvException.failed(what + ": " + registry.host() + " answered " + r.status() + " for the manifest "
            + reference + ": " + Registry.errorText(r));
      }
      byte[] bytes = r.body(ContentStore.MAX_JSON_BYTES);
      Digest digest = Digest.of(bytes);
      if (expected != null && !expected.equals(digest)) {
        throw LabenvException.failed(what + ": the manifest " + registry.host() + " sent has digest " + digest
            + ", not " + expected);
      }
      String announced = r.header("Docker-Content-Digest");
      if (announced != null && announced.startsWith("sha256:") && !announced.equals(digest.toString())) {
        throw LabenvException.failed(what + ": the manifest's digest is " + digest + ", the registry says " + announced);
      }
      String type = r.header("Content-Type");
      String mediaType = type == null ? null : type.split(";")[0].trim();
      if (mediaType == null || mediaType.isEmpty() || mediaType.equals("application/json")) {
        try {
          com.fasterxml.jackson.databind.JsonNode n = Json.mapper().readTree(bytes);
          mediaType = n != null && n.hasNonNull("mediaType") ? n.get("mediaType").asText() : null;
        } catch (IOException e) {
          throw LabenvException.failed(what + ": " + registry.host() + " sent a manifest that is not JSON");
        }
      }
      return new Fetched(mediaType, bytes, digest);
    } catch (IOException e) {
      throw LabenvException.failed(what + ": reading the manifest from " + registry.host() + ": " + e.getMessage(), e);
    }
  }

  private void fetchAll(Registry registry, String repo, String scope, List<Descriptor> blobs) {
    parallel("pull", blobs, b -> fetch(registry, repo, scope, b));
  }

  /**
   * Runs {@code action} on each blob, {@link #PARALLEL} at once; the first failure stops the others and is thrown
   * (as it was, when it is labenv's).
   */
  static void parallel(String what, List<Descriptor> blobs, java.util.function.Consumer<Descriptor> action) {
    if (blobs.isEmpty()) {
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL, blobs.size()), r -> {
      Thread t = new Thread(r, what);
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> running = new ArrayList<>();
      for (Descriptor b : blobs) {
        running.add(pool.submit(() -> action.accept(b)));
      }
      for (Future<?> f : running) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          pool.shutdownNow();
          if (e.getCause() instanceof LabenvException le) {
            throw le;
          }
          throw LabenvException.failed(what + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw LabenvException.failed(what + ": interrupted", e);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * One blob into the store: streamed into a blob writer that hashes as it writes; when the connection
   * drops, asked again from the first byte not written ({@code Range}), so nothing is downloaded twice;
   * committed only when its size and digest are the descriptor's.
   */
  private void fetch(Registry registry, String repo, String scope, Descriptor blob) {
    String what = "blob " + blob.digest();
    try (BlobWriter w = store.writer()) {
      LabenvException last = null;
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt > 0) {
          sleep(500L << (attempt - 1));
        }
        long have = w.size();
        Map<String, String> headers = have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of();
        try (Registry.Response r = registry.send("GET", "/v2/" + repo + "/blobs/" + blob.digest(), scope, headers,
            null)) {
          if (r.status() == 404) {
            throw LabenvException.failed(what + ": not found in " + registry.host() + "/" + repo);
          }
          long skip = 0;
          if (r.status() == 200) {
            skip = have; // no range support: read past what is written
          } else if (r.status() != 206) {
            throw LabenvException.failed(what + ": " + registry.host() + " answered " + r.status() + ": "
                + Registry.errorText(r));
          }
          try (InputStream in = r.stream()) {
            in.skipNBytes(skip);
            // 1 MiB at a time: the blob is hashed as it is written, and SHA-256 is fast only on long runs.
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
              if (w.size() + n > blob.size()) {
                throw LabenvException.failed(what + ": " + registry.host() + " sent more than its " + blob.size()
                    + " bytes");
              }
              w.write(buf, 0, n);
              progress.advance(n);
            }
          }
          if (w.size() < blob.size()) {
            throw new Registry.Transient(what + ": the connection ended after " + w.size() + " of " + blob.size()
                + " bytes", null);
          }
          try {
            w.commit(blob.digest(), blob.size());
          } catch (labenv.store.DigestMismatchException | labenv.store.SizeMismatchException e) {
            throw LabenvException.failed(what + ": " + registry.host() + " sent bytes that are not that blob ("
                + e.getMessage() + "); nothing was stored", e);
          }
          return;
        } catch (Registry.Transient | Registry.Unreachable e) {
          last = e;
        } catch (IOException e) {
          last = new Registry.Transient(what + ": " + e.getMessage(), e);
        }
      }
      throw LabenvException.failed(what + ": gave up after " + ATTEMPTS + " attempts: " + last.getMessage(), last);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed("interrupted", e);
    }
  }
}
