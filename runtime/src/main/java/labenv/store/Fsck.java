package labenv.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.ImageIndex;
import labenv.image.ImageReference;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;

/**
 * One run of {@code labenv fsck}: re-hash every blob (streamed), then walk every reference from
 * index.json and the extra roots. Problems are one line each and name the object; the caller holds
 * the gc lock shared so nothing is deleted underneath.
 */
final class Fsck {
  private static final Pattern MEDIA_TYPE = Pattern.compile("[A-Za-z0-9][\\w.+-]*/[A-Za-z0-9][\\w.+-]*");

  private final ContentStore store;
  private final List<Descriptor> extraRoots;
  private final List<String> problems = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final Set<Digest> corrupt = new HashSet<>();
  private final Set<Digest> checked = new HashSet<>();
  private final Map<Digest, Long> present = new HashMap<>();
  private int blobs;
  private long bytes;

  Fsck(ContentStore store, List<Descriptor> extraRoots) {
    this.store = store;
    this.extraRoots = extraRoots;
  }

  FsckReport run() {
    hashBlobs();
    tempNotes();
    ImageIndex index = null;
    try {
      index = store.index();
    } catch (LabenvException e) {
      problems.add(e.getMessage());
    }
    List<Descriptor> roots = new ArrayList<>();
    if (index != null) {
      Set<String> names = new HashSet<>();
      for (int i = 0; i < index.manifests().size(); i++) {
        Descriptor d = index.manifests().get(i);
        String name = d.annotation(ImageStore.REF_NAME);
        String where = ContentStore.INDEX_FILE + ": manifests[" + i + "]" + (name == null ? "" : " (" + name + ")");
        if (name != null) {
          try {
            if (!names.add(ImageReference.parse(name).toString())) {
              problems.add(where + ": the name is given to more than one descriptor");
            }
          } catch (ImageReference.InvalidReferenceException e) {
            notes.add(where + ": " + e.getMessage() + " (images resolve it by digest only)");
          }
        }
        checkRoot(d, where);
        roots.add(d);
      }
    }
    for (Descriptor d : extraRoots) {
      checkRoot(d, "root " + References.kind(d.mediaType()) + " " + d.digest());
      roots.add(d);
    }
    unreferencedNote(roots);
    layerNotes(roots);
    return new FsckReport(problems, notes, blobs, bytes);
  }

  private void hashBlobs() {
    Path dir = store.root().resolve(ContentStore.BLOBS_DIR);
    if (!Files.isDirectory(dir)) {
      problems.add(dir + ": missing");
      return;
    }
    byte[] buf = new byte[1 << 20];
    try (DirectoryStream<Path> algorithms = Files.newDirectoryStream(dir)) {
      for (Path alg : algorithms) {
        String algorithm = alg.getFileName().toString();
        String rel = ContentStore.BLOBS_DIR + "/" + algorithm;
        if (!Files.isDirectory(alg, LinkOption.NOFOLLOW_LINKS)) {
          problems.add(rel + ": not a directory");
          continue;
        }
        if (!algorithm.equals("sha256") && !algorithm.equals("sha512")) {
          problems.add(rel + ": unknown digest algorithm \"" + algorithm + "\"");
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(alg)) {
          for (Path f : files) {
            hashBlob(rel, algorithm, f, buf);
          }
        }
      }
    } catch (IOException e) {
      problems.add(dir + ": cannot list: " + e.getMessage());
    }
  }

  private void hashBlob(String rel, String algorithm, Path f, byte[] buf) {
    String name = f.getFileName().toString();
    if (AtomicFile.isTemp(name)) {
      return; // reported by tempNotes
    }
    Digest expected = ContentStore.digestOf(algorithm, name);
    if (expected == null) {
      problems.add(rel + "/" + name + ": not a blob (the name is not a " + algorithm + " digest)");
      return;
    }
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      problems.add("blob " + expected + ": not a regular file");
      corrupt.add(expected);
      return;
    }
    MessageDigest hash = VerifyingInputStream.newHash(algorithm);
    long size = 0;
    try (InputStream in = Files.newInputStream(f)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        hash.update(buf, 0, n);
        size += n;
      }
    } catch (NoSuchFileException e) {
      return; // deleted since listed: by a concurrent rmi before we held the lock, or never ours
    } catch (IOException e) {
      problems.add("blob " + expected + ": cannot read: " + e.getMessage());
      corrupt.add(expected);
      return;
    }
    blobs++;
    bytes += size;
    present.put(expected, size);
    Digest actual = new Digest(algorithm, HexFormat.of().formatHex(hash.digest()));
    if (!actual.equals(expected)) {
      problems.add(new DigestMismatchException(LabenvException.Kind.FAILED, expected, actual).getMessage());
      corrupt.add(expected);
    }
  }

  private void tempNotes() {
    try {
      for (Path temp : store.tempFiles()) {
        try {
          long size = Files.size(temp);
          Duration age = Duration.between(Files.getLastModifiedTime(temp).toInstant(), Instant.now());
          notes.add(store.root().relativize(temp) + ": temporary file (" + size + " bytes, " + age.toMinutes()
              + " min old) of a writer that is running or was killed; prune removes it");
        } catch (NoSuchFileException e) {
          // finished meanwhile
        }
      }
    } catch (IOException | LabenvException e) {
      problems.add("cannot list temporary files: " + e.getMessage());
    }
  }

  private void checkRoot(Descriptor d, String where) {
    String problem = ContentStore.descriptorProblem(d);
    if (problem != null) {
      problems.add(where + ": " + problem);
      return;
    }
    if (!References.hasChildren(d)) {
      problems.add(where + ": unknown media type \"" + d.mediaType() + "\" (want an image manifest or index)");
      return;
    }
    checkBlob(d, where, false);
  }

  /**
   * Checks one referenced blob and, for indexes and manifests, what it references.
   * {@code optional}: an index's platform manifests need not all be present.
   */
  private void checkBlob(Descriptor d, String where, boolean optional) {
    String what = References.kind(d.mediaType()) + " " + d.digest();
    Long size = sizeOf(d.digest());
    if (size == null) {
      boolean foreign = d.urls() != null && !d.urls().isEmpty();
      if (optional || foreign) {
        notes.add(where + ": " + what + " is not in the store" + (foreign ? " (foreign layer)" : ""));
      } else {
        problems.add(where + ": " + what + " is missing");
      }
      return;
    }
    if (size != d.size()) {
      problems.add(where + ": " + what + " is " + size + " bytes, the descriptor says " + d.size());
      return;
    }
    if (corrupt.contains(d.digest())) {
      // The hash pass reported the blob; this line says which image it breaks.
      problems.add(where + ": " + what + " is damaged (its content does not match its digest)");
      return;
    }
    if (!checked.add(d.digest())) {
      return; // checked through another reference
    }
    String self = what + nameSuffix(where);
    try {
      if (MediaTypes.isIndex(d.mediaType())) {
        checkIndex(d, self);
      } else if (MediaTypes.isManifest(d.mediaType())) {
        checkManifest(d, self);
      } else if (MediaTypes.CONFIGS.contains(d.mediaType())) {
        Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), ImageConfig.class, self);
      }
    } catch (LabenvException e) {
      problems.add(e.getMessage());
    }
  }

  private void checkIndex(Descriptor d, String self) {
    ImageIndex index = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), ImageIndex.class, self);
    if (index.schemaVersion() != 2) {
      problems.add(self + ": schemaVersion " + index.schemaVersion() + ", want 2");
    }
    List<Descriptor> manifests = index.manifests();
    int present = 0;
    for (int i = 0; i < manifests.size(); i++) {
      Descriptor c = manifests.get(i);
      String problem = ContentStore.descriptorProblem(c);
      if (problem != null) {
        problems.add(self + ": manifests[" + i + "]: " + problem);
        continue;
      }
      if (!References.hasChildren(c)) {
        problems.add(self + ": manifests[" + i + "]: unknown media type \"" + c.mediaType() + "\"");
        continue;
      }
      if (sizeOf(c.digest()) != null) {
        present++;
      }
      checkBlob(c, self, true);
    }
    if (present == 0 && !manifests.isEmpty()) {
      problems.add(self + ": none of its " + manifests.size() + " manifests is in the store");
    }
  }

  private void checkManifest(Descriptor d, String self) {
    Manifest m = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), Manifest.class, self);
    if (m.schemaVersion() != 2) {
      problems.add(self + ": schemaVersion " + m.schemaVersion() + ", want 2");
    }
    Descriptor config = m.config();
    String problem = config == null ? "missing" : ContentStore.descriptorProblem(config);
    if (problem != null) {
      problems.add(self + ": config: " + problem);
      return;
    }
    boolean image = MediaTypes.CONFIGS.contains(config.mediaType());
    // An OCI artifact (a dataset, say) declares an artifactType or an empty config; its blobs
    // may have any media type.
    boolean artifact = m.artifactType() != null || MediaTypes.OCI_EMPTY.equals(config.mediaType());
    if (!image && !artifact) {
      problems.add(self + ": config " + config.digest() + ": unknown media type \"" + config.mediaType() + "\"");
    } else {
      checkBlob(config, self, false);
    }
    for (int i = 0; i < m.layers().size(); i++) {
      Descriptor layer = m.layers().get(i);
      problem = ContentStore.descriptorProblem(layer);
      if (problem != null) {
        problems.add(self + ": layers[" + i + "]: " + problem);
        continue;
      }
      boolean known = image ? MediaTypes.isLayer(layer.mediaType()) : MEDIA_TYPE.matcher(layer.mediaType()).matches();
      if (!known) {
        problems.add(self + ": layer " + layer.digest() + ": unknown media type \"" + layer.mediaType() + "\"");
        continue;
      }
      checkBlob(layer, self, false);
    }
  }

  /** {@code " (busybox:latest)"} when {@code where} names an image, so nested messages keep the name. */
  private static String nameSuffix(String where) {
    int open = where.lastIndexOf(" (");
    return open >= 0 && where.endsWith(")") ? where.substring(open) : "";
  }

  /** The blob's size, from the hash pass or (for blobs added since) the file system; null if absent. */
  private Long sizeOf(Digest digest) {
    Long size = present.get(digest);
    if (size != null) {
      return size;
    }
    try {
      return Files.size(store.path(digest));
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The cache of unpacked layers ({@code layers/}) is not content-addressed on disk (a tree, not a tar), so it is not
   * re-hashed; its shape is checked and what prune would remove is noted. A damaged entry is removed by hand and
   * unpacked again on next use.
   */
  private void layerNotes(List<Descriptor> roots) {
    Path dir = store.root().resolve(ContentStore.LAYERS_DIR);
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      problems.add(ContentStore.LAYERS_DIR + ": not a directory");
      return;
    }
    Set<String> referenced = References.diffIdHexes(store, References.reachable(store, roots, false).values(), false);
    int unreferenced = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        String rel = ContentStore.LAYERS_DIR + "/" + name;
        if (AtomicFile.isTemp(name)) {
          notes.add(rel + ": half-built unpacked layer of a process that is running or was killed; prune removes it");
        } else if (!Digest.isDigest("sha256:" + name)) {
          notes.add(rel + ": not an unpacked layer (the name is not a sha256 diff ID); prune removes it");
        } else if (!Files.isDirectory(p.resolve("rootfs"), LinkOption.NOFOLLOW_LINKS)) {
          problems.add("unpacked layer sha256:" + name + ": no rootfs directory (remove " + rel
              + " to unpack it again)");
        } else if (!referenced.contains(name)) {
          unreferenced++;
        }
      }
    } catch (IOException e) {
      problems.add(dir + ": cannot list: " + e.getMessage());
    }
    if (unreferenced > 0) {
      notes.add(unreferenced + " unpacked layer" + (unreferenced == 1 ? "" : "s")
          + " no image lists; prune removes " + (unreferenced == 1 ? "it" : "them"));
    }
  }

  private void unreferencedNote(List<Descriptor> roots) {
    Set<Digest> reachable = References.reachable(store, roots, false).keySet();
    long count = 0;
    long size = 0;
    for (Map.Entry<Digest, Long> e : present.entrySet()) {
      if (!reachable.contains(e.getKey())) {
        count++;
        size += e.getValue();
      }
    }
    if (count > 0) {
      notes.add(count + " unreferenced blob" + (count == 1 ? "" : "s") + " (" + size + " bytes); prune removes "
          + (count == 1 ? "it" : "them"));
    }
  }
}
