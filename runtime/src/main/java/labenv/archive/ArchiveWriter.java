package labenv.archive;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageIndex;
import labenv.image.ImageReference;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import labenv.layer.Decompression;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;

/** Writes oci-archives and docker-archives of images in the store. */
final class ArchiveWriter {
  /** One image asked for: what it resolved to and, when asked for by name, that name. */
  record Request(Descriptor descriptor, ImageReference name) {}

  /** One element of a docker-archive's manifest.json, fields in Docker's order. */
  record DockerImage(
      @JsonProperty("Config") String config,
      @JsonProperty("RepoTags") List<String> repoTags,
      @JsonProperty("Layers") List<String> layers) {}

  private static final byte[] OCI_LAYOUT = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(
      java.nio.charset.StandardCharsets.UTF_8);

  private final ImageStore images;
  private final ContentStore store;
  private final Path out;

  ArchiveWriter(ImageStore images, Path out) {
    this.images = images;
    this.store = images.content();
    this.out = out;
  }

  /**
   * Resolves each reference. It counts as a name when the store knows it as a name for that
   * image; a digest or an ID prefix saves the image without one.
   */
  static List<Request> requests(ImageStore images, List<String> refs) {
    if (refs.isEmpty()) {
      throw LabenvException.badInput("no images to save");
    }
    List<Request> out = new ArrayList<>();
    for (String ref : refs) {
      Descriptor d = images.resolve(ref);
      ImageReference name = null;
      if (ImageReference.isValid(ref)) {
        ImageReference r = ImageReference.parse(ref);
        String familiar = r.familiarName();
        boolean named = r.digest() == null && images.content().index().manifests().stream()
            .anyMatch(m -> familiar.equals(m.annotation(ImageStore.REF_NAME)) && m.digest().equals(d.digest()));
        name = named ? r : null;
      }
      Request req = new Request(d, name);
      if (!out.contains(req)) {
        out.add(req);
      }
    }
    return out;
  }

  List<Descriptor> write(List<Request> requests, Archives.Format format, labenv.Progress progress)
      throws IOException {
    try (OutputStream file = labenv.Progress.counting(new BufferedOutputStream(Files.newOutputStream(out,
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 256 * 1024), progress);
         OuterTar tar = new OuterTar(file)) {
      List<Descriptor> written = format == Archives.Format.OCI ? writeOci(tar, requests) : writeDocker(tar, requests);
      tar.finish();
      return written;
    }
  }

  // --- oci-archive

  private List<Descriptor> writeOci(OuterTar tar, List<Request> requests) throws IOException {
    TreeMap<Digest, Long> blobs = new TreeMap<>();
    List<Descriptor> top = new ArrayList<>();
    List<Descriptor> written = new ArrayList<>();
    for (Request r : requests) {
      collect(r.descriptor(), blobs, true);
      // An artifact (a dataset) keeps its artifactType in index.json, so a load tells it from an image.
      Descriptor d = new Descriptor(r.descriptor().mediaType(), r.descriptor().digest(), r.descriptor().size(), null,
          null, r.descriptor().platform(), r.descriptor().artifactType());
      if (r.name() != null) {
        Map<String, String> a = new TreeMap<>();
        a.put(OciGraph.CONTAINERD_NAME, r.name().toString());
        a.put(OciGraph.REF_NAME, r.name().tag());
        d = d.withAnnotations(a);
      }
      top.add(d);
      written.add(r.descriptor());
    }
    // Entries in name order: blobs/, blobs/sha256/, the blobs by digest, index.json, oci-layout.
    tar.directory("blobs");
    tar.directory("blobs/sha256");
    for (Map.Entry<Digest, Long> b : blobs.entrySet()) {
      try (InputStream in = store.open(b.getKey())) {
        tar.file("blobs/sha256/" + b.getKey().hex(), b.getValue(), in);
      }
    }
    ImageIndex index = new ImageIndex(2, MediaTypes.OCI_INDEX, null, top, null, null);
    tar.file("index.json", Json.canonical(index));
    tar.file("oci-layout", OCI_LAYOUT);
    return written;
  }

  /** Adds {@code d} and everything below it; an index keeps only the platforms the store has. */
  private void collect(Descriptor d, Map<Digest, Long> blobs, boolean top) {
    String what = (MediaTypes.isIndex(d.mediaType()) ? "index " : "manifest ") + d.digest();
    if (!store.has(d.digest())) {
      if (top) {
        throw LabenvException.failed(what + " is not in the store");
      }
      return;
    }
    blobs.put(d.digest(), d.size());
    if (MediaTypes.isIndex(d.mediaType())) {
      ImageIndex index = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), ImageIndex.class, what);
      for (Descriptor m : index.manifests()) {
        collect(m, blobs, false);
      }
      return;
    }
    if (!MediaTypes.isManifest(d.mediaType())) {
      throw LabenvException.badInput(what + ": unknown media type \"" + d.mediaType() + "\"");
    }
    Manifest m = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), Manifest.class, what);
    List<Descriptor> children = new ArrayList<>();
    children.add(m.config());
    children.addAll(m.layers());
    for (Descriptor c : children) {
      if (!store.has(c.digest())) {
        throw LabenvException.failed(what + ": blob " + c.digest() + " is not in the store");
      }
      blobs.put(c.digest(), c.size());
    }
  }

  // --- docker-archive

  /** One image of the archive, by config digest (the image ID). */
  private static final class DockerEntry {
    final Image image;
    final List<String> repoTags = new ArrayList<>();

    DockerEntry(Image image) {
      this.image = image;
    }
  }

  private List<Descriptor> writeDocker(OuterTar tar, List<Request> requests) throws IOException {
    Map<Digest, DockerEntry> byConfig = new LinkedHashMap<>();
    List<Descriptor> written = new ArrayList<>();
    for (Request r : requests) {
      Image image = images.image(r.descriptor(), Platform.host());
      DockerEntry e = byConfig.computeIfAbsent(image.manifest().config().digest(), k -> new DockerEntry(image));
      // Fully qualified, as podman writes them: podman reads a name without a registry as
      // localhost/..., while Docker reads either form the same.
      if (r.name() != null && !e.repoTags.contains(r.name().toString())) {
        e.repoTags.add(r.name().toString());
      }
      written.add(image.descriptor());
    }
    // What goes in, by entry name so that the archive comes out sorted.
    TreeMap<String, Object> entries = new TreeMap<>();
    List<DockerImage> manifest = new ArrayList<>();
    Map<String, Map<String, String>> repositories = new TreeMap<>();
    for (DockerEntry e : byConfig.values()) {
      Image image = e.image;
      List<Digest> diffIds = image.config().diffIds();
      List<Descriptor> layers = image.manifest().layers();
      if (diffIds.size() != layers.size()) {
        throw LabenvException.failed("config " + image.manifest().config().digest() + ": " + diffIds.size()
            + " diff_ids for " + layers.size() + " layers");
      }
      String configName = image.manifest().config().digest().hex() + ".json";
      entries.put(configName, image.rawConfig());
      List<String> layerNames = new ArrayList<>();
      for (int i = 0; i < layers.size(); i++) {
        String dir = diffIds.get(i).hex();
        entries.put(dir + "/", null);
        entries.put(dir + "/layer.tar", new LayerSource(layers.get(i), diffIds.get(i)));
        layerNames.add(dir + "/layer.tar");
      }
      manifest.add(new DockerImage(configName, e.repoTags, layerNames));
      for (String tag : e.repoTags) {
        ImageReference r = ImageReference.parse(tag);
        if (!layers.isEmpty()) {
          repositories.computeIfAbsent(r.familiarRepository(), k -> new TreeMap<>())
              .put(r.tag(), diffIds.get(diffIds.size() - 1).hex());
        }
      }
    }
    entries.put("manifest.json", Json.canonical(manifest));
    if (!repositories.isEmpty()) {
      entries.put("repositories", Json.canonical(repositories));
    }
    for (Map.Entry<String, Object> en : entries.entrySet()) {
      Object v = en.getValue();
      if (v == null) {
        tar.directory(en.getKey());
      } else if (v instanceof byte[] bytes) {
        tar.file(en.getKey(), bytes);
      } else {
        writeLayer(tar, en.getKey(), (LayerSource) v);
      }
    }
    return written;
  }

  private record LayerSource(Descriptor blob, Digest diffId) {}

  /**
   * docker-archive layers are plain tars. A compressed layer is decompressed to a temporary file
   * first, since its tar header needs the size, and checked against its diff_id on the way.
   */
  private void writeLayer(OuterTar tar, String name, LayerSource layer) throws IOException {
    Descriptor blob = layer.blob();
    if (OciGraph.isUncompressed(blob.mediaType())) {
      if (!blob.digest().equals(layer.diffId())) {
        throw LabenvException.failed("layer " + blob.digest() + ": uncompressed but not its diff_id "
            + layer.diffId());
      }
      try (InputStream in = store.open(blob)) {
        tar.file(name, blob.size(), in);
      }
      return;
    }
    Path temp = out.resolveSibling(out.getFileName() + "-layer");
    try {
      MessageDigest sha = Digest.newSha256();
      try (InputStream in = store.open(blob);
           InputStream plain = Decompression.open(in);
           OutputStream t = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(temp,
               StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 256 * 1024), sha)) {
        plain.transferTo(t);
        // Drain, so that the store's verifying stream sees the whole blob.
        in.transferTo(OutputStream.nullOutputStream());
      } catch (LabenvException e) {
        // A stored blob that does not decompress is a damaged store, not bad input.
        throw new LabenvException(LabenvException.Kind.FAILED, "layer " + blob.digest() + ": " + e.getMessage(), e);
      }
      Digest got = Digest.sha256(sha.digest());
      if (!got.equals(layer.diffId())) {
        throw LabenvException.failed("layer " + blob.digest() + ": decompresses to " + got + ", not its diff_id "
            + layer.diffId());
      }
      try (InputStream in = new BufferedInputStream(Files.newInputStream(temp), 256 * 1024)) {
        tar.file(name, Files.size(temp), in);
      }
    } finally {
      Staging.deleteQuietly(temp);
    }
  }
}
