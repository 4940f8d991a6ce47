package labenv.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.Progress;
import labenv.build.StatCache;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageIndex;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.layer.LayerApplier;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.store.AtomicFile;
import labenv.store.BlobBatch;
import labenv.store.ContentStore;
import labenv.store.DigestMismatchException;
import labenv.store.ImageStore;
import labenv.store.StoreLock;

/**
 * Datasets over a {@link ContentStore}: versions are OCI artifacts ({@link DatasetFormat}) named in
 * index.json beside images (the ref.name annotation {@code NAME:TAG}, told apart from images by
 * their artifactType), their chunks are blobs shared by every version and dataset.
 *
 * <p>Besides the blobs, under {@code <store>/datasets/}:
 * <ul>
 *   <li>{@code versions/<hex>.json}: when and from where a version was first added here. Kept out of
 *       the manifest so the digest depends on content only.
 *   <li>{@code trees/<hex>/root}: the version assembled as read-only files, for bind mounts; built on
 *       first use by {@link #tree}, removed by {@link #prune} once the version has no name and no
 *       container uses it.
 *   <li>{@code statcache/}: file identity (device, inode, size, mtime, ctime) to content digest, and
 *       content digest to chunks, so re-adding an unchanged directory reads nothing.
 * </ul>
 * Writers hold the store's gc lock shared (blobs first, then the name); prune holds it exclusively.
 */
public final class DatasetStore {
  public static final String DIR = "datasets";
  private static final Pattern FULL_DIGEST = Pattern.compile("(?:sha256:)?([a-f0-9]{64})");
  private static final Pattern PREFIX = Pattern.compile("(?:sha256:)?([a-f0-9]{4,63})");
  private static final Digest EMPTY_SHA256 =
      Digest.parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  private final ContentStore store;
  private final Path versionsDir;
  private final Path treesDir;
  private final Path statDir;

  public DatasetStore(ContentStore store) {
    this.store = store;
    Path dir = store.root().resolve(DIR);
    this.versionsDir = dir.resolve("versions");
    this.treesDir = dir.resolve("trees");
    this.statDir = dir.resolve("statcache");
  }

  public ContentStore content() {
    return store;
  }

  /** When and from where a version was first added to this store. */
  record VersionRecord(String created, String source, long files, long bytes) {}

  // ---------------------------------------------------------------- add

  /**
   * Adds the file or directory {@code source} as a version of dataset {@code ref} ({@code NAME} or
   * {@code NAME:TAG}; without a tag, the first 12 hex digits of the version's digest), and moves
   * {@code NAME:latest} to it. Unchanged files the stat cache knows are not read, unless
   * {@code rehash}. Bad input (nothing stored) for an invalid name, a missing source, or unreadable,
   * special or escaping entries (all named). If the disk fills up, no name and no record is left
   * and the message says how much room the source needs.
   */
  public AddResult add(String ref, Path source, boolean rehash, Progress progress) {
    DatasetName name = DatasetName.parse(ref, null);
    long startNanos = System.currentTimeMillis() * 1_000_000L;
    List<SourceScan.Entry> entries = SourceScan.scan(source);
    long total = entries.stream().mapToLong(SourceScan.Entry::size).sum();
    long fileCount = entries.stream().filter(e -> e.type() == DatasetFile.Type.FILE).count();
    SourceVersions sources = new SourceVersions(statDir.resolve("sources"));
    byte[] sourceKey = SourceVersions.key(entries);
    Path versionRecord = null;
    try (StoreLock gc = store.lockShared()) {
      SourceVersions.Version known = rehash ? null : sources.get(sourceKey);
      if (known != null && complete(known)) {
        // Nothing the scan sees changed since this source gave that version: nothing to read or store.
        DatasetName named = publishAll(name, known.manifest());
        return new AddResult(named, known.manifest(), fileCount, total, 0, 0, 0, false);
      }
      try (BlobBatch blobs = new BlobBatch(store); Adder adder = new Adder(rehash, progress, blobs)) {
        progress.start("add " + name.name(), total);
        DatasetFile[] files;
        try {
          files = adder.files(entries);
        } finally {
          progress.done();
        }
        if (!adder.problems.isEmpty()) {
          throw SourceScan.problems(source, adder.problems);
        }
        blobs.publish();
        DatasetConfig config = new DatasetConfig(DatasetConfig.Chunking.standard(), List.of(files));
        Descriptor configDescriptor = store.put(DatasetFormat.CONFIG_MEDIA_TYPE, Json.canonical(config));
        List<Descriptor> layers = adder.layers(config);
        if (layers.isEmpty()) {
          store.put(MediaTypes.OCI_EMPTY, DatasetFormat.EMPTY_BYTES);
        }
        Manifest manifest = DatasetFormat.manifest(configDescriptor, layers);
        Descriptor stored = store.put(MediaTypes.OCI_MANIFEST, Json.canonical(manifest));
        Descriptor version = new Descriptor(MediaTypes.OCI_MANIFEST, stored.digest(), stored.size(), null, null, null,
            DatasetFormat.ARTIFACT_TYPE);
        Path recordFile = versionsDir.resolve(version.digest().hex() + ".json");
        boolean newVersion = !Files.exists(recordFile);
        if (newVersion) {
          Files.createDirectories(versionsDir);
          AtomicFile.write(recordFile, Json.canonical(new VersionRecord(Instant.now().toString(),
              source.toAbsolutePath().normalize().toString(), config.fileCount(), config.bytes())));
          versionRecord = recordFile;
        }
        DatasetName named = publishAll(name, version);
        versionRecord = null;
        adder.cache.save();
        if (SourceVersions.settled(entries, startNanos)) {
          sources.put(sourceKey, version, configDescriptor, manifest.layers());
        }
        return new AddResult(named, version, config.fileCount(), config.bytes(), adder.hashed, adder.stored,
            adder.chunksStored, newVersion);
      }
    } catch (IOException | LabenvException e) {
      String message = e.getMessage() == null ? "" : e.getMessage();
      if (message.contains("No space left on device")) {
        throw LabenvException.failed("out of disk space in " + store.root() + " while adding " + source + ": it needs up"
            + " to " + total + " bytes (the source's size, less what is already stored), " + usable() + " bytes are"
            + " free; nothing was added (free some space, or run labenv prune)", e);
      }
      if (e instanceof LabenvException le) {
        throw le;
      }
      throw LabenvException.failed("cannot add " + source + ": " + message, e);
    } finally {
      if (versionRecord != null) {
        try {
          Files.deleteIfExists(versionRecord);
        } catch (IOException ignored) {
          // a record without a name is removed by prune
        }
      }
    }
  }

  /** Names {@code version} as {@code name} (its short digest when {@code name} has no tag) and as latest. */
  private DatasetName publishAll(DatasetName name, Descriptor version) {
    DatasetName named = name.tag() != null ? name : name.withTag(version.digest().shortHex());
    publish(named.tag().equals(DatasetName.LATEST) ? List.of(named) : List.of(named, named.withTag(DatasetName.LATEST)),
        version);
    return named;
  }

  /** True when the store has every blob of {@code version} (not re-hashed: verify does that). */
  private boolean complete(SourceVersions.Version version) {
    for (Digest d : version.blobs()) {
      if (!store.has(d)) {
        return false;
      }
    }
    return true;
  }

  private long usable() {
    try {
      return Files.getFileStore(store.root()).getUsableSpace();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * One add: reads what the caches do not know, stores new chunks, counts. Large files are chunked on
   * their own; small ones ({@link Packer#PACK_LIMIT}) are packed, in path order.
   */
  private final class Adder implements AutoCloseable {
    /** Hashes the chunks of large files, and the files, while the adding thread reads and cuts. */
    final java.util.concurrent.ExecutorService hasher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dataset-hash");
      t.setDaemon(true);
      return t;
    });
    /** Bytes of chunks copied for the hashing thread and not hashed yet: memory stays flat. */
    final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(64 << 20);
    final boolean rehash;
    final Progress progress;
    final StatCache cache = StatCache.load(statDir, "file-stat-cache");
    final ChunkLists chunkLists = new ChunkLists(statDir.resolve("chunks"));
    final Chunker chunker = Chunker.standard();
    // New chunks become durable together (one syncfs) before the version is named: see publish in add.
    final BlobBatch blobs;
    /** The size of each chunk's blob (a piece of a packed chunk is smaller than its blob). */
    final Map<Digest, Long> blobSizes = new HashMap<>();
    /** Files that could not be read, named together at the end. */
    final List<String> problems = new ArrayList<>();
    long hashed;
    long stored;
    int chunksStored;

    Adder(boolean rehash, Progress progress, BlobBatch blobs) {
      this.rehash = rehash;
      this.progress = progress;
      this.blobs = blobs;
    }

    DatasetFile[] files(List<SourceScan.Entry> entries) {
      DatasetFile[] files = new DatasetFile[entries.size()];
      List<Integer> small = new ArrayList<>();
      for (int i = 0; i < files.length; i++) {
        SourceScan.Entry e = entries.get(i);
        files[i] = switch (e.type()) {
          case DIR -> DatasetFile.dir(e.rel(), e.mode());
          case SYMLINK -> DatasetFile.symlink(e.rel(), e.target());
          case FILE -> e.size() == 0 ? DatasetFile.file(e.rel(), e.mode(), 0, EMPTY_SHA256, List.of())
              : e.size() < Packer.PACK_LIMIT ? null : large(e);
        };
        if (files[i] == null) {
          small.add(i);
        }
      }
      pack(entries, small, files);
      return files;
    }

    /** The version's layers: each distinct chunk once, with its blob's size, in the order files first use it. */
    List<Descriptor> layers(DatasetConfig config) {
      Set<Digest> seen = new HashSet<>();
      List<Descriptor> layers = new ArrayList<>();
      for (DatasetFile f : config.files()) {
        if (f.isFile()) {
          for (Chunk c : f.chunks()) {
            if (seen.add(c.digest())) {
              layers.add(Descriptor.of(DatasetFormat.CHUNK_MEDIA_TYPE, c.digest(), blobSizes.get(c.digest())));
            }
          }
        }
      }
      return layers;
    }

    private int open(SourceScan.Entry e) {
      try {
        return Syscalls.openat(Libc.AT_FDCWD, e.hostPath(), Libc.O_RDONLY | Libc.O_NOFOLLOW, 0);
      } catch (labenv.linux.ErrnoException ex) {
        problems.add(e.rel() + ": " + (ex.errno() == Libc.EACCES ? "permission denied"
            : ex.errno() == Libc.ENOENT ? "removed while being read" : Libc.errorText(ex.errno())));
        return -1;
      }
    }

    private LabenvException changed(SourceScan.Entry e) {
      return LabenvException.failed(e.display() + " changed while it was being added; add it again once it is"
          + " no longer being written");
    }

    /** A file chunked on its own: its chunks from the caches when its content is known and they are all stored. */
    private DatasetFile large(SourceScan.Entry e) {
      byte[] sha = rehash ? null : cache.get(e.key());
      List<Chunk> known = sha == null ? null : chunkLists.get(sha, e.size());
      if (known != null && known.stream().allMatch(c -> blobSizes.containsKey(c.digest()) || store.has(c.digest()))) {
        known.forEach(c -> blobSizes.put(c.digest(), c.size()));
        progress.advance(e.size());
        return DatasetFile.file(e.rel(), e.mode(), e.size(), Digest.sha256(sha), known);
      }
      int fd = open(e);
      if (fd < 0) {
        return DatasetFile.file(e.rel(), e.mode(), e.size(), EMPTY_SHA256, List.of());
      }
      try {
        StatCache.Key before = StatCache.keyOf(fd);
        if (!before.equals(e.key())) {
          throw changed(e);
        }
        long start = System.currentTimeMillis() * 1_000_000L;
        // This thread reads and cuts; the hashing thread hashes each chunk and the whole file, in order.
        MessageDigest whole = Digest.newSha256();
        List<java.util.concurrent.Future<Digest>> pending = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        long[] read = {0};
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
             InputStream in = Channels.newInputStream(ch)) {
          chunker.split(in, (buf, off, len) -> {
            byte[] copy = java.util.Arrays.copyOfRange(buf, off, off + len);
            inFlight.acquireUninterruptibly(len);
            pending.add(hasher.submit(() -> {
              try {
                whole.update(copy);
                return putOwned(copy);
              } finally {
                inFlight.release(copy.length);
              }
            }));
            lengths.add(len);
            read[0] += len;
            progress.advance(len);
          });
        } catch (IOException ex) {
          throw LabenvException.failed("cannot read " + e.display() + ": " + ex.getMessage(), ex);
        }
        List<Chunk> out = new ArrayList<>(pending.size());
        for (int i = 0; i < pending.size(); i++) {
          out.add(new Chunk(await(pending.get(i)), lengths.get(i)));
        }
        hashed += read[0];
        StatCache.Key after = StatCache.keyOf(fd);
        if (read[0] != before.size() || !after.equals(before)) {
          throw changed(e);
        }
        java.util.concurrent.Callable<byte[]> finish = whole::digest;
        byte[] digest = await(hasher.submit(finish)); // after every update: one thread, in order
        cache.put(before, after, start, digest);
        chunkLists.put(digest, read[0], out);
        return DatasetFile.file(e.rel(), e.mode(), read[0], Digest.sha256(digest), out);
      } finally {
        Syscalls.close(fd);
      }
    }

    /** Stores one chunk (unless the store has it); its digest. */
    private Digest put(byte[] buf, int off, int len) {
      return counted(blobs.put(buf, off, len), len);
    }

    /** {@link #put} of a whole array handed over (not copied). */
    private Digest putOwned(byte[] data) {
      return counted(blobs.putOwned(data), data.length);
    }

    private Digest counted(BlobBatch.Put put, int len) {
      if (blobSizes.putIfAbsent(put.digest(), (long) len) == null && put.written()) {
        stored += len;
        chunksStored++;
      }
      return put.digest();
    }

    private <T> T await(java.util.concurrent.Future<T> f) {
      try {
        return f.get();
      } catch (java.util.concurrent.ExecutionException ex) {
        if (ex.getCause() instanceof LabenvException le) {
          throw LabenvException.failed(le.getMessage(), le);
        }
        throw LabenvException.failed("dataset add: hashing failed: " + ex.getCause(), ex.getCause());
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw LabenvException.failed("dataset add: interrupted", ex);
      }
    }

    @Override
    public void close() {
      hasher.shutdownNow();
    }

    /**
     * The small files, packed ({@link Packer}). When the stat cache knows every one of them and the
     * pack of that sequence is cached with all its chunks stored, nothing is read.
     */
    private void pack(List<SourceScan.Entry> entries, List<Integer> small, DatasetFile[] files) {
      if (small.isEmpty()) {
        return;
      }
      List<Long> sizes = new ArrayList<>(small.size());
      small.forEach(i -> sizes.add(entries.get(i).size()));
      List<byte[]> known = new ArrayList<>(small.size());
      for (int i : small) {
        byte[] sha = rehash ? null : cache.get(entries.get(i).key());
        if (sha == null) {
          known = null;
          break;
        }
        known.add(sha);
      }
      if (known != null) {
        ChunkLists.Pack pack = chunkLists.getPack(ChunkLists.packKey(known, sizes), sizes);
        if (pack != null && pack.chunks().keySet().stream().allMatch(d -> blobSizes.containsKey(d) || store.has(d))) {
          blobSizes.putAll(pack.chunks());
          for (int j = 0; j < small.size(); j++) {
            SourceScan.Entry e = entries.get(small.get(j));
            files[small.get(j)] = DatasetFile.file(e.rel(), e.mode(), e.size(), Digest.sha256(known.get(j)),
                pack.files().get(j));
            progress.advance(e.size());
          }
          return;
        }
      }
      byte[][] shas = new byte[small.size()][];
      List<List<Chunk>> pieces = new ArrayList<>(java.util.Collections.nCopies(small.size(), null));
      Map<Digest, Long> chunks;
      // This thread reads and hashes the files; another packs them, cuts chunks and hashes those.
      try (PackThread packing = new PackThread(new Packer(chunker, this::put));
           com.sun.jna.Memory mem = new com.sun.jna.Memory(Packer.PACK_LIMIT + 1)) {
        MessageDigest md = Digest.newSha256();
        for (int j = 0; j < small.size(); j++) {
          int index = small.get(j);
          int slot = j;
          SourceScan.Entry e = entries.get(index);
          int fd = open(e);
          if (fd < 0) {
            continue;
          }
          byte[] bytes;
          try {
            long start = System.currentTimeMillis() * 1_000_000L;
            int n = 0;
            // One read of a byte more than the scan saw, usually; a file that grew or shrank since is caught below.
            while (n <= e.size()) {
              long r;
              try {
                r = Libc.read(fd, mem.share(n), e.size() + 1 - n);
              } catch (com.sun.jna.LastErrorException ex) {
                if (ex.getErrorCode() == Libc.EINTR) {
                  continue;
                }
                throw LabenvException.failed("cannot read " + e.display() + ": " + Libc.errorText(ex.getErrorCode()), ex);
              }
              if (r == 0) {
                break;
              }
              n += (int) r;
            }
            // The scan's key again after the read: the bytes read are the content the scan saw.
            StatCache.Key after = StatCache.keyOf(fd);
            if (n != e.size() || !after.equals(e.key())) {
              throw changed(e);
            }
            bytes = mem.getByteArray(0, n);
            md.update(bytes);
            byte[] sha = md.digest();
            shas[j] = sha;
            cache.put(after, after, start, sha);
            hashed += n;
          } finally {
            Syscalls.close(fd);
          }
          byte[] sha = shas[j];
          packing.add(bytes, p -> {
            pieces.set(slot, p);
            files[index] = DatasetFile.file(e.rel(), e.mode(), e.size(), Digest.sha256(sha), p);
          });
          progress.advance(bytes.length);
        }
        chunks = packing.finish();
      }
      if (problems.isEmpty()) {
        chunkLists.putPack(ChunkLists.packKey(List.of(shas), sizes), new ChunkLists.Pack(pieces,
            new LinkedHashMap<>(chunks)));
      }
    }
  }

  /** Points {@code name} at {@code version}; only a dataset's entry of that name is replaced, never an image's. */
  private void publish(DatasetName name, Descriptor version) {
    publish(List.of(name), version);
  }

  /** Points each of {@code names} at {@code version}, in one update of index.json. */
  private void publish(List<DatasetName> names, Descriptor version) {
    try (StoreLock gc = store.lockShared()) {
      if (!store.has(version.digest())) {
        throw LabenvException.failed("cannot name dataset version " + version.digest() + ": it is not in the store");
      }
      store.updateIndex(index -> {
        ImageIndex next = index;
        for (DatasetName name : names) {
          Descriptor entry = new Descriptor(MediaTypes.OCI_MANIFEST, version.digest(), version.size(), null,
              Map.of(ImageStore.REF_NAME, name.toString()), null, DatasetFormat.ARTIFACT_TYPE);
          next = ImageStore.placed(next, entry,
              d -> DatasetFormat.isDataset(d) && name.toString().equals(d.annotation(ImageStore.REF_NAME)));
        }
        return next;
      });
    }
  }

  // ---------------------------------------------------------------- names

  /** Every dataset version with its names, in index.json order. Takes no lock. */
  public List<DatasetVersion> versions() {
    Map<Digest, Descriptor> byDigest = new LinkedHashMap<>();
    Map<Digest, List<DatasetName>> names = new HashMap<>();
    for (Descriptor d : store.index().manifests()) {
      if (!DatasetFormat.isDataset(d)) {
        continue;
      }
      byDigest.putIfAbsent(d.digest(), withoutName(d));
      List<DatasetName> n = names.computeIfAbsent(d.digest(), k -> new ArrayList<>());
      String ref = d.annotation(ImageStore.REF_NAME);
      if (ref != null) {
        try {
          n.add(DatasetName.parse(ref, null));
        } catch (LabenvException e) {
          // a name that is not valid (an edited index.json) is not shown; fsck reports the store
        }
      }
    }
    List<DatasetVersion> out = new ArrayList<>();
    byDigest.forEach((digest, d) -> out.add(new DatasetVersion(d, names.get(digest))));
    return out;
  }

  /** One row per name, sorted by name then tag. */
  public List<DatasetSummary> list() {
    List<DatasetSummary> out = new ArrayList<>();
    for (DatasetVersion v : versions()) {
      VersionRecord r = record(v);
      Instant created = r == null || r.created() == null ? null : Instant.parse(r.created());
      for (DatasetName n : v.names()) {
        out.add(new DatasetSummary(n, v.digest(), created, r == null ? -1 : r.files(), r == null ? -1 : r.bytes()));
      }
    }
    out.sort(java.util.Comparator.comparing((DatasetSummary s) -> s.name().name()).thenComparing(s -> s.name().tag()));
    return out;
  }

  private VersionRecord record(DatasetVersion v) {
    Path file = versionsDir.resolve(v.digest().hex() + ".json");
    try {
      return Json.parse(Files.readAllBytes(file), VersionRecord.class, file.toString());
    } catch (IOException | LabenvException e) {
      // Loaded, not added here (or the record is damaged): the sizes come from the config.
      try {
        DatasetConfig c = config(v.manifest());
        return new VersionRecord(null, null, c.fileCount(), c.bytes());
      } catch (LabenvException e2) {
        return null;
      }
    }
  }

  /**
   * The version {@code ref} names: {@code NAME[:TAG]} (tag defaulting to latest), a digest
   * ({@code sha256:…} or 64 hex digits), or a unique prefix of at least 4 hex digits of one. Names
   * are tried first. Never an image: images and datasets may share a name.
   */
  public DatasetVersion resolve(String ref) {
    List<DatasetVersion> all = versions();
    Matcher full = FULL_DIGEST.matcher(ref);
    if (full.matches()) {
      for (DatasetVersion v : all) {
        if (v.digest().hex().equals(full.group(1))) {
          return v;
        }
      }
      throw new DatasetNotFoundException(ref);
    }
    LabenvException invalid = null;
    try {
      DatasetName name = DatasetName.parse(ref, DatasetName.LATEST);
      for (DatasetVersion v : all) {
        if (v.names().contains(name)) {
          return v;
        }
      }
    } catch (LabenvException e) {
      invalid = e;
    }
    Matcher prefix = PREFIX.matcher(ref);
    if (prefix.matches()) {
      List<DatasetVersion> found = all.stream().filter(v -> v.digest().hex().startsWith(prefix.group(1))).toList();
      if (found.size() == 1) {
        return found.get(0);
      }
      if (found.size() > 1) {
        throw LabenvException.badInput("dataset \"" + ref + "\" is ambiguous: " + found.size()
            + " versions start with it; give more digits");
      }
    }
    if (invalid != null) {
      throw invalid;
    }
    throw new DatasetNotFoundException(ref);
  }

  /**
   * Names a version that arrived in the store from elsewhere (a registry): checks it is a dataset version whose
   * config is sound, records where it came from, and names it {@code ref} ({@code NAME[:TAG]}; without a tag, its
   * short digest) and {@code NAME:latest}.
   */
  public DatasetName adopt(Descriptor manifest, String ref, String source) {
    Descriptor version = new Descriptor(MediaTypes.OCI_MANIFEST, manifest.digest(), manifest.size(), null, null, null,
        DatasetFormat.ARTIFACT_TYPE);
    DatasetConfig config = config(version);
    DatasetName name = DatasetName.parse(ref, null);
    try (StoreLock gc = store.lockShared()) {
      Path recordFile = versionsDir.resolve(version.digest().hex() + ".json");
      if (!Files.exists(recordFile)) {
        Files.createDirectories(versionsDir);
        AtomicFile.write(recordFile, Json.canonical(new VersionRecord(Instant.now().toString(), source,
            config.fileCount(), config.bytes())));
      }
      return publishAll(name, version);
    } catch (IOException e) {
      throw LabenvException.failed("cannot record dataset version " + version.digest() + ": " + e.getMessage(), e);
    }
  }

  /** Names the version {@code src} resolves to {@code dst} ({@code NAME[:TAG]}, tag defaulting to latest). */
  public DatasetName tag(String src, String dst) {
    DatasetName name = DatasetName.parse(dst, DatasetName.LATEST);
    publish(name, resolve(src).manifest());
    return name;
  }

  /**
   * Removes a name ({@code NAME[:TAG]}, tag defaulting to latest); a digest or digest prefix
   * removes every name of that version. Chunks stay until {@code prune}. Returns the names removed.
   */
  public List<DatasetName> remove(String ref) {
    DatasetVersion v = resolve(ref);
    DatasetName asName = isNameRef(ref) ? DatasetName.parse(ref, DatasetName.LATEST) : null;
    List<DatasetName> doomed = asName != null && v.names().contains(asName) ? List.of(asName) : v.names();
    Set<String> refs = new HashSet<>();
    doomed.forEach(n -> refs.add(n.toString()));
    store.updateIndex(index -> new ImageIndex(index.schemaVersion(), index.mediaType(), index.artifactType(),
        index.manifests().stream().filter(d -> !(DatasetFormat.isDataset(d) && d.digest().equals(v.digest())
            && refs.contains(d.annotation(ImageStore.REF_NAME)))).toList(), index.subject(), index.annotations()));
    return doomed;
  }

  private static boolean isNameRef(String ref) {
    try {
      DatasetName.parse(ref, DatasetName.LATEST);
      return true;
    } catch (LabenvException e) {
      return false;
    }
  }

  private static Descriptor withoutName(Descriptor d) {
    return new Descriptor(d.mediaType(), d.digest(), d.size(), null, null, null, d.artifactType());
  }

  // ---------------------------------------------------------------- reading

  /** The version's manifest, read and verified. */
  public Manifest manifest(Descriptor version) {
    String what = "dataset version " + version.digest();
    Manifest m = Json.parse(store.read(version, ContentStore.MAX_JSON_BYTES), Manifest.class, what);
    if (!DatasetFormat.ARTIFACT_TYPE.equals(m.artifactType()) || m.config() == null
        || !DatasetFormat.CONFIG_MEDIA_TYPE.equals(m.config().mediaType())) {
      throw LabenvException.badInput(what + ": not a dataset manifest (artifactType \"" + m.artifactType() + "\")");
    }
    return m;
  }

  /** The version's files, read, verified and checked ({@link DatasetFormat#check}). */
  public DatasetConfig config(Descriptor version) {
    Manifest m = manifest(version);
    String what = "dataset version " + version.digest() + ": config " + m.config().digest();
    DatasetConfig config;
    try (InputStream in = store.open(m.config())) {
      config = Json.mapper().readValue(in, DatasetConfig.class);
    } catch (LabenvException e) {
      throw e;
    } catch (IOException e) {
      throw LabenvException.badInput(what + ": " + e.getMessage().lines().findFirst().orElse(""));
    }
    DatasetFormat.check(config, what);
    return config;
  }

  /** {@code dataset show}: files, names, provenance and the disk cost of the version {@code ref} names. */
  public DatasetDetails show(String ref) {
    DatasetVersion v = resolve(ref);
    DatasetConfig config = config(v.manifest());
    VersionRecord r = record(v);
    return new DatasetDetails(v, r == null || r.created() == null ? null : Instant.parse(r.created()),
        r == null ? null : r.source(), config, cost(v, config));
  }

  private DiskCost cost(DatasetVersion v, DatasetConfig config) {
    Set<Digest> others = new HashSet<>();
    for (DatasetVersion o : versions()) {
      if (!o.digest().equals(v.digest())) {
        try {
          Manifest m = manifest(o.manifest());
          m.layers().forEach(l -> others.add(l.digest()));
          others.add(m.config().digest());
        } catch (LabenvException e) {
          // a damaged version shares nothing we can count; verify says what is wrong with it
        }
      }
    }
    Manifest m = manifest(v.manifest());
    long unique = v.manifest().size();
    long shared = 0;
    List<Descriptor> blobs = new ArrayList<>(m.layers());
    blobs.add(m.config());
    for (Descriptor d : blobs) {
      if (others.contains(d.digest())) {
        shared += d.size();
      } else {
        unique += d.size();
      }
    }
    Path root = treeRoot(v.digest());
    return new DiskCost(unique, shared, Files.isDirectory(root) ? config.bytes() : -1);
  }

  // ---------------------------------------------------------------- verify

  /**
   * Re-hashes every chunk of the version {@code ref} names (every version when null), and every
   * file of its assembled tree, against its manifest. Damaged or missing chunks are listed with
   * the files they belong to. Reports; does not throw for damage it finds.
   */
  public VerifyReport verify(String ref) {
    List<DatasetVersion> versions = ref == null ? versions() : List.of(resolve(ref));
    Map<Digest, Boolean> checked = new HashMap<>();
    List<VerifyReport.Check> out = new ArrayList<>();
    try (StoreLock gc = store.lockShared()) {
      for (DatasetVersion v : versions) {
        out.add(verify(v, checked));
      }
    }
    return new VerifyReport(out);
  }

  private VerifyReport.Check verify(DatasetVersion v, Map<Digest, Boolean> checked) {
    DatasetConfig config;
    Manifest m;
    try {
      m = manifest(v.manifest());
      config = config(v.manifest());
    } catch (LabenvException e) {
      return new VerifyReport.Check(v, 0, List.of(), List.of(), false, List.of(), e.getMessage());
    }
    List<Digest> bad = new ArrayList<>();
    for (Descriptor layer : m.layers()) {
      boolean ok = checked.computeIfAbsent(layer.digest(), d -> intact(layer));
      if (!ok) {
        bad.add(layer.digest());
      }
    }
    Set<Digest> badSet = new HashSet<>(bad);
    Set<String> damaged = new LinkedHashSet<>();
    for (DatasetFile f : config.files()) {
      if (f.isFile() && f.chunks().stream().anyMatch(c -> badSet.contains(c.digest()))) {
        damaged.add(f.path());
      }
    }
    String problem = null;
    Set<Digest> listed = new HashSet<>();
    m.layers().forEach(l -> listed.add(l.digest()));
    for (DatasetFile f : config.files()) {
      if (f.isFile() && f.chunks().stream().anyMatch(c -> !listed.contains(c.digest()))) {
        problem = "file " + f.path() + " uses a chunk its manifest does not list";
        break;
      }
    }
    Path root = treeRoot(v.digest());
    List<String> badTree = new ArrayList<>();
    boolean assembled = Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS);
    if (assembled) {
      for (DatasetFile f : config.files()) {
        if (!treeEntryIntact(root, f)) {
          badTree.add(f.path());
        }
      }
    }
    return new VerifyReport.Check(v, m.layers().size(), bad, List.copyOf(damaged), assembled, badTree, problem);
  }

  /** True when the blob is there, of its size, and hashes to its digest. */
  private boolean intact(Descriptor d) {
    try (InputStream in = store.open(d)) {
      in.transferTo(OutputStream.nullOutputStream());
      return true;
    } catch (LabenvException | IOException e) {
      return false;
    }
  }

  private boolean treeEntryIntact(Path root, DatasetFile f) {
    Path p = root.resolve(f.path());
    try {
      return switch (f.type()) {
        case DIR -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
        case SYMLINK -> Files.isSymbolicLink(p) && Files.readSymbolicLink(p).toString().equals(f.target());
        case FILE -> {
          if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) != f.size()) {
            yield false;
          }
          MessageDigest md = Digest.newSha256();
          try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
              md.update(buf, 0, n);
            }
          }
          yield Digest.sha256(md.digest()).equals(f.digest());
        }
      };
    } catch (IOException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- trees and export

  private Path treeRoot(Digest version) {
    return treesDir.resolve(version.hex()).resolve("root");
  }

  /**
   * The version assembled as a read-only tree, {@code <store>/datasets/trees/<hex>/root}, for
   * bind-mounting: files 0444 (0555 when executable), directories 0555, symlinks as they were.
   * Built once, from chunks verified as they are read, in a temporary directory renamed into place;
   * concurrent callers get the same tree. Later calls cost a stat.
   */
  public Path tree(Descriptor version) {
    Path root = treeRoot(version.digest());
    if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      return root;
    }
    try (StoreLock gc = store.lockShared()) {
      DatasetConfig config = config(version);
      Files.createDirectories(treesDir);
      Path temp = treesDir.resolve(AtomicFile.TEMP_PREFIX + version.digest().hex() + "-" + AtomicFile.randomSuffix());
      try {
        Path tempRoot = temp.resolve("root");
        Files.createDirectories(tempRoot);
        write(manifest(version), config, tempRoot, true, version.digest());
        syncfs(temp);
        try {
          Files.move(temp, root.getParent(), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            throw e;
          }
          // another process assembled it first: theirs is the same
        }
        AtomicFile.syncDirectory(treesDir);
        return root;
      } finally {
        if (Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) {
          new LayerApplier().remove(temp);
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot assemble dataset version " + version.digest() + " in " + treesDir + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Writes the files of the version {@code ref} names into {@code dir}, which must not exist or be
   * empty, with the modes they had (writable by their owner). Built beside {@code dir} and renamed
   * into place, so {@code dir} is whole or absent. Returns the version written.
   */
  public DatasetVersion export(String ref, Path dir) {
    DatasetVersion v = resolve(ref);
    Path target = dir.toAbsolutePath().normalize();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        throw LabenvException.badInput(dir + ": exists and is not a directory; export needs a new or empty directory");
      }
      try (DirectoryStream<Path> s = Files.newDirectoryStream(target)) {
        if (s.iterator().hasNext()) {
          throw LabenvException.badInput(dir + ": not empty; export needs a new or empty directory");
        }
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + dir + ": " + e.getMessage(), e);
      }
    }
    Path parent = target.getParent();
    Path temp = parent.resolve(AtomicFile.TEMP_PREFIX + "export-" + target.getFileName() + "-" + AtomicFile.randomSuffix());
    try (StoreLock gc = store.lockShared()) {
      DatasetConfig config = config(v.manifest());
      Files.createDirectories(parent);
      Files.createDirectory(temp);
      write(manifest(v.manifest()), config, temp, false, v.digest());
      syncfs(temp);
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.deleteIfExists(target);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      AtomicFile.syncDirectory(parent);
      return v;
    } catch (IOException e) {
      throw LabenvException.failed("cannot export dataset " + ref + " to " + dir + ": " + e.getMessage(), e);
    } finally {
      if (Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) {
        new LayerApplier().remove(temp);
      }
    }
  }

  /**
   * Writes {@code config}'s entries below {@code root} from verified chunks. For a tree, read-only
   * modes; for an export, the recorded ones with the owner's write bit. Directory modes last, deepest
   * first, so that read-only directories are filled before they close.
   */
  private void write(Manifest manifest, DatasetConfig config, Path root, boolean readOnly, Digest version)
      throws IOException {
    Pieces pieces = new Pieces(manifest, version);
    List<Path> dirs = new ArrayList<>();
    List<Integer> dirModes = new ArrayList<>();
    for (DatasetFile f : config.files()) {
      Path p = root.resolve(f.path());
      switch (f.type()) {
        case DIR -> {
          Files.createDirectory(p);
          dirs.add(p);
          dirModes.add(readOnly ? 0555 : (f.mode() | 0700));
        }
        case SYMLINK -> Files.createSymbolicLink(p, Path.of(f.target()));
        case FILE -> {
          try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (Chunk c : f.chunks()) {
              pieces.copy(c, out, f.path());
            }
          }
          int mode = readOnly ? (f.executable() ? 0555 : 0444) : (f.mode() | 0200);
          Files.setPosixFilePermissions(p, permissions(mode));
        }
      }
    }
    for (int i = dirs.size() - 1; i >= 0; i--) {
      Files.setPosixFilePermissions(dirs.get(i), permissions(dirModes.get(i)));
    }
    if (readOnly) {
      Files.setPosixFilePermissions(root, permissions(0555));
    }
  }

  /**
   * Copies pieces of verified chunks: a whole chunk streamed, a piece of a packed one from the chunk
   * read whole (at most {@link #MAX_PACKED_CHUNK} bytes) and kept while the next files use it.
   */
  private final class Pieces {
    static final long MAX_PACKED_CHUNK = 64L << 20;
    final Map<Digest, Descriptor> blobs = new HashMap<>();
    final Digest version;
    Digest cached;
    byte[] bytes;

    Pieces(Manifest manifest, Digest version) {
      this.version = version;
      manifest.layers().forEach(l -> blobs.put(l.digest(), l));
    }

    void copy(Chunk c, OutputStream out, String file) throws IOException {
      Descriptor blob = blobs.get(c.digest());
      if (blob == null || c.start() < 0 || c.start() + c.size() > blob.size()) {
        throw LabenvException.badInput("dataset version " + version + ": file " + file + ": chunk " + c.digest()
            + (blob == null ? " is not in its manifest" : " is shorter than the piece it is said to hold"));
      }
      try {
        if (c.digest().equals(cached)) {
          out.write(bytes, (int) c.start(), (int) c.size());
        } else if (c.start() == 0 && c.size() == blob.size()) {
          try (InputStream in = store.open(blob)) {
            in.transferTo(out);
          }
        } else if (blob.size() <= MAX_PACKED_CHUNK) {
          try (InputStream in = store.open(blob)) {
            bytes = in.readAllBytes();
          }
          cached = c.digest();
          out.write(bytes, (int) c.start(), (int) c.size());
        } else {
          throw LabenvException.badInput("dataset version " + version + ": file " + file + ": a piece of chunk "
              + c.digest() + " of " + blob.size() + " bytes (packed chunks are at most " + MAX_PACKED_CHUNK + ")");
        }
      } catch (DigestMismatchException | labenv.store.BlobNotFoundException e) {
        throw LabenvException.failed("dataset version " + version + ": file " + file + ": chunk "
            + c.digest() + " is damaged or missing (" + e.getMessage() + "); run labenv dataset verify", e);
      }
    }
  }

  private static java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions(int mode) {
    StringBuilder sb = new StringBuilder();
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      sb.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
    }
    return PosixFilePermissions.fromString(sb.toString());
  }

  /** One syncfs for a whole tree instead of an fsync per file: the tree is published only after it. */
  private static void syncfs(Path dir) {
    int fd = Syscalls.openat(Libc.AT_FDCWD, Syscalls.cstr(dir.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
    try {
      Libc.syncfs(fd);
    } catch (com.sun.jna.LastErrorException e) {
      throw LabenvException.failed("syncfs " + dir + ": errno " + e.getErrorCode(), e);
    } finally {
      Syscalls.close(fd);
    }
  }

  // ---------------------------------------------------------------- prune

  /**
   * Removes the assembled trees of versions no longer named, unless {@code inUse} says a container
   * mounts one (it gets the tree's root path), half-built trees, and the records of versions no
   * longer named. The blobs go with the store's prune (named versions are index.json entries, so it
   * keeps their chunks). Holds the gc lock exclusively.
   */
  public DatasetPruneReport prune(Predicate<Path> inUse) {
    List<Digest> removed = new ArrayList<>();
    long freed = 0;
    try (StoreLock gc = store.lockExclusive()) {
      Set<String> named = new HashSet<>();
      versions().forEach(v -> named.add(v.digest().hex()));
      if (Files.isDirectory(treesDir)) {
        List<Path> doomed = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(treesDir)) {
          for (Path p : s) {
            String n = p.getFileName().toString();
            if (AtomicFile.isTemp(n) || (!named.contains(n) && !inUse.test(p.resolve("root")))) {
              doomed.add(p);
            }
          }
        }
        for (Path p : doomed) {
          freed += bytes(p);
          new LayerApplier().remove(p);
          String n = p.getFileName().toString();
          if (Digest.isDigest("sha256:" + n)) {
            removed.add(Digest.parse("sha256:" + n));
          }
        }
      }
      if (Files.isDirectory(versionsDir)) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(versionsDir, "*.json")) {
          for (Path p : s) {
            String n = p.getFileName().toString();
            if (!named.contains(n.substring(0, n.length() - 5))) {
              Files.deleteIfExists(p);
            }
          }
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot prune datasets in " + treesDir.getParent() + ": " + e.getMessage(), e);
    }
    return new DatasetPruneReport(removed, freed);
  }

  private static long bytes(Path dir) throws IOException {
    try (var s = Files.walk(dir)) {
      return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> p.toFile().length()).sum();
    } catch (java.io.UncheckedIOException e) {
      return 0;
    }
  }
}
