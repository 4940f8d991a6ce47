package labenv.archive;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.ImageIndex;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;

/**
 * Checks an OCI image layout from its {@code index.json} down to every layer: each blob present,
 * of the size and digest its descriptor says, of a media type labenv knows, and each config's
 * diff_ids matching its manifest's layers. Collects the blobs a load has to publish.
 */
final class OciGraph {
  /** Manifests, indexes and configs are small; a bigger "JSON" blob is not what it claims. */
  static final long MAX_JSON = 16L << 20;
  private static final int MAX_DEPTH = 8;

  static final String REF_NAME = "org.opencontainers.image.ref.name";
  static final String CONTAINERD_NAME = "io.containerd.image.name";

  private final BlobSource source;
  private final Set<StagedBlob> needed = new LinkedHashSet<>();
  private final Set<Digest> checked = new HashSet<>();
  /** The artifactType of each artifact manifest checked (datasets), so index entries that omit it get it. */
  private final java.util.Map<Digest, String> artifactTypes = new java.util.HashMap<>();

  OciGraph(BlobSource source) {
    this.source = source;
  }

  /** The image a top-level descriptor of index.json stands for, and the names it carries. */
  record Entry(Descriptor descriptor, List<String> names) {}

  /** Every blob the checked images need, each once. */
  Set<StagedBlob> needed() {
    return needed;
  }

  List<Entry> check(StagedBlob indexFile) {
    StagedBlob layout = source.file("oci-layout");
    if (layout != null) {
      var node = Json.tree(Staging.read(layout, 4096, "oci-layout"), "oci-layout");
      String version = node.path("imageLayoutVersion").asText("");
      if (!version.startsWith("1.")) {
        throw new InvalidArchiveException("oci-layout: unsupported imageLayoutVersion \"" + version + "\"");
      }
    }
    ImageIndex index = Json.parse(Staging.read(indexFile, MAX_JSON, "index.json"), ImageIndex.class, "index.json");
    if (index.schemaVersion() != 2) {
      throw new InvalidArchiveException("index.json: schemaVersion " + index.schemaVersion() + " (want 2)");
    }
    List<Entry> entries = new ArrayList<>();
    for (Descriptor d : index.manifests()) {
      checkDescriptor(d, "index.json");
      child(d, "index.json", 0);
      String artifactType = artifactTypes.get(d.digest());
      if (artifactType != null && (d.artifactType() == null || d.artifactType().isEmpty())) {
        d = new Descriptor(d.mediaType(), d.digest(), d.size(), d.urls(), d.annotations(), d.platform(), artifactType);
      }
      entries.add(new Entry(d, ImageNames.fromAnnotations(d)));
    }
    return entries;
  }

  private void child(Descriptor d, String parent, int depth) {
    if (MediaTypes.isIndex(d.mediaType())) {
      index(d, parent, depth);
    } else if (MediaTypes.isManifest(d.mediaType())) {
      manifest(d, parent);
    } else {
      throw unknownMediaType(parent, "manifest", d);
    }
  }

  private void index(Descriptor d, String parent, int depth) {
    String what = "index " + d.digest();
    StagedBlob blob = present(d, "index", parent);
    if (!checked.add(d.digest())) {
      return;
    }
    if (depth >= MAX_DEPTH) {
      throw new InvalidArchiveException(what + ": indexes nested more than " + MAX_DEPTH + " deep");
    }
    ImageIndex index = Json.parse(Staging.read(blob, MAX_JSON, what), ImageIndex.class, what);
    checkSchema(what, index.schemaVersion(), index.mediaType(), d.mediaType());
    // Like the store, an index may lack whole platforms (Docker and podman save only what they
    // have), but every manifest that is there must be complete.
    boolean any = false;
    for (Descriptor m : index.manifests()) {
      checkDescriptor(m, what);
      if (source.blob(m.digest(), MediaTypes.isIndex(m.mediaType()) ? "index" : "manifest") != null) {
        child(m, what, depth + 1);
        any = true;
      }
    }
    if (!any) {
      throw index.manifests().isEmpty()
          ? new InvalidArchiveException(what + ": lists no manifests")
          : new InvalidArchiveException(what + " references missing blob " + index.manifests().get(0).digest());
    }
  }

  private void manifest(Descriptor d, String parent) {
    String what = "manifest " + d.digest();
    StagedBlob blob = present(d, "manifest", parent);
    if (!checked.add(d.digest())) {
      return;
    }
    Manifest m = Json.parse(Staging.read(blob, MAX_JSON, what), Manifest.class, what);
    checkSchema(what, m.schemaVersion(), m.mediaType(), d.mediaType());
    Descriptor c = m.config();
    if (c == null) {
      throw new InvalidArchiveException(what + ": no config");
    }
    checkDescriptor(c, what);
    if (m.artifactType() != null && !m.artifactType().isEmpty()) {
      // An OCI artifact (a labenv dataset): its config and layers are not image blobs and have no diff_ids; each must
      // be there, of its size. What they mean is checked by the component that reads them. (Added for datasets.)
      artifactTypes.put(d.digest(), m.artifactType());
      present(c, "config", what);
      for (Descriptor l : m.layers()) {
        checkDescriptor(l, what);
        present(l, "blob", what);
      }
      return;
    }
    if (!MediaTypes.CONFIGS.contains(c.mediaType())) {
      throw unknownMediaType(what, "config", c);
    }
    for (Descriptor l : m.layers()) {
      checkDescriptor(l, what);
      if (!MediaTypes.isLayer(l.mediaType())) {
        throw unknownMediaType(what, "layer", l);
      }
    }
    StagedBlob configBlob = present(c, "config", what);
    String configWhat = "config " + c.digest();
    ImageConfig config = Json.parse(Staging.read(configBlob, MAX_JSON, configWhat), ImageConfig.class, configWhat);
    List<Digest> diffIds = config.diffIds();
    if (diffIds.size() != m.layers().size()) {
      throw new InvalidArchiveException(configWhat + ": " + diffIds.size() + " diff_ids for "
          + m.layers().size() + " layers of " + what);
    }
    for (int i = 0; i < m.layers().size(); i++) {
      Descriptor l = m.layers().get(i);
      present(l, "layer", what);
      // An uncompressed layer is its own diff: anything else is an image that cannot be unpacked as described.
      if (isUncompressed(l.mediaType()) && !l.digest().equals(diffIds.get(i))) {
        throw new InvalidArchiveException("layer " + l.digest() + ": does not match diff_id " + diffIds.get(i)
            + " of " + configWhat + " (an uncompressed layer must equal its diff_id)");
      }
    }
  }

  static boolean isUncompressed(String layerMediaType) {
    return layerMediaType.equals(MediaTypes.OCI_LAYER) || layerMediaType.equals(MediaTypes.DOCKER_LAYER);
  }

  private StagedBlob present(Descriptor d, String role, String parent) {
    StagedBlob b = source.blob(d.digest(), role);
    if (b == null) {
      throw new InvalidArchiveException(parent + " references missing blob " + d.digest());
    }
    if (b.size() != d.size()) {
      throw new InvalidArchiveException(role + " " + d.digest() + ": size mismatch (" + parent + " says "
          + d.size() + " bytes, got " + b.size() + ")");
    }
    needed.add(b);
    return b;
  }

  private static void checkSchema(String what, int schemaVersion, String mediaType, String descriptorType) {
    if (schemaVersion != 2) {
      throw new InvalidArchiveException(what + ": schemaVersion " + schemaVersion + " (want 2)");
    }
    if (mediaType != null && !mediaType.isEmpty() && !mediaType.equals(descriptorType)) {
      throw new InvalidArchiveException(what + ": media type \"" + mediaType + "\" but its descriptor says \""
          + descriptorType + "\"");
    }
  }

  private static void checkDescriptor(Descriptor d, String parent) {
    if (d.digest() == null) {
      throw new InvalidArchiveException(parent + ": a descriptor has no digest");
    }
    if (!d.digest().algorithm().equals("sha256")) {
      throw new InvalidArchiveException(parent + ": " + d.digest().algorithm() + " digest " + d.digest()
          + " is not supported (only sha256)");
    }
    if (d.size() < 0) {
      throw new InvalidArchiveException(parent + ": descriptor " + d.digest() + " has negative size " + d.size());
    }
  }

  private static InvalidArchiveException unknownMediaType(String parent, String role, Descriptor d) {
    String type = d.mediaType() == null ? "" : d.mediaType();
    return new InvalidArchiveException(parent + ": " + role + " " + d.digest() + " has unknown media type \""
        + type + "\"");
  }
}
