package labenv.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageIndex;
import labenv.image.Json;

/**
 * A content-addressed blob store in an OCI image layout: {@code oci-layout}, {@code index.json},
 * {@code blobs/sha256/<hex>}.
 *
 * <p>Blobs become visible only complete and verified (see {@link BlobWriter}); index.json is
 * replaced atomically. Locks live in {@code locks/}:
 * <ul>
 *   <li>{@code gc.lock}: writers of blobs and names hold it shared; garbage collection holds it
 *       exclusive, so a blob written but not yet referenced is never collected. Hold
 *       {@link #lockShared()} from the first blob of an image to the name that publishes it.
 *   <li>{@code index.lock}: held exclusive for the short read-modify-write of index.json, so
 *       concurrent commands do not lose each other's names.
 * </ul>
 * Readers ({@link #index()}, {@link #open(Digest)}) take no lock and never wait for a writer.
 */
public final class ContentStore {
  public static final String LAYOUT_FILE = "oci-layout";
  public static final String INDEX_FILE = "index.json";
  public static final String BLOBS_DIR = "blobs";
  public static final String LOCKS_DIR = "locks";
  /** What {@code oci-layout} holds in a layout labenv creates. */
  public static final String LAYOUT_VERSION = "1.0.0";

  /** JSON documents (manifests, indexes, configs) larger than this are refused, not buffered. */
  public static final long MAX_JSON_BYTES = 8L << 20;
  private static final long MAX_INDEX_BYTES = 64L << 20;

  private static final Pattern HEX = Pattern.compile("[a-f0-9]+");
  /** Entries a directory may hold and still be initialised as a new store (an interrupted init). */
  // oci-layout itself: a concurrent open() may finish between our check and our listing.
  /** Unpacked layers, {@code layers/<diff ID hex>/rootfs}: a cache labenv.container keeps; prune trims it. */
  public static final String LAYERS_DIR = "layers";
  /** Where run keeps each container's spec and root filesystem: containers/ID/. */
  public static final String CONTAINERS_DIR = "containers";
  /** Named volumes (labenv.container). */
  public static final String VOLUMES_DIR = "volumes";

  // A process killed while creating the layout may leave any of these behind.
  private static final Set<String> INIT_ENTRIES =
      Set.of(BLOBS_DIR, INDEX_FILE, LOCKS_DIR, LAYOUT_FILE, LAYERS_DIR, CONTAINERS_DIR, VOLUMES_DIR);

  private final Path root;
  private final Path indexFile;
  private final LockFile gcLock;
  private final LockFile indexLock;

  private ContentStore(Path root) {
    this.root = root;
    this.indexFile = root.resolve(INDEX_FILE);
    this.gcLock = LockFile.of(root.resolve(LOCKS_DIR).resolve("gc.lock"));
    this.indexLock = LockFile.of(root.resolve(LOCKS_DIR).resolve("index.lock"));
  }

  /**
   * Where the store lives: {@code $LABENV_HOME}, else {@code $XDG_DATA_HOME/labenv}, else
   * {@code $HOME/.local/share/labenv}. The CLI's {@code --home} overrides all of these.
   */
  public static Path defaultRoot(Map<String, String> env) {
    String home = env.get("LABENV_HOME");
    if (home != null && !home.isBlank()) {
      return Path.of(home).toAbsolutePath();
    }
    String xdg = env.get("XDG_DATA_HOME");
    // The XDG spec says relative values are to be ignored.
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "labenv");
    }
    String userHome = env.get("HOME");
    if (userHome == null || userHome.isBlank()) {
      userHome = System.getProperty("user.home");
    }
    return Path.of(userHome, ".local", "share", "labenv");
  }

  /**
   * Opens the store at {@code root}, creating an empty layout if the directory is missing or empty.
   * An existing OCI image layout (skopeo's, umoci's) is used as it is. Throws
   * {@link InvalidStoreException} for a directory that holds something else.
   */
  public static ContentStore open(Path root) {
    Path abs = root.toAbsolutePath().normalize();
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new InvalidStoreException(abs + ": not a directory, cannot hold a store");
    }
    Path real;
    try {
      Files.createDirectories(abs);
      real = abs.toRealPath();
    } catch (IOException e) {
      throw LabenvException.failed("cannot create store directory " + abs + ": " + e.getMessage(), e);
    }
    ContentStore store = new ContentStore(real);
    if (Files.exists(real.resolve(LAYOUT_FILE), LinkOption.NOFOLLOW_LINKS)) {
      store.checkLayout();
    } else {
      store.initialise();
    }
    return store;
  }

  private void checkLayout() {
    Path layout = root.resolve(LAYOUT_FILE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(layout);
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + layout + ": " + e.getMessage(), e);
    }
    JsonNode node;
    try {
      node = Json.tree(bytes, layout.toString());
    } catch (LabenvException e) {
      throw new InvalidStoreException(e.getMessage());
    }
    JsonNode version = node.get("imageLayoutVersion");
    if (version == null || !version.isTextual()) {
      throw new InvalidStoreException(layout + ": no imageLayoutVersion, not an OCI image layout");
    }
    if (!version.asText().startsWith("1.")) {
      throw new InvalidStoreException(layout + ": unsupported imageLayoutVersion \"" + version.asText()
          + "\" (labenv reads 1.x)");
    }
    if (!Files.isRegularFile(indexFile)) {
      throw new InvalidStoreException(indexFile + ": missing from an OCI image layout");
    }
    try {
      Files.createDirectories(blobDir("sha256"));
    } catch (IOException e) {
      // A read-only layout can still be read.
    }
  }

  /**
   * Lays out a new store. index.json is written before oci-layout, and oci-layout marks a complete
   * layout, so a process killed half-way leaves a directory the next open() finishes.
   */
  private void initialise() {
    List<String> foreign = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (!INIT_ENTRIES.contains(name) && !AtomicFile.isTemp(name)) {
          foreign.add(name);
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + root + ": " + e.getMessage(), e);
    }
    if (!foreign.isEmpty()) {
      throw new InvalidStoreException(root + ": not an OCI image layout (no " + LAYOUT_FILE
          + " file) and not empty (holds " + String.join(", ", foreign.subList(0, Math.min(3, foreign.size())))
          + (foreign.size() > 3 ? ", …" : "") + "); refusing to turn it into a store");
    }
    StoreLock lock = indexLock.exclusive();
    try {
      if (Files.exists(root.resolve(LAYOUT_FILE))) {
        return; // another process finished first
      }
      Files.createDirectories(blobDir("sha256"));
      AtomicFile.syncDirectory(root.resolve(BLOBS_DIR));
      AtomicFile.syncDirectory(root);
      if (!Files.exists(indexFile)) {
        AtomicFile.write(indexFile, Json.canonical(ImageIndex.oci(List.of())));
      }
      AtomicFile.write(root.resolve(LAYOUT_FILE),
          ("{\"imageLayoutVersion\":\"" + LAYOUT_VERSION + "\"}").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw LabenvException.failed("cannot create store in " + root + ": " + e.getMessage(), e);
    } finally {
      lock.close();
    }
  }

  /** The store's directory (absolute, symlinks resolved). */
  public Path root() {
    return root;
  }

  /** Where the blob with {@code digest} lives (whether or not it is there). */
  public Path path(Digest digest) {
    return blobDir(digest.algorithm()).resolve(digest.hex());
  }

  Path blobDir(String algorithm) {
    return root.resolve(BLOBS_DIR).resolve(algorithm);
  }

  public boolean has(Digest digest) {
    return Files.isRegularFile(path(digest), LinkOption.NOFOLLOW_LINKS);
  }

  /** The blob's size in bytes; {@link BlobNotFoundException} when it is not there. */
  public long size(Digest digest) {
    try {
      return Files.size(path(digest));
    } catch (NoSuchFileException e) {
      throw new BlobNotFoundException(digest, root);
    } catch (IOException e) {
      throw LabenvException.failed("blob " + digest + ": " + e.getMessage(), e);
    }
  }

  /**
   * Streams the blob, hashing as it goes; reaching the end of a blob whose content does not match
   * its digest throws {@link DigestMismatchException}. A caller that stops early gets no check.
   */
  public InputStream open(Digest digest) {
    return open(digest, -1);
  }

  /** Like {@link #open(Digest)}, also checking the descriptor's size. */
  public InputStream open(Descriptor descriptor) {
    return open(descriptor.digest(), descriptor.size());
  }

  private InputStream open(Digest digest, long expectedSize) {
    try {
      return new VerifyingInputStream(Files.newInputStream(path(digest)), digest, expectedSize);
    } catch (NoSuchFileException e) {
      throw new BlobNotFoundException(digest, root);
    } catch (IOException e) {
      throw LabenvException.failed("blob " + digest + ": " + e.getMessage(), e);
    }
  }

  /** Reads a small blob (a manifest, a config) whole and verified; refuses blobs over {@code maxBytes}. */
  public byte[] read(Digest digest, long maxBytes) {
    return read(digest, -1, maxBytes);
  }

  /** Like {@link #read(Digest, long)}, also checking the descriptor's size. */
  public byte[] read(Descriptor descriptor, long maxBytes) {
    return read(descriptor.digest(), descriptor.size(), maxBytes);
  }

  private byte[] read(Digest digest, long expectedSize, long maxBytes) {
    long size = size(digest);
    if (expectedSize >= 0 && size != expectedSize) {
      throw new SizeMismatchException(LabenvException.Kind.FAILED, digest, expectedSize, size + " bytes in the store");
    }
    if (size > maxBytes) {
      throw LabenvException.badInput("blob " + digest + ": " + size + " bytes, more than the " + maxBytes
          + " a JSON document may have");
    }
    try (InputStream in = open(digest, size)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw LabenvException.failed("blob " + digest + ": " + e.getMessage(), e);
    }
  }

  /** Stores {@code data} (small documents; stream large ones through {@link #writer()}). */
  public Descriptor put(String mediaType, byte[] data) {
    try (BlobWriter w = writer()) {
      w.write(data);
      return Descriptor.of(mediaType, w.commit(null, data.length), data.length);
    }
  }

  /**
   * A stream that becomes a blob on {@link BlobWriter#commit}. The writer holds the shared gc lock
   * until it is closed; close it (try-with-resources) to release the lock and remove an
   * uncommitted temporary file.
   */
  public BlobWriter writer() {
    return new BlobWriter(this);
  }

  /**
   * Copies {@code in} to a blob, verifying it against {@code expected} and {@code expectedSize}
   * when given (null / -1 to skip). A stream longer than {@code expectedSize} is cut off at once,
   * so a hostile source cannot fill the disk.
   */
  public Descriptor copy(InputStream in, String mediaType, Digest expected, long expectedSize) {
    try (BlobWriter w = writer()) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        if (expectedSize >= 0 && w.size() + n > expectedSize) {
          throw new SizeMismatchException(LabenvException.Kind.BAD_INPUT, expected, expectedSize, "more");
        }
        w.write(buf, 0, n);
      }
      Digest d = w.commit(expected, expectedSize);
      return Descriptor.of(mediaType, d, w.size());
    } catch (IOException e) {
      throw LabenvException.failed("blob " + (expected == null ? "(new)" : expected) + ": cannot read source: "
          + e.getMessage(), e);
    }
  }

  /** Holds the gc lock shared: blobs written and names published meanwhile are safe from collection. */
  public StoreLock lockShared() {
    return gcLock.shared();
  }

  /** Holds the gc lock exclusively: no one else writes blobs or names meanwhile. */
  public StoreLock lockExclusive() {
    return gcLock.exclusive();
  }

  /** The current index.json, read without a lock (it is only ever replaced whole). */
  public ImageIndex index() {
    byte[] bytes;
    try {
      if (Files.size(indexFile) > MAX_INDEX_BYTES) {
        throw LabenvException.badInput(indexFile + ": larger than " + MAX_INDEX_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(indexFile);
    } catch (NoSuchFileException e) {
      throw new InvalidStoreException(indexFile + ": missing from an OCI image layout");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + indexFile + ": " + e.getMessage(), e);
    }
    ImageIndex index = Json.parse(bytes, ImageIndex.class, indexFile.toString());
    if (index.schemaVersion() != 2) {
      throw LabenvException.badInput(indexFile + ": schemaVersion " + index.schemaVersion() + ", want 2");
    }
    for (int i = 0; i < index.manifests().size(); i++) {
      String problem = descriptorProblem(index.manifests().get(i));
      if (problem != null) {
        throw LabenvException.badInput(indexFile + ": manifests[" + i + "]: " + problem);
      }
    }
    return index;
  }

  /** What is structurally wrong with a descriptor (no digest, no media type, bad size), or null. */
  static String descriptorProblem(Descriptor d) {
    if (d == null) {
      return "null descriptor";
    }
    if (d.digest() == null) {
      return "no digest";
    }
    if (d.mediaType() == null || d.mediaType().isEmpty()) {
      return "no mediaType";
    }
    if (d.size() < 0) {
      return "negative size " + d.size();
    }
    return null;
  }

  /**
   * Read-modify-write of index.json under the index lock (and a shared gc hold, as this may
   * publish a name): {@code change} runs once, on the newest index, and no concurrent update is
   * lost. Returns the index written. Keep {@code change} short; every writer waits for it.
   */
  public ImageIndex updateIndex(UnaryOperator<ImageIndex> change) {
    StoreLock gc = gcLock.shared();
    try {
      StoreLock idx = indexLock.exclusive();
      try {
        ImageIndex current = index();
        ImageIndex next = change.apply(current);
        if (!next.equals(current)) {
          AtomicFile.write(indexFile, Json.canonical(next));
        }
        return next;
      } finally {
        idx.close();
      }
    } finally {
      gc.close();
    }
  }

  /** Every blob present, by digest (names that are not digests are skipped; fsck reports them). */
  List<Digest> blobs() {
    List<Digest> out = new ArrayList<>();
    Path dir = root.resolve(BLOBS_DIR);
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> algorithms = Files.newDirectoryStream(dir)) {
      for (Path alg : algorithms) {
        if (!Files.isDirectory(alg, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(alg)) {
          for (Path f : files) {
            Digest d = digestOf(alg.getFileName().toString(), f.getFileName().toString());
            if (d != null) {
              out.add(d);
            }
          }
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot list blobs in " + dir + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** The digest a blob file name stands for, or null if the name is not one. */
  static Digest digestOf(String algorithm, String name) {
    if (!HEX.matcher(name).matches()) {
      return null;
    }
    try {
      return new Digest(algorithm, name);
    } catch (Digest.InvalidDigestException e) {
      return null;
    }
  }

  /** Temporary files left in the blob directories and the root (by killed or running writers). */
  List<Path> tempFiles() {
    List<Path> out = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    dirs.add(root);
    try (DirectoryStream<Path> algorithms = Files.newDirectoryStream(root.resolve(BLOBS_DIR))) {
      for (Path alg : algorithms) {
        if (Files.isDirectory(alg, LinkOption.NOFOLLOW_LINKS)) {
          dirs.add(alg);
        }
      }
    } catch (NoSuchFileException e) {
      // no blobs yet
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + root.resolve(BLOBS_DIR) + ": " + e.getMessage(), e);
    }
    for (Path dir : dirs) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> AtomicFile.isTemp(p.getFileName().toString()))) {
        files.forEach(out::add);
      } catch (IOException e) {
        throw LabenvException.failed("cannot list " + dir + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /** Removes a blob; callers hold the exclusive gc lock. Returns the bytes freed (0 if absent). */
  long delete(Digest digest) {
    Path p = path(digest);
    try {
      long size = Files.size(p);
      Files.delete(p);
      return size;
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      throw LabenvException.failed("cannot delete blob " + digest + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "ContentStore[" + root + "]";
  }
}
