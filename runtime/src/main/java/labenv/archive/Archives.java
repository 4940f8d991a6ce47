package labenv.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import labenv.LabenvException;
import labenv.Progress;
import labenv.image.Descriptor;
import labenv.image.ImageConfig;
import labenv.image.ImageIndex;
import labenv.image.ImageReference;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import labenv.layer.Compression;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;
import labenv.store.ImageStore;
import labenv.store.StoreLock;

/**
 * Images in and out of files: {@code load} (oci-archive, OCI layout directory, docker-archive),
 * {@code save} (oci-archive or docker-archive) and {@code import} (a root filesystem as a
 * one-layer image).
 *
 * <p>Loading is all or nothing. Everything is staged in a private directory inside the store and
 * the whole image graph is checked before the first blob becomes visible; on any failure the
 * staging directory goes and the store is as it was.
 */
public final class Archives {
  /** The formats {@link #save} writes. */
  public enum Format {
    /** An oci-archive: a tar of an OCI image layout. */
    OCI,
    /** A docker-archive, as {@code docker save} writes it: manifest.json, configs, uncompressed layers. */
    DOCKER
  }

  /** Subdirectory of the store root that holds staging directories. */
  static final String INGEST_DIR = "ingest";

  private final ImageStore images;
  private final ContentStore store;
  private final Progress progress;

  public Archives(ImageStore images) {
    this(images, Progress.NONE);
  }

  /** Reports the bytes of archives and tarballs read as they are read. */
  public Archives(ImageStore images, Progress progress) {
    this.images = images;
    this.store = images.content();
    this.progress = progress;
  }

  /**
   * Loads every image in {@code input}: an oci-archive or docker-archive file (whole-file gzip or
   * zstd allowed), or an OCI image layout directory. Names come from containerd's name annotation,
   * from an OCI ref.name that is a whole reference, or from RepoTags; images with none are loaded
   * under their digest only ({@link LoadedImage#named()} false).
   *
   * @throws InvalidArchiveException (bad input) for anything wrong with the input, saying what and where
   */
  public LoadResult load(Path input) {
    try (StoreLock gc = store.lockShared();
         Staging staging = Staging.create(store.root().resolve(INGEST_DIR), "load-")) {
      ArchiveKind kind;
      List<OciGraph.Entry> entries;
      Collection<StagedBlob> needed;
      if (Files.isDirectory(input)) {
        kind = ArchiveKind.OCI_LAYOUT;
        LayoutDirectory layout = new LayoutDirectory(input, staging);
        StagedBlob index = layout.file("index.json");
        if (index == null) {
          throw new InvalidArchiveException("not an OCI image layout (no index.json)");
        }
        OciGraph graph = new OciGraph(layout);
        entries = graph.check(index);
        needed = graph.needed();
      } else {
        ArchiveContents contents;
        try {
          contents = ArchiveReader.read(input, staging, progress);
        } finally {
          progress.done();
        }
        StagedBlob index = contents.file("index.json");
        StagedBlob manifest = contents.file("manifest.json");
        if (index != null) {
          kind = ArchiveKind.OCI_ARCHIVE;
          OciGraph graph = new OciGraph(contents);
          entries = graph.check(index);
          needed = graph.needed();
        } else if (manifest != null) {
          kind = ArchiveKind.DOCKER_ARCHIVE;
          DockerArchive docker = new DockerArchive(contents, staging);
          entries = docker.convert(manifest);
          needed = docker.needed();
        } else {
          throw new InvalidArchiveException("not an image archive (no index.json or manifest.json)");
        }
        contents.checkBlobNames();
      }
      if (entries.isEmpty()) {
        throw new InvalidArchiveException("no images in " + (kind == ArchiveKind.DOCKER_ARCHIVE ? "manifest.json"
            : "index.json"));
      }
      return publish(kind, entries, needed);
    } catch (LabenvException e) {
      throw e.withContext("load " + input);
    }
  }

  // Blobs first, then names: a name never points at a blob that is not there yet.
  private LoadResult publish(ArchiveKind kind, List<OciGraph.Entry> entries, Collection<StagedBlob> needed) {
    int added = 0;
    long bytes = 0;
    for (StagedBlob b : needed) {
      if (Staging.publish(b, store.path(b.digest()))) {
        added++;
        bytes += b.size();
      }
    }
    if (added > 0) {
      AtomicFile.syncDirectory(store.path(needed.iterator().next().digest()).getParent());
    }
    List<LoadedImage> loaded = new ArrayList<>();
    for (OciGraph.Entry e : entries) {
      Descriptor d = new Descriptor(e.descriptor().mediaType(), e.descriptor().digest(), e.descriptor().size(),
          null, null, e.descriptor().platform(), e.descriptor().artifactType());
      List<String> names = new ArrayList<>();
      for (String name : e.names()) {
        images.tag(d, name);
        names.add(ImageNames.familiar(name));
      }
      if (names.isEmpty()) {
        keepUnnamed(d);
      }
      loaded.add(new LoadedImage(d, names));
    }
    return new LoadResult(kind, loaded, added, bytes);
  }

  /** An image without a name stays in index.json under its digest, so prune keeps it. */
  private void keepUnnamed(Descriptor d) {
    store.updateIndex(index -> {
      if (index.manifests().stream().anyMatch(m -> m.digest().equals(d.digest()))) {
        return index;
      }
      List<Descriptor> out = new ArrayList<>(index.manifests());
      out.add(d);
      return new ImageIndex(2, index.mediaType(), index.artifactType(), out, index.subject(), index.annotations());
    });
  }

  /**
   * Writes the images {@code refs} name to {@code out} in {@code format}. The file appears whole or
   * not at all (written beside it, then renamed), and saving the same images twice gives the same bytes.
   */
  public SaveResult save(List<String> refs, Path out, Format format) {
    return save(refs, List.of(), out, format);
  }

  /**
   * An OCI artifact to save beside images (a dataset version of labenv.dataset): its manifest's descriptor, with
   * its artifactType, and the name it goes under ({@code NAME:TAG}, a valid image reference). (Added for datasets.)
   */
  public record Artifact(Descriptor manifest, String name) {}

  /** Like {@link #save(List, Path, Format)}, with {@code artifacts} too (oci-archive only). */
  public SaveResult save(List<String> refs, List<Artifact> artifacts, Path out, Format format) {
    try (StoreLock gc = store.lockShared()) {
      List<ArchiveWriter.Request> requests = new ArrayList<>(refs.isEmpty() && !artifacts.isEmpty() ? List.of()
          : ArchiveWriter.requests(images, refs));
      for (Artifact a : artifacts) {
        if (format != Format.OCI) {
          throw LabenvException.badInput("a docker-archive cannot carry " + a.name() + " (not an image); use --format oci");
        }
        requests.add(new ArchiveWriter.Request(a.manifest(), labenv.image.ImageReference.parse(a.name())));
      }
      Path abs = out.toAbsolutePath();
      Path temp = abs.resolveSibling(AtomicFile.TEMP_PREFIX + abs.getFileName() + "-" + Staging.randomSuffix());
      try {
        List<Descriptor> written;
        progress.start("save", -1);
        try {
          written = new ArchiveWriter(images, temp).write(requests, format, progress);
        } finally {
          progress.done();
        }
        try (var ch = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.READ)) {
          ch.force(true);
        }
        Files.move(temp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(abs.getParent());
        return new SaveResult(out, format, written, Files.size(abs));
      } catch (java.nio.file.NoSuchFileException e) {
        // Our temporary file's name means nothing to the user: name what is missing.
        throw LabenvException.failed(Files.isDirectory(abs.getParent()) ? e.getFile() + ": no such file or directory"
            : "no such directory " + abs.getParent(), e);
      } catch (java.nio.file.AccessDeniedException e) {
        throw LabenvException.failed(e.getFile() + ": permission denied", e);
      } catch (IOException e) {
        throw LabenvException.failed("cannot write " + out + ": " + e.getMessage(), e);
      } finally {
        Staging.deleteQuietly(temp);
      }
    } catch (LabenvException e) {
      throw e.withContext("save " + out);
    }
  }

  /** Like {@link #importRootfs(Path, String, ImportOptions)} with the defaults and {@code compression}. */
  public ImportResult importRootfs(Path source, String name, Compression compression) {
    return importRootfs(source, name, ImportOptions.defaults().withCompression(compression));
  }

  /**
   * Makes a one-layer image of a root filesystem and names it {@code name}. {@code source} is a
   * tarball (plain, gzip, zstd, bzip2 or xz), whose tar stream becomes the layer as it is, or a
   * directory, packed deterministically. The config says os linux, the options' platform, created
   * at the source date epoch, with one history entry: the same input gives the same image digest.
   *
   * @throws labenv.layer.UnsafeArchiveEntryException (bad input) for an entry that would leave the root
   */
  public ImportResult importRootfs(Path source, String name, ImportOptions options) {
    try {
      ImageReference ref = imageName(name);
      try (StoreLock gc = store.lockShared();
           Staging staging = Staging.create(store.root().resolve(INGEST_DIR), "import-")) {
        return importStaged(source, source.getFileName().toString(), ref, options, staging);
      }
    } catch (LabenvException e) {
      throw e.withContext("import " + source);
    }
  }

  /**
   * Writes a root filesystem: a tarball or a directory at {@code target}, which does not exist yet.
   * Failures are {@link LabenvException}s.
   */
  @FunctionalInterface
  public interface RootfsMaker {
    void make(Path target);
  }

  /**
   * Like {@link #importRootfs(Path, String, ImportOptions)} for a root filesystem made on the spot
   * ({@code labenv bootstrap}): {@code maker} writes it inside a private staging directory of the
   * store (the store's file system, which has room for layers; invisible to readers), which goes
   * when the import is over, whatever happens, or at the next import when this process was killed.
   * The name is checked before {@code maker} runs. Errors are not given context: the caller knows
   * what it was making.
   */
  public ImportResult importRootfs(RootfsMaker maker, String name, ImportOptions options) {
    ImageReference ref = imageName(name);
    try (Staging made = Staging.create(store.root().resolve(INGEST_DIR), "make-")) {
      Path rootfs = made.dir().resolve("rootfs");
      maker.make(rootfs);
      if (!Files.exists(rootfs, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw LabenvException.failed("made no root filesystem at " + rootfs);
      }
      try (StoreLock gc = store.lockShared();
           Staging staging = Staging.create(store.root().resolve(INGEST_DIR), "import-")) {
        return importStaged(rootfs, "rootfs", ref, options, staging);
      }
    }
  }

  private static ImageReference imageName(String name) {
    ImageReference ref = ImageReference.parse(name);
    if (ref.digest() != null) {
      throw LabenvException.badInput("image name \"" + name + "\" carries a digest");
    }
    return ref;
  }

  private ImportResult importStaged(Path source, String label, ImageReference ref, ImportOptions options,
      Staging staging) {
    RootfsLayer layer;
    if (Files.isDirectory(source)) {
      progress.start("import", -1);
      try {
        layer = RootfsLayer.fromDirectory(source, options, staging, progress);
      } finally {
        progress.done();
      }
    } else {
      progress.start("import", sizeOrUnknown(source));
      try {
        layer = RootfsLayer.fromTarball(source, label, options, staging, progress);
      } finally {
        progress.done();
      }
    }
    String created = Instant.ofEpochSecond(options.sourceDateEpoch()).toString();
    Platform p = options.platform();
    ImageConfig config = new ImageConfig(created, null, p.architecture(), "linux", p.variant(),
        options.config() != null ? options.config() : ImageConfig.Config.empty(),
        ImageConfig.RootFs.layers(List.of(layer.diffId())),
        List.of(new ImageConfig.History(created, options.createdBy() != null ? options.createdBy() : "labenv import",
            null, options.comment(), null)));
    StagedBlob configBlob = staging.stage(Json.canonical(config));
    Manifest manifest = Manifest.oci(Descriptor.of(MediaTypes.OCI_CONFIG, configBlob.digest(), configBlob.size()),
        List.of(layer.descriptor()));
    StagedBlob manifestBlob = staging.stage(Json.canonical(manifest));
    Descriptor d = Descriptor.of(MediaTypes.OCI_MANIFEST, manifestBlob.digest(), manifestBlob.size());
    List<OciGraph.Entry> entries = List.of(new OciGraph.Entry(d, List.of(ref.toString())));
    publish(ArchiveKind.OCI_LAYOUT, entries, List.of(layer.blob(), configBlob, manifestBlob));
    return new ImportResult(ref.familiarName(), d, configBlob.digest(), layer.descriptor(), layer.diffId(),
        layer.uncompressedSize());
  }

  private static long sizeOrUnknown(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }
}
