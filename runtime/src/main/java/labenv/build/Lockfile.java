package labenv.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.store.AtomicFile;

/**
 * {@code labenv.lock}: what a build resolved to, so that a later {@code labenv build --locked} can insist on it.
 * Written as indented JSON with sorted keys, one package per line, so that a change to it reads well in a diff.
 *
 * <p>Base images keep the Envfile's stage order and Maven artifacts the classpath order (both are meaningful:
 * the classpath file in the image follows it); everything else is sorted by name.
 */
public record Lockfile(int lockfileVersion, List<BaseImage> baseImages, Debian debian,
    SortedMap<String, String> python, SortedMap<String, String> r, Maven maven) {

  /** The format this labenv writes and reads. */
  public static final int VERSION = 1;

  /** Its name, next to the Envfile. */
  public static final String FILE_NAME = "labenv.lock";

  public Lockfile {
    if (lockfileVersion != VERSION) {
      throw LabenvException.badInput(lockfileVersion == 0 ? "not a labenv lock file (no lockfileVersion)"
          : "lockfileVersion " + lockfileVersion + " is not one this labenv reads (" + VERSION + ")");
    }
    baseImages = baseImages == null ? List.of() : List.copyOf(baseImages);
    debian = debian == null ? new Debian(null, null) : debian;
    python = sorted(python);
    r = sorted(r);
    maven = maven == null ? new Maven(null, null) : maven;
  }

  /** A lock of this format version. */
  public static Lockfile of(List<BaseImage> baseImages, Debian debian, Map<String, String> python,
      Map<String, String> r, Maven maven) {
    return new Lockfile(VERSION, baseImages, debian, sorted(python), sorted(r), maven);
  }

  /** What an image holds (its {@link Inventory}), with the base images it was built from and the Maven pins. */
  public static Lockfile of(List<BaseImage> baseImages, Inventory inventory, Maven maven) {
    return of(baseImages, new Debian(inventory.debianArchitecture(), inventory.debian()), inventory.python(),
        inventory.r(), maven);
  }

  /** The image a stage starts from, as written in FROM and as the digest it resolved to. */
  public record BaseImage(String stage, String image, Digest digest) {
    public BaseImage {
      Objects.requireNonNull(stage, "stage");
      Objects.requireNonNull(image, "image");
      Objects.requireNonNull(digest, "digest");
    }
  }

  /**
   * Debian packages as {@code dpkg} names them ({@code name}, or {@code name:arch} for a foreign architecture) with
   * their exact versions; {@code architecture} is dpkg's native one (null without dpkg).
   */
  public record Debian(String architecture, SortedMap<String, String> packages) {
    public Debian {
      packages = sorted(packages);
    }

    public Debian(String architecture, Map<String, String> packages) {
      this(architecture, sorted(packages));
    }
  }

  /**
   * The JVM dependencies: {@code requested} as the Envfile's MAVEN instructions list them, {@code artifacts} what they
   * resolved to, in classpath order.
   */
  public record Maven(List<MavenCoordinates> requested, List<MavenArtifact> artifacts) {
    public Maven {
      requested = requested == null ? List.of() : List.copyOf(requested);
      artifacts = artifacts == null ? List.of() : List.copyOf(artifacts);
    }
  }

  /**
   * One pinned artifact: its sha256 and size, and the repository it came from. The repository is a note for
   * people (any mirror serving the same bytes will do) and is not compared.
   */
  public record MavenArtifact(MavenCoordinates coordinates, Digest digest, long size, String repository) {
    public MavenArtifact {
      Objects.requireNonNull(coordinates, "coordinates");
      Objects.requireNonNull(digest, "digest");
      if (!digest.algorithm().equals("sha256")) {
        throw LabenvException.badInput(coordinates + ": digest must be sha256, not " + digest.algorithm());
      }
      if (size < 0) {
        throw LabenvException.badInput(coordinates + ": negative size " + size);
      }
    }
  }

  /**
   * One difference between the lock and a build. {@code locked} is null for something the build added,
   * {@code actual} null for something it no longer has.
   */
  public record Drift(String section, String name, String locked, String actual) {}

  /** Section names of {@link Drift}, in report order. */
  public static final String BASE_IMAGE = "base image";
  public static final String DEBIAN = "debian";
  public static final String PYTHON = "python";
  public static final String R = "r";
  public static final String MAVEN_REQUEST = "maven request";
  public static final String MAVEN = "maven";

  /** The {@link Drift#name()} of a change of dpkg's native architecture (no package is named with parentheses). */
  public static final String ARCHITECTURE = "(architecture)";

  /** The {@link Drift#name()} of a change in the order of the Maven classpath. */
  public static final String CLASSPATH_ORDER = "(classpath order)";

  /** Reads a lock file; a missing or malformed one is bad input naming the file. */
  public static Lockfile read(Path path) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(path + ": no such lock file; run `labenv lock` to write one");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + path + ": " + e.getMessage(), e);
    }
    return Json.parse(bytes, Lockfile.class, path.toString());
  }

  /** Writes this lock to {@code path}, replacing it atomically. */
  public void write(Path path) {
    AtomicFile.write(path, text().getBytes(StandardCharsets.UTF_8));
  }

  /** The file's text: indented JSON, keys sorted, one array element a line, ending with a newline. */
  public String text() {
    try {
      return Json.mapper().writer(PRINTER).writeValueAsString(this) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the lock", e);
    }
  }

  /** Json's pretty form, with {@code "key": value} and arrays one element a line, as people write JSON. */
  private static final DefaultPrettyPrinter PRINTER = new DefaultPrettyPrinter()
      .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
      .withArrayIndenter(new DefaultIndenter("  ", "\n"))
      .withObjectIndenter(new DefaultIndenter("  ", "\n"));

  /** Every difference between {@code locked} and {@code actual}, grouped by section in report order. */
  public static List<Drift> compare(Lockfile locked, Lockfile actual) {
    List<Drift> drifts = new ArrayList<>();
    Map<String, String> lockedImages = images(locked.baseImages);
    Map<String, String> actualImages = images(actual.baseImages);
    compareMaps(BASE_IMAGE, lockedImages, actualImages, keysInOrder(lockedImages, actualImages), drifts);

    if (!Objects.equals(locked.debian.architecture(), actual.debian.architecture())) {
      drifts.add(new Drift(DEBIAN, ARCHITECTURE, locked.debian.architecture(), actual.debian.architecture()));
    }
    Map<String, String> lp = locked.debian.packages();
    Map<String, String> ap = actual.debian.packages();
    compareMaps(DEBIAN, lp, ap, union(lp, ap), drifts);
    compareMaps(PYTHON, locked.python, actual.python, union(locked.python, actual.python), drifts);
    compareMaps(R, locked.r, actual.r, union(locked.r, actual.r), drifts);

    Map<String, String> lr = requests(locked.maven.requested());
    Map<String, String> ar = requests(actual.maven.requested());
    compareMaps(MAVEN_REQUEST, lr, ar, keysInOrder(lr, ar), drifts);

    Map<String, MavenArtifact> la = artifacts(locked.maven.artifacts());
    Map<String, MavenArtifact> aa = artifacts(actual.maven.artifacts());
    for (String key : keysInOrder(la, aa)) {
      MavenArtifact l = la.get(key);
      MavenArtifact a = aa.get(key);
      if (l == null || a == null) {
        drifts.add(new Drift(MAVEN, key, l == null ? null : l.coordinates().version(),
            a == null ? null : a.coordinates().version()));
      } else if (!l.coordinates().version().equals(a.coordinates().version())) {
        drifts.add(new Drift(MAVEN, key, l.coordinates().version(), a.coordinates().version()));
      } else if (!l.digest().equals(a.digest()) || l.size() != a.size()) {
        // Same name and version, other bytes: a republished or tampered artifact.
        drifts.add(new Drift(MAVEN, key, l.coordinates().version() + " (" + l.digest() + ")",
            a.coordinates().version() + " (" + a.digest() + ")"));
      }
    }
    List<String> lo = new ArrayList<>(la.keySet());
    List<String> ao = new ArrayList<>(aa.keySet());
    lo.retainAll(aa.keySet());
    ao.retainAll(la.keySet());
    if (!lo.equals(ao)) {
      drifts.add(new Drift(MAVEN, CLASSPATH_ORDER, String.join(" ", lo), String.join(" ", ao)));
    }
    return List.copyOf(drifts);
  }

  /**
   * The drift as people read it: one line per difference, grouped by section, and how to accept the change.
   * Empty drift reads as a match.
   */
  public static String report(List<Drift> drifts, String lockPath) {
    if (drifts.isEmpty()) {
      return lockPath + ": the build matches the lock\n";
    }
    StringBuilder sb = new StringBuilder();
    sb.append(lockPath).append(": the build differs from the lock in ").append(drifts.size())
        .append(drifts.size() == 1 ? " place" : " places").append('\n');
    for (Drift d : drifts) {
      sb.append("  ").append(label(d)).append(": ");
      if (d.locked() == null) {
        sb.append("added (").append(d.actual()).append(')');
      } else if (d.actual() == null) {
        sb.append("removed (was ").append(d.locked()).append(')');
      } else {
        sb.append(d.locked()).append(" \u2192 ").append(d.actual());
      }
      sb.append('\n');
    }
    sb.append("If these changes are wanted, run `labenv lock` again to accept them (it rewrites ").append(lockPath)
        .append("); otherwise find what moved (a base image re-tagged, a package mirror, an unpinned install)\n");
    return sb.toString();
  }

  private static String label(Drift d) {
    return switch (d.section()) {
      case BASE_IMAGE -> "base image of stage " + d.name();
      case DEBIAN -> d.name().equals(ARCHITECTURE) ? "debian architecture" : "debian package " + d.name();
      case PYTHON -> "python package " + d.name();
      case R -> "R package " + d.name();
      case MAVEN_REQUEST -> "MAVEN instruction " + d.name();
      case MAVEN -> d.name().equals(CLASSPATH_ORDER) ? "maven classpath order" : "maven artifact " + d.name();
      default -> d.section() + " " + d.name();
    };
  }

  private static void compareMaps(String section, Map<String, String> locked, Map<String, String> actual,
      Set<String> keys, List<Drift> drifts) {
    for (String key : keys) {
      String l = locked.get(key);
      String a = actual.get(key);
      if (!Objects.equals(l, a)) {
        drifts.add(new Drift(section, key, l, a));
      }
    }
  }

  private static Map<String, String> images(List<BaseImage> images) {
    Map<String, String> m = new LinkedHashMap<>();
    for (BaseImage b : images) {
      m.put(b.stage(), b.image() + "@" + b.digest());
    }
    return m;
  }

  private static Map<String, String> requests(List<MavenCoordinates> requested) {
    Map<String, String> m = new LinkedHashMap<>();
    for (MavenCoordinates c : requested) {
      m.merge(c.versionlessKey(), c.version(), (x, y) -> x + ", " + y);
    }
    return m;
  }

  private static Map<String, MavenArtifact> artifacts(List<MavenArtifact> artifacts) {
    Map<String, MavenArtifact> m = new LinkedHashMap<>();
    for (MavenArtifact a : artifacts) {
      m.putIfAbsent(a.coordinates().versionlessKey(), a);
    }
    return m;
  }

  /** The locked keys in their order, then the ones only the build has, in theirs. */
  private static Set<String> keysInOrder(Map<String, ?> locked, Map<String, ?> actual) {
    Set<String> keys = new LinkedHashSet<>(locked.keySet());
    keys.addAll(actual.keySet());
    return keys;
  }

  private static Set<String> union(Map<String, ?> a, Map<String, ?> b) {
    Set<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    return keys;
  }

  private static SortedMap<String, String> sorted(Map<String, String> m) {
    return m == null ? Collections.emptySortedMap() : Collections.unmodifiableSortedMap(new TreeMap<>(m));
  }
}
