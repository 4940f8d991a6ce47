package labenv.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
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
import labenv.image.Platform;
import labenv.layer.LayerApplier;

/**
 * Images and their names over a {@link ContentStore}. A name is an index.json descriptor with the
 * annotation {@value #REF_NAME} set to the familiar {@code name:tag}; one descriptor per name, and
 * a manifest may appear under several names.
 */
public final class ImageStore {
  /** The OCI annotation that carries an image's name in index.json. */
  public static final String REF_NAME = "org.opencontainers.image.ref.name";
  /** The shortest digest prefix accepted as an image ID. */
  public static final int MIN_PREFIX = 4;
  /** Temporary files other than index.json's in the store root are removed only this old. */
  static final Duration STALE_TEMP_AGE = Duration.ofMinutes(15);

  private static final Pattern FULL_DIGEST = Pattern.compile("(?:sha256:)?([a-f0-9]{64})");
  private static final Pattern PREFIX = Pattern.compile("(?:sha256:)?([a-f0-9]{" + MIN_PREFIX + ",63})");

  private final ContentStore store;
  private final List<GcRoots> extraRoots;

  public ImageStore(ContentStore store) {
    this(store, List.of());
  }

  /** {@code extraRoots}: what else must survive {@link #prune()} and {@link #remove(String)}. */
  public ImageStore(ContentStore store, List<GcRoots> extraRoots) {
    this.store = store;
    this.extraRoots = List.copyOf(extraRoots);
  }

  public ContentStore content() {
    return store;
  }

  /**
   * Every image, once per manifest, in index.json order: named ones with their names, unnamed ones (an untagged
   * build) with none. Takes no lock.
   */
  public List<ImageRecord> list() {
    Map<Digest, Descriptor> byDigest = new LinkedHashMap<>();
    Map<Digest, List<String>> names = new LinkedHashMap<>();
    for (Descriptor d : store.index().manifests()) {
      if (!isImage(d)) {
        continue;
      }
      String name = d.annotation(REF_NAME);
      byDigest.putIfAbsent(d.digest(), withoutName(d));
      List<String> n = names.computeIfAbsent(d.digest(), k -> new ArrayList<>());
      if (name != null) {
        n.add(familiar(name));
      }
    }
    List<ImageRecord> out = new ArrayList<>();
    for (Map.Entry<Digest, Descriptor> e : byDigest.entrySet()) {
      Descriptor d = e.getValue();
      out.add(new ImageRecord(d, names.get(e.getKey()), created(d), sizeOf(d)));
    }
    return out;
  }

  private Instant created(Descriptor d) {
    try {
      String created = image(d, Platform.host()).config().created();
      return created == null ? null : OffsetDateTime.parse(created).toInstant();
    } catch (LabenvException | java.time.format.DateTimeParseException e) {
      return null; // an image without a usable config still gets listed; fsck says what is wrong
    }
  }

  private long sizeOf(Descriptor d) {
    long total = 0;
    for (Descriptor blob : References.reachable(store, List.of(d), false).values()) {
      if (store.has(blob.digest())) {
        total += blob.size();
      }
    }
    return total;
  }

  /**
   * The descriptor an image reference stands for: a full digest ({@code sha256:…} or 64 hex digits),
   * a name ({@code busybox}, {@code busybox:1.36}, {@code localhost:5000/x:1}, tag defaulting to
   * latest), or a unique prefix of at least {@value #MIN_PREFIX} hex digits of a digest. Names are
   * tried before prefixes, as Docker does. Takes no lock.
   */
  public Descriptor resolve(String ref) {
    ImageIndex index = store.index();
    Match m = match(index, ref);
    for (Descriptor d : index.manifests()) {
      if (m.entries().test(d)) {
        return withoutName(d);
      }
    }
    throw new ImageNotFoundException(ref);
  }

  /** Which index.json entries a reference names, and the digest they share. */
  private record Match(Digest digest, Predicate<Descriptor> entries) {}

  /**
   * True for an index.json entry that is an image: a manifest or index without an artifactType. Artifacts (the
   * datasets of labenv.dataset) share index.json and may share names with images, but are never resolved, listed,
   * retagged or removed as images. (Added for datasets, issue 5.)
   */
  public static boolean isImage(Descriptor d) {
    return References.hasChildren(d) && (d.artifactType() == null || d.artifactType().isEmpty());
  }

  private Match match(ImageIndex all, String ref) {
    ImageIndex index = new ImageIndex(all.schemaVersion(), all.mediaType(), all.artifactType(),
        all.manifests().stream().filter(ImageStore::isImage).toList(), all.subject(), all.annotations());
    Match m = matchImages(index, ref);
    return new Match(m.digest(), d -> isImage(d) && m.entries().test(d));
  }

  private Match matchImages(ImageIndex index, String ref) {
    Matcher full = FULL_DIGEST.matcher(ref);
    if (full.matches()) {
      Digest digest = new Digest("sha256", full.group(1));
      if (index.manifests().stream().anyMatch(d -> d.digest().equals(digest))) {
        return new Match(digest, d -> d.digest().equals(digest));
      }
      throw new ImageNotFoundException(ref);
    }
    ImageReference.InvalidReferenceException invalid = null;
    try {
      ImageReference name = ImageReference.parse(ref);
      if (name.digest() != null) {
        Predicate<Descriptor> p = d -> d.digest().equals(name.digest()) && sameRepository(d, name);
        if (index.manifests().stream().anyMatch(p)) {
          return new Match(name.digest(), p);
        }
      } else {
        for (Descriptor d : index.manifests()) {
          if (sameName(d, name)) {
            return new Match(d.digest(), e -> sameName(e, name));
          }
        }
      }
    } catch (ImageReference.InvalidReferenceException e) {
      invalid = e;
    }
    Matcher prefix = PREFIX.matcher(ref);
    if (prefix.matches()) {
      String hex = prefix.group(1);
      Set<Digest> found = new LinkedHashSet<>();
      for (Descriptor d : index.manifests()) {
        if (d.digest().algorithm().equals("sha256") && d.digest().hex().startsWith(hex)) {
          found.add(d.digest());
        }
      }
      if (found.size() == 1) {
        Digest digest = found.iterator().next();
        return new Match(digest, d -> d.digest().equals(digest));
      }
      if (found.size() > 1) {
        List<String> candidates = new ArrayList<>();
        for (Digest digest : found) {
          List<String> names = new ArrayList<>();
          for (Descriptor d : index.manifests()) {
            if (d.digest().equals(digest) && d.annotation(REF_NAME) != null) {
              names.add(familiar(d.annotation(REF_NAME)));
            }
          }
          candidates.add("sha256:" + digest.shortHex() + (names.isEmpty() ? "" : " (" + String.join(", ", names) + ")"));
        }
        throw new AmbiguousImageException(ref, candidates);
      }
    }
    if (invalid != null) {
      throw invalid;
    }
    throw new ImageNotFoundException(ref);
  }

  private static boolean sameName(Descriptor d, ImageReference name) {
    ImageReference own = reference(d);
    return own != null && own.repository().equals(name.repository()) && name.tag().equals(own.tag());
  }

  private static boolean sameRepository(Descriptor d, ImageReference name) {
    ImageReference own = reference(d);
    return own != null && own.repository().equals(name.repository());
  }

  /** The reference a descriptor's name annotation holds, or null (no name, or one that is not valid). */
  private static ImageReference reference(Descriptor d) {
    String n = d.annotation(REF_NAME);
    if (n == null) {
      return null;
    }
    try {
      return ImageReference.parse(n);
    } catch (ImageReference.InvalidReferenceException e) {
      return null;
    }
  }

  private static String familiar(String name) {
    try {
      return ImageReference.parse(name).familiarName();
    } catch (ImageReference.InvalidReferenceException e) {
      return name;
    }
  }

  private static Descriptor withoutName(Descriptor d) {
    if (d.annotations() == null || !d.annotations().containsKey(REF_NAME)) {
      return d;
    }
    Map<String, String> rest = new TreeMap<>(d.annotations());
    rest.remove(REF_NAME);
    return d.withAnnotations(rest.isEmpty() ? null : rest);
  }

  /** The image {@code ref} resolves to, for the host's platform. */
  public Image image(String ref) {
    return image(resolve(ref), Platform.host());
  }

  /**
   * Loads and verifies a manifest and its config. For an index, picks the manifest for
   * {@code platform}. Throws bad input for an unknown media type or broken JSON.
   */
  public Image image(Descriptor descriptor, Platform platform) {
    Descriptor manifestDescriptor = descriptor;
    if (MediaTypes.isIndex(descriptor.mediaType())) {
      ImageIndex index = Json.parse(store.read(descriptor, ContentStore.MAX_JSON_BYTES), ImageIndex.class,
          "index " + descriptor.digest());
      manifestDescriptor = selectPlatform(index.manifests(), platform);
      if (manifestDescriptor == null) {
        List<String> have = new ArrayList<>();
        index.manifests().forEach(d -> have.add(d.platform() == null ? "?" : d.platform().toString()));
        throw LabenvException.failed("index " + descriptor.digest() + ": no manifest for platform " + platform
            + " (has " + String.join(", ", have) + ")");
      }
    }
    if (!MediaTypes.isManifest(manifestDescriptor.mediaType())) {
      throw LabenvException.badInput(References.kind(manifestDescriptor.mediaType()) + " "
          + manifestDescriptor.digest() + ": unknown media type \"" + manifestDescriptor.mediaType()
          + "\" for an image manifest");
    }
    String what = "manifest " + manifestDescriptor.digest();
    Manifest manifest = Json.parse(store.read(manifestDescriptor, ContentStore.MAX_JSON_BYTES), Manifest.class, what);
    if (manifest.config() == null || ContentStore.descriptorProblem(manifest.config()) != null) {
      throw LabenvException.badInput(what + ": config: "
          + (manifest.config() == null ? "missing" : ContentStore.descriptorProblem(manifest.config())));
    }
    if (!MediaTypes.CONFIGS.contains(manifest.config().mediaType())) {
      throw LabenvException.badInput(what + ": config " + manifest.config().digest() + ": unknown media type \""
          + manifest.config().mediaType() + "\" (not an image)");
    }
    byte[] rawConfig = store.read(manifest.config(), ContentStore.MAX_JSON_BYTES);
    ImageConfig config = Json.parse(rawConfig, ImageConfig.class, "config " + manifest.config().digest());
    Platform actual = config.os() != null && config.architecture() != null
        ? new Platform(config.architecture(), config.os(), null, null, config.variant())
        : manifestDescriptor.platform();
    return new Image(manifestDescriptor, manifest, config, rawConfig, actual);
  }

  /** The manifest in an index for {@code want}: same OS and architecture, the closest variant. */
  public static Descriptor selectPlatform(List<Descriptor> manifests, Platform want) {
    Descriptor best = null;
    int bestScore = 0;
    for (Descriptor d : manifests) {
      Platform p = d.platform();
      if (p == null || !want.os().equals(p.os()) || !want.architecture().equals(p.architecture())) {
        continue;
      }
      boolean wantVariant = want.variant() != null && !want.variant().isEmpty();
      boolean hasVariant = p.variant() != null && !p.variant().isEmpty();
      int score = !wantVariant || !hasVariant ? 1 : want.variant().equals(p.variant()) ? 2 : 0;
      if (score > bestScore) {
        best = d;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Names {@code manifest} (a manifest or an index already in the store, with everything it
   * references) {@code name}; the name moves off whatever image held it before.
   */
  public void tag(Descriptor manifest, String name) {
    ImageReference ref = ImageReference.parse(name);
    if (ref.digest() != null) {
      throw LabenvException.badInput("cannot tag an image as \"" + name + "\": a name cannot carry a digest");
    }
    if (!References.hasChildren(manifest)) {
      throw LabenvException.badInput("cannot tag " + References.kind(manifest.mediaType()) + " " + manifest.digest()
          + ": media type \"" + manifest.mediaType() + "\" is not an image manifest or index");
    }
    Descriptor entry = new Descriptor(manifest.mediaType(), manifest.digest(), manifest.size(), null,
        Map.of(REF_NAME, ref.familiarName()), manifest.platform(), manifest.artifactType());
    StoreLock gc = store.lockShared();
    try {
      checkComplete(manifest);
      // A name moves only between entries of one kind: tagging an image never takes a dataset's name.
      store.updateIndex(index -> placed(index, entry, d -> sameName(d, ref)
          && java.util.Objects.equals(emptyToNull(d.artifactType()), emptyToNull(entry.artifactType()))));
    } finally {
      gc.close();
    }
  }

  /**
   * {@code index} with {@code entry} in place of the entries {@code replaces} matches (where the first of them was),
   * or at the end when none does: how a name moves to another manifest.
   */
  public static ImageIndex placed(ImageIndex index, Descriptor entry, Predicate<Descriptor> replaces) {
    List<Descriptor> out = new ArrayList<>();
    boolean placed = false;
    for (Descriptor d : index.manifests()) {
      if (replaces.test(d)) {
        if (!placed) {
          out.add(entry);
          placed = true;
        }
      } else {
        out.add(d);
      }
    }
    if (!placed) {
      out.add(entry);
    }
    return new ImageIndex(2, index.mediaType() == null ? MediaTypes.OCI_INDEX : index.mediaType(),
        index.artifactType(), out, index.subject(), index.annotations());
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /**
   * Keeps {@code manifest} (complete in the store) as an unnamed image, reachable by digest, as docker keeps an
   * untagged build; nothing changes when index.json already holds that digest.
   */
  public void keep(Descriptor manifest) {
    StoreLock gc = store.lockShared();
    try {
      checkComplete(manifest);
      store.updateIndex(index -> {
        if (index.manifests().stream().anyMatch(d -> d.digest().equals(manifest.digest()))) {
          return index;
        }
        List<Descriptor> out = new ArrayList<>(index.manifests());
        out.add(Descriptor.of(manifest.mediaType(), manifest.digest(), manifest.size()));
        return new ImageIndex(2, index.mediaType() == null ? MediaTypes.OCI_INDEX : index.mediaType(),
            index.artifactType(), out, index.subject(), index.annotations());
      });
    } finally {
      gc.close();
    }
  }

  /**
   * Throws unless every blob the image needs is present with its size (manifests and indexes are
   * read and so verified; layers are not re-hashed). An index may lack some platforms, but the
   * ones present must be complete.
   */
  private void checkComplete(Descriptor d) {
    String what = References.kind(d.mediaType()) + " " + d.digest();
    if (!store.has(d.digest())) {
      throw LabenvException.failed("cannot name " + what + ": it is not in the store");
    }
    long size = store.size(d.digest());
    if (size != d.size()) {
      throw new SizeMismatchException(LabenvException.Kind.FAILED, d.digest(), d.size(), size + " bytes in the store");
    }
    if (!References.hasChildren(d)) {
      return;
    }
    List<Descriptor> children = References.children(store, d);
    if (MediaTypes.isIndex(d.mediaType())) {
      boolean any = false;
      for (Descriptor c : children) {
        if (store.has(c.digest())) {
          checkComplete(c);
          any = true;
        }
      }
      if (!any) {
        throw LabenvException.failed("cannot name " + what + ": none of its manifests is in the store");
      }
      return;
    }
    for (Descriptor c : children) {
      if (!store.has(c.digest())) {
        throw LabenvException.failed("cannot name " + what + ": its " + References.kind(c.mediaType()) + " "
            + c.digest() + " is not in the store");
      }
      checkComplete(c);
    }
  }

  /**
   * Like {@code docker rmi}: a name removes that name; a digest or digest prefix removes every
   * name of that image. Then the blobs nothing else references are deleted, under the exclusive gc
   * lock. Fails without changing anything if the remaining images cannot be read (run fsck).
   */
  public RemoveResult remove(String ref) {
    StoreLock gc = store.lockExclusive();
    try {
      ImageIndex index = store.index();
      Match m = match(index, ref);
      List<Descriptor> removed = new ArrayList<>();
      List<Descriptor> remaining = new ArrayList<>();
      for (Descriptor d : index.manifests()) {
        (m.entries().test(d) ? removed : remaining).add(d);
      }
      List<String> untagged = new ArrayList<>();
      for (Descriptor d : removed) {
        if (d.annotation(REF_NAME) != null) {
          untagged.add(familiar(d.annotation(REF_NAME)));
        }
      }
      Set<Digest> keep = References.reachable(store, roots(remaining), true).keySet();
      List<Digest> doomed = new ArrayList<>();
      for (Digest d : References.reachable(store, removed, false).keySet()) {
        if (!keep.contains(d)) {
          doomed.add(d);
        }
      }
      store.updateIndex(current -> new ImageIndex(current.schemaVersion(), current.mediaType(),
          current.artifactType(), current.manifests().stream().filter(m.entries().negate()).toList(),
          current.subject(), current.annotations()));
      // Parents before children (reachable's order), so a crash part-way never leaves a manifest
      // whose layers are gone while the manifest itself remains.
      List<Digest> deleted = new ArrayList<>();
      long freed = 0;
      for (Digest d : doomed) {
        if (store.has(d)) {
          freed += store.delete(d);
          deleted.add(d);
        }
      }
      syncBlobDirs();
      return new RemoveResult(untagged, deleted, freed);
    } finally {
      gc.close();
    }
  }

  private List<Descriptor> roots(List<Descriptor> indexEntries) {
    List<Descriptor> roots = new ArrayList<>(indexEntries);
    for (GcRoots provider : extraRoots) {
      roots.addAll(provider.roots());
    }
    return roots;
  }

  /**
   * Deletes every blob that index.json and the extra roots do not reach, and temporary files left
   * by killed writers. Fails without deleting anything if an image cannot be read (run fsck).
   */
  public PruneReport prune() {
    StoreLock gc = store.lockExclusive();
    try {
      Map<Digest, Descriptor> reachable = References.reachable(store, roots(store.index().manifests()), true);
      Set<Digest> keep = reachable.keySet();
      // Read before any blob goes: the configs name the unpacked layers to keep.
      Set<String> keepLayers = References.diffIdHexes(store, reachable.values(), true);
      List<Digest> deleted = new ArrayList<>();
      long freed = 0;
      for (Digest d : store.blobs()) {
        if (!keep.contains(d)) {
          freed += store.delete(d);
          deleted.add(d);
        }
      }
      int temps = 0;
      Instant staleBefore = Instant.now().minus(STALE_TEMP_AGE);
      for (Path temp : store.tempFiles()) {
        // Blob and index.json temporaries are written under a shared gc hold, so with the exclusive
        // hold none is in use. Other temporaries in the root may belong to writers that do not
        // take the gc lock: only old ones go.
        boolean ours = !temp.getParent().equals(store.root())
            || temp.getFileName().toString().startsWith(AtomicFile.TEMP_PREFIX + ContentStore.INDEX_FILE + "-")
            || temp.getFileName().toString().startsWith(AtomicFile.TEMP_PREFIX + ContentStore.LAYOUT_FILE + "-");
        try {
          FileTime mtime = Files.getLastModifiedTime(temp);
          if (ours || mtime.toInstant().isBefore(staleBefore)) {
            long size = Files.size(temp);
            Files.delete(temp);
            freed += size;
            temps++;
          }
        } catch (java.nio.file.NoSuchFileException e) {
          // gone already
        } catch (IOException e) {
          throw LabenvException.failed("cannot remove " + temp + ": " + e.getMessage(), e);
        }
      }
      List<Digest> layersRemoved = pruneLayers(keepLayers);
      syncBlobDirs();
      AtomicFile.syncDirectory(store.root());
      return new PruneReport(deleted, temps, freed, layersRemoved);
    } finally {
      gc.close();
    }
  }

  /**
   * Removes unpacked layers no kept image lists, and half-built ones: their builders hold the gc lock shared, so
   * with it held exclusively none is being built. A container keeps its layers by keeping its image (GcRoots).
   */
  private List<Digest> pruneLayers(Set<String> keep) {
    Path dir = store.root().resolve(ContentStore.LAYERS_DIR);
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return List.of();
    }
    List<Path> doomed = new ArrayList<>();
    List<Digest> removed = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (AtomicFile.isTemp(name)) {
          doomed.add(p);
        } else if (!keep.contains(name)) {
          doomed.add(p);
          if (Digest.isDigest("sha256:" + name)) {
            removed.add(Digest.parse("sha256:" + name));
          }
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + dir + ": " + e.getMessage(), e);
    }
    LayerApplier remover = new LayerApplier();
    for (Path p : doomed) {
      remover.remove(p);
    }
    if (!doomed.isEmpty()) {
      AtomicFile.syncDirectory(dir);
    }
    return removed;
  }

  private void syncBlobDirs() {
    Path sha256 = store.blobDir("sha256");
    if (Files.isDirectory(sha256)) {
      AtomicFile.syncDirectory(sha256);
    }
  }

  /** Re-hashes every blob and checks every reference; see {@link FsckReport}. */
  public FsckReport fsck() {
    StoreLock gc = store.lockShared();
    try {
      return new Fsck(store, roots(List.of())).run();
    } finally {
      gc.close();
    }
  }
}
