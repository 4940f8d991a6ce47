package labenv.build;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Digest;

/**
 * What is installed in an unpacked image, read from the package managers' own records (dpkg's status file,
 * Python's {@code .dist-info}/{@code .egg-info}, R's DESCRIPTION files) and from the Maven layer's directory.
 * Nothing from the image is executed, and paths are resolved with the image's root as "/": an image's symlinks
 * cannot make this read the host's files.
 */
public final class Inventory {
  /** A Debian package: {@code name} as dpkg names it ({@code libc6}, or {@code libc6:i386} when foreign). */
  public record DebianPackage(String name, String architecture, String version) {}

  /** A Python distribution or R package, and the directory (in the image) it was found in. */
  public record Distribution(String name, String version, String location) {}

  private static final String DPKG_STATUS = "var/lib/dpkg/status";
  private static final String DPKG_STATUS_D = "var/lib/dpkg/status.d";
  private static final List<String> R_LIBRARIES =
      List.of("usr/lib/R/library", "usr/lib/R/site-library", "usr/local/lib/R/site-library");
  private static final Pattern PEP503 = Pattern.compile("[-_.]+");
  /** Deep enough for {@code opt/<env>/lib/python3.X/site-packages} and conda's {@code envs/<name>/...}. */
  private static final int OPT_DEPTH = 6;

  private final String debianArchitecture;
  private final SortedMap<String, DebianPackage> debianPackages;
  private final List<Distribution> pythonDistributions;
  private final List<Distribution> rPackages;
  private final List<Lockfile.MavenArtifact> maven;

  private Inventory(String debianArchitecture, SortedMap<String, DebianPackage> debianPackages,
      List<Distribution> pythonDistributions, List<Distribution> rPackages, List<Lockfile.MavenArtifact> maven) {
    this.debianArchitecture = debianArchitecture;
    this.debianPackages = Collections.unmodifiableSortedMap(debianPackages);
    this.pythonDistributions = List.copyOf(pythonDistributions);
    this.rPackages = List.copyOf(rPackages);
    this.maven = List.copyOf(maven);
  }

  /** Reads what is installed under {@code root}, an unpacked image's root filesystem. */
  public static Inventory of(Path root) {
    if (!Files.isDirectory(root)) {
      throw LabenvException.failed("cannot take the inventory of " + root + ": not a directory");
    }
    try {
      Path status = inRoot(root, DPKG_STATUS);
      List<Map<String, String>> stanzas = new ArrayList<>();
      if (Files.isRegularFile(status, LinkOption.NOFOLLOW_LINKS)) {
        stanzas.addAll(DebianStatus.read(status));
      }
      // Distroless images have no dpkg: one file per package under status.d, each listing an installed package,
      // often without a Status field.
      for (Path f : children(inRoot(root, DPKG_STATUS_D))) {
        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && !f.getFileName().toString().endsWith(".md5sums")) {
          for (Map<String, String> s : DebianStatus.read(f)) {
            s.putIfAbsent("Status", "install ok installed");
            stanzas.add(s);
          }
        }
      }
      String arch = nativeArchitecture(stanzas);
      SortedMap<String, DebianPackage> debian = new TreeMap<>();
      for (Map<String, String> s : stanzas) {
        DebianPackage p = debianPackage(s, arch, status);
        if (p != null) {
          debian.put(p.name(), p);
        }
      }
      return new Inventory(arch, debian, python(root), r(root), maven(root));
    } catch (UncheckedIOException e) {
      throw LabenvException.failed("cannot take the inventory of " + root + ": " + e.getCause().getMessage(), e);
    } catch (IOException e) {
      throw LabenvException.failed("cannot take the inventory of " + root + ": " + e.getMessage(), e);
    }
  }

  /** dpkg's native architecture (that of the dpkg package itself); null when the image has no dpkg. */
  public String debianArchitecture() {
    return debianArchitecture;
  }

  /** Installed Debian packages by name. */
  public SortedMap<String, DebianPackage> debianPackages() {
    return debianPackages;
  }

  /** Installed Debian packages: name (with {@code :arch} when foreign) to exact version. */
  public SortedMap<String, String> debian() {
    SortedMap<String, String> m = new TreeMap<>();
    debianPackages.forEach((name, p) -> m.put(name, p.version()));
    return Collections.unmodifiableSortedMap(m);
  }

  /** Python distributions (names normalised as PEP 503 says), sorted by name, then location. */
  public List<Distribution> pythonDistributions() {
    return pythonDistributions;
  }

  /**
   * Python distributions: name to version. A name installed in several places with different versions maps to
   * those versions, sorted and joined with {@code ", "}.
   */
  public SortedMap<String, String> python() {
    return versions(pythonDistributions);
  }

  /** R packages, sorted by name, then library. */
  public List<Distribution> rPackages() {
    return rPackages;
  }

  /** R packages: name to version (several versions joined as for {@link #python()}). */
  public SortedMap<String, String> r() {
    return versions(rPackages);
  }

  /**
   * The jars of the Maven layer ({@code /opt/labenv/maven}) in the order of its classpath file, then any the file does
   * not list, by path; the repository is unknown here (null).
   */
  public List<Lockfile.MavenArtifact> maven() {
    return maven;
  }

  /** The PEP 503 normalised form of a Python distribution name. */
  public static String normalizePython(String name) {
    return PEP503.matcher(name.trim()).replaceAll("-").toLowerCase(Locale.ROOT);
  }

  // --- Debian ---

  private static String nativeArchitecture(List<Map<String, String>> stanzas) {
    Map<String, Integer> counts = new TreeMap<>();
    for (Map<String, String> s : stanzas) {
      String arch = s.get("Architecture");
      if ("dpkg".equals(s.get("Package")) && arch != null && installed(s)) {
        return arch;
      }
      if (arch != null && !arch.equals("all") && installed(s)) {
        counts.merge(arch, 1, Integer::sum);
      }
    }
    // No dpkg package recorded (a hand-made root): the most common architecture stands in for it.
    return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
  }

  /**
   * The package a stanza records, or null when it is not installed. Installed is the third word of Status
   * ({@code install ok installed}, and also {@code hold ok installed}: a held package is still there).
   */
  private static DebianPackage debianPackage(Map<String, String> s, String nativeArch, Path status) {
    if (!installed(s)) {
      return null;
    }
    String name = s.get("Package");
    String version = s.get("Version");
    String arch = s.get("Architecture");
    if (name == null || version == null || arch == null) {
      throw LabenvException.failed(status + ": an installed package's stanza lacks "
          + (name == null ? "Package" : version == null ? "Version" : "Architecture")
          + (name == null ? "" : " (package " + name + ")"));
    }
    boolean foreign = !arch.equals("all") && !arch.equals(nativeArch);
    return new DebianPackage(foreign ? name + ":" + arch : name, arch, version);
  }

  private static boolean installed(Map<String, String> s) {
    String status = s.get("Status");
    if (status == null) {
      return false;
    }
    String[] words = status.trim().split("\\s+");
    return words.length == 3 && words[2].equals("installed");
  }

  /** deb822 stanzas as dpkg writes its status file: {@code Field: value}, continuation lines start with a blank. */
  static final class DebianStatus {
    private DebianStatus() {}

    static List<Map<String, String>> read(Path file) throws IOException {
      // Latin-1 never fails to decode; the fields read here are ASCII.
      try (BufferedReader in = reader(file, StandardCharsets.ISO_8859_1)) {
        return parse(in);
      }
    }

    static List<Map<String, String>> parse(BufferedReader in) throws IOException {
      List<Map<String, String>> stanzas = new ArrayList<>();
      Map<String, String> current = new HashMap<>();
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isBlank()) {
          if (!current.isEmpty()) {
            stanzas.add(current);
            current = new HashMap<>();
          }
        } else if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
          // A continuation line (Description, Conffiles...): none of the fields read here spans lines, and text
          // such as " Package: x" inside a description must not be taken for a field.
          continue;
        } else {
          int colon = line.indexOf(':');
          if (colon > 0) {
            current.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
          }
        }
      }
      if (!current.isEmpty()) {
        stanzas.add(current);
      }
      return stanzas;
    }
  }

  // --- Python ---

  private static List<Distribution> python(Path root) throws IOException {
    TreeSet<Path> siteDirs = new TreeSet<>();
    for (String lib : List.of("usr/lib", "usr/local/lib")) {
      for (Path dir : children(inRoot(root, lib))) {
        if (dir.getFileName().toString().startsWith("python3") && isDirectory(dir)) {
          findSiteDirs(dir, 2, siteDirs);
        }
      }
    }
    findSiteDirs(inRoot(root, "opt"), OPT_DEPTH, siteDirs);
    findSiteDirs(inRoot(root, "root/.local"), 4, siteDirs);
    for (Path home : children(inRoot(root, "home"))) {
      if (isDirectory(home)) {
        findSiteDirs(home.resolve(".local"), 4, siteDirs);
      }
    }
    List<Distribution> found = new ArrayList<>();
    for (Path site : siteDirs) {
      String location = "/" + root.relativize(site);
      for (Path entry : children(site)) {
        String name = entry.getFileName().toString();
        Path metadata = null;
        if (name.endsWith(".dist-info") && isDirectory(entry)) {
          metadata = entry.resolve("METADATA");
        } else if (name.endsWith(".egg-info")) {
          // setuptools writes a directory with PKG-INFO; distutils wrote the PKG-INFO text as the file itself.
          metadata = isDirectory(entry) ? entry.resolve("PKG-INFO") : entry;
        }
        if (metadata == null || !Files.isRegularFile(metadata, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        Map<String, String> headers = headers(metadata);
        String dist = headers.get("name");
        String version = headers.get("version");
        if (dist != null && version != null && !dist.isBlank()) {
          found.add(new Distribution(normalizePython(dist), version.trim(), location));
        }
      }
    }
    found.sort(Comparator.comparing(Distribution::name).thenComparing(Distribution::location)
        .thenComparing(Distribution::version));
    return found;
  }

  /** Every site-packages or dist-packages directory under {@code base}, not following symlinks. */
  private static void findSiteDirs(Path base, int depth, TreeSet<Path> into) throws IOException {
    if (!isDirectory(base)) {
      return;
    }
    Files.walkFileTree(base, EnumSet.noneOf(java.nio.file.FileVisitOption.class), depth,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            String name = dir.getFileName().toString();
            if (name.equals("site-packages") || name.equals("dist-packages")) {
              into.add(dir);
              return FileVisitResult.SKIP_SUBTREE;
            }
            // conda's package cache holds unpacked packages that are not installed anywhere.
            if (name.equals("pkgs") && Files.isDirectory(dir.resolveSibling("conda-meta"), LinkOption.NOFOLLOW_LINKS)) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            // At the depth limit directories arrive here: a site dir exactly there still counts.
            String name = file.getFileName().toString();
            if (attrs.isDirectory() && (name.equals("site-packages") || name.equals("dist-packages"))) {
              into.add(file);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }
        });
  }

  /** The header fields of an email-style metadata file (PKG-INFO, METADATA), keys lower case; first wins. */
  private static Map<String, String> headers(Path file) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    try (BufferedReader in = reader(file, StandardCharsets.UTF_8)) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) {
          break; // the body (long description) follows
        }
        if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
          continue;
        }
        int colon = line.indexOf(':');
        if (colon > 0) {
          h.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
      }
    }
    return h;
  }

  // --- R ---

  private static List<Distribution> r(Path root) throws IOException {
    List<Distribution> found = new ArrayList<>();
    for (String lib : R_LIBRARIES) {
      Path dir = inRoot(root, lib);
      String location = "/" + lib;
      for (Path pkg : children(dir)) {
        Path description = pkg.resolve("DESCRIPTION");
        if (!isDirectory(pkg) || !Files.isRegularFile(description, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        List<Map<String, String>> stanzas;
        try (BufferedReader in = reader(description, StandardCharsets.UTF_8)) {
          stanzas = DebianStatus.parse(in); // DESCRIPTION is the same Debian control format
        }
        if (stanzas.isEmpty()) {
          continue;
        }
        String name = stanzas.get(0).get("Package");
        String version = stanzas.get(0).get("Version");
        if (name != null && version != null) {
          found.add(new Distribution(name, version, location));
        }
      }
    }
    found.sort(Comparator.comparing(Distribution::name).thenComparing(Distribution::location)
        .thenComparing(Distribution::version));
    return found;
  }

  // --- Maven ---

  private static List<Lockfile.MavenArtifact> maven(Path root) throws IOException {
    Path dir = inRoot(root, MavenDependencies.IMAGE_DIRECTORY);
    if (!isDirectory(dir)) {
      return List.of();
    }
    Map<String, Integer> order = new HashMap<>();
    Path classpath = dir.resolve(MavenDependencies.CLASSPATH_FILE);
    if (Files.isRegularFile(classpath, LinkOption.NOFOLLOW_LINKS)) {
      try (BufferedReader in = reader(classpath, StandardCharsets.UTF_8)) {
        for (String line; (line = in.readLine()) != null; ) {
          order.putIfAbsent(line.trim(), order.size());
        }
      }
    }
    List<Path> files = new ArrayList<>();
    try (var walk = Files.walk(dir)) {
      walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && !p.equals(classpath)).forEach(files::add);
    }
    record Found(String inImage, Lockfile.MavenArtifact artifact) {}
    List<Found> found = new ArrayList<>();
    for (Path file : files) {
      MavenCoordinates c = coordinates(dir.relativize(file));
      if (c == null) {
        continue;
      }
      MessageDigest sha = Digest.newSha256();
      long size = 0;
      try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
          sha.update(buf, 0, n);
          size += n;
        }
      }
      found.add(new Found("/" + root.relativize(file), new Lockfile.MavenArtifact(c, Digest.sha256(sha.digest()), size,
          null)));
    }
    found.sort(Comparator.comparing((Found f) -> order.getOrDefault(f.inImage(), Integer.MAX_VALUE))
        .thenComparing(Found::inImage));
    return found.stream().map(Found::artifact).toList();
  }

  /** Coordinates from a repository-layout path ({@code g/r/o/u/p/artifact/version/file}); null if it is not one. */
  static MavenCoordinates coordinates(Path relative) {
    int n = relative.getNameCount();
    if (n < 4) {
      return null;
    }
    String file = relative.getFileName().toString();
    String version = relative.getName(n - 2).toString();
    String artifact = relative.getName(n - 3).toString();
    String group = relative.subpath(0, n - 3).toString().replace('/', '.');
    String prefix = artifact + "-" + version;
    if (!file.startsWith(prefix) || file.length() <= prefix.length()) {
      return null;
    }
    String rest = file.substring(prefix.length());
    String classifier = "";
    if (rest.startsWith("-")) {
      int dot = rest.indexOf('.');
      if (dot < 2) {
        return null;
      }
      classifier = rest.substring(1, dot);
      rest = rest.substring(dot);
    }
    if (!rest.startsWith(".") || rest.length() < 2) {
      return null;
    }
    try {
      return new MavenCoordinates(group, artifact, rest.substring(1), classifier, version);
    } catch (LabenvException e) {
      return null;
    }
  }

  // --- paths inside the image ---

  /**
   * The host path of {@code relative} as the image sees it: symlinks are followed with {@code root} as "/" (an
   * absolute target starts again at root, ".." stops there), as openat2's RESOLVE_IN_ROOT would. The result need
   * not exist.
   */
  static Path inRoot(Path root, String relative) throws IOException {
    Deque<String> todo = new ArrayDeque<>();
    push(todo, relative);
    List<String> done = new ArrayList<>();
    int links = 0;
    while (!todo.isEmpty()) {
      String part = todo.pollFirst();
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!done.isEmpty()) {
          done.remove(done.size() - 1);
        }
        continue;
      }
      Path candidate = join(root, done).resolve(part);
      if (Files.isSymbolicLink(candidate)) {
        if (++links > 40) {
          throw new IOException("too many levels of symbolic links at /" + root.relativize(candidate));
        }
        String target = Files.readSymbolicLink(candidate).toString();
        if (target.startsWith("/")) {
          done.clear();
        }
        push(todo, target);
      } else {
        done.add(part);
      }
    }
    return join(root, done);
  }

  private static void push(Deque<String> todo, String path) {
    String[] parts = path.split("/");
    for (int i = parts.length - 1; i >= 0; i--) {
      todo.addFirst(parts[i]);
    }
  }

  private static Path join(Path root, List<String> parts) {
    Path p = root;
    for (String s : parts) {
      p = p.resolve(s);
    }
    return p;
  }

  private static boolean isDirectory(Path p) {
    return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
  }

  /** The entries of a directory, sorted; none when it is missing or not a directory (symlinks not followed). */
  private static List<Path> children(Path dir) throws IOException {
    if (!isDirectory(dir)) {
      return List.of();
    }
    List<Path> list = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      s.forEach(list::add);
    }
    Collections.sort(list);
    return list;
  }

  private static BufferedReader reader(Path file, Charset cs) throws IOException {
    // A decoder that replaces malformed bytes: an odd byte in a description must not stop the inventory.
    return new BufferedReader(new InputStreamReader(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), cs));
  }

  private static SortedMap<String, String> versions(List<Distribution> list) {
    Map<String, TreeSet<String>> m = new TreeMap<>();
    for (Distribution d : list) {
      m.computeIfAbsent(d.name(), k -> new TreeSet<>()).add(d.version());
    }
    SortedMap<String, String> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, String.join(", ", v)));
    return Collections.unmodifiableSortedMap(out);
  }
}
