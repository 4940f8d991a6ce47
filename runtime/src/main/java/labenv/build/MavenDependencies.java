package labenv.build;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import labenv.LabenvException;
import labenv.image.Digest;
import org.apache.maven.repository.internal.MavenRepositorySystemUtils;
import org.eclipse.aether.ConfigurationProperties;
import org.eclipse.aether.DefaultRepositorySystemSession;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.artifact.Artifact;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.LocalRepository;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.repository.RepositoryPolicy;
import org.eclipse.aether.resolution.ArtifactRequest;
import org.eclipse.aether.resolution.ArtifactResolutionException;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.ResolutionErrorPolicy;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.transfer.ArtifactNotFoundException;
import org.eclipse.aether.transfer.ArtifactTransferException;
import org.eclipse.aether.transfer.ChecksumFailureException;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;
import org.eclipse.aether.util.repository.SimpleResolutionErrorPolicy;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * JVM dependencies of an image: the Envfile's {@code MAVEN group:artifact:version ...} resolved with Maven Resolver
 * (transitive, runtime scope, Maven's own conflict rules) from Maven Central into a local repository the caller owns,
 * each artifact then pinned by the sha256 of its bytes. With a lock, exactly the pinned artifacts are fetched and
 * checked; nothing is resolved again, so a new release upstream cannot move the build.
 *
 * <p>The repository is Maven Central unless {@value #REPOSITORY_ENV} names another, or {@code ~/.m2/settings.xml}
 * has a mirror of central (its URL only: credentials and proxies there are not read).
 */
public final class MavenDependencies {
  public static final String CENTRAL = "https://repo.maven.apache.org/maven2/";

  /** Environment variable naming another Maven repository (a mirror of Central) to resolve from. */
  public static final String REPOSITORY_ENV = "LABENV_MAVEN_REPOSITORY";

  /** Where the Maven layer puts the artifacts in the image, in the repository layout. */
  public static final String IMAGE_DIRECTORY = "opt/labenv/maven";

  /**
   * The classpath file in {@link #IMAGE_DIRECTORY}: the jars' absolute paths in the image, one a line, in classpath
   * order. An analysis can use it as {@code java -cp "$(paste -sd: /opt/labenv/maven/classpath)" ...}.
   */
  public static final String CLASSPATH_FILE = "classpath";

  /** One resolved artifact: its coordinates (the version resolved), its file in the local repository, its bytes' pin. */
  public record ResolvedArtifact(MavenCoordinates coordinates, Path file, Digest digest, long size,
      String repository) {
    /** Its entry in {@code labenv.lock}. */
    public Lockfile.MavenArtifact pin() {
      return new Lockfile.MavenArtifact(coordinates, digest, size, repository);
    }

    /** Its path in the image. */
    public String pathInImage() {
      return "/" + IMAGE_DIRECTORY + "/" + coordinates.directory() + "/" + coordinates.fileName();
    }
  }

  private final Path localRepository;
  private final String repository;

  /** Resolves into {@code localRepository} from {@link #defaultRepository()}. */
  public MavenDependencies(Path localRepository) {
    this(localRepository, defaultRepository());
  }

  /** Resolves into {@code localRepository} from the Maven repository at {@code repositoryUrl}. */
  public MavenDependencies(Path localRepository, String repositoryUrl) {
    this.localRepository = localRepository.toAbsolutePath();
    this.repository = repositoryUrl.endsWith("/") ? repositoryUrl : repositoryUrl + "/";
  }

  /** The repository URL resolution uses. */
  public String repository() {
    return repository;
  }

  /**
   * {@value #REPOSITORY_ENV} when set, else the URL of a mirror of central in {@code ~/.m2/settings.xml}, else
   * Maven Central.
   */
  public static String defaultRepository() {
    String env = System.getenv(REPOSITORY_ENV);
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    String mirror = settingsMirror(Path.of(System.getProperty("user.home"), ".m2", "settings.xml"));
    return mirror != null ? mirror : CENTRAL;
  }

  /**
   * Resolves {@code coordinates} ({@code g:a[:ext[:classifier]]:v}, as in the MAVEN instruction) and their runtime
   * dependencies, downloading what the local repository lacks. Returns every artifact in classpath order.
   */
  public List<ResolvedArtifact> resolve(List<String> coordinates) {
    List<MavenCoordinates> requested = parse(coordinates);
    if (requested.isEmpty()) {
      return List.of();
    }
    RepositorySystem system = new RepositorySystemSupplier().get();
    try {
      DefaultRepositorySystemSession session = session(system);
      CollectRequest collect = new CollectRequest();
      for (MavenCoordinates c : requested) {
        collect.addDependency(new Dependency(artifact(c), JavaScopes.COMPILE));
      }
      collect.setRepositories(List.of(remote()));
      DependencyRequest request =
          new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
      List<ArtifactResult> results;
      try {
        results = system.resolveDependencies(session, request).getArtifactResults();
      } catch (Exception e) {
        throw failure(String.join(" ", coordinates), e);
      }
      List<ResolvedArtifact> resolved = new ArrayList<>();
      for (ArtifactResult r : results) {
        Artifact a = r.getArtifact();
        MavenCoordinates c = new MavenCoordinates(a.getGroupId(), a.getArtifactId(), a.getExtension(),
            a.getClassifier(), a.getVersion());
        resolved.add(measure(c, a.getFile().toPath()));
      }
      return List.copyOf(resolved);
    } finally {
      system.shutdown();
    }
  }

  /**
   * Exactly the artifacts {@code lock} pins, in its order, each checked against its sha256. {@code requested} is
   * what the Envfile asks for now; if it is not what the lock was made for, the lock is out of date and this fails.
   * Artifacts already in the local repository with the pinned sha256 are used without any network access; a local
   * copy with other bytes is fetched again; fetched bytes that differ from the pin fail the build.
   */
  public List<ResolvedArtifact> resolvePinned(List<String> requested, Lockfile.Maven lock) {
    Set<MavenCoordinates> now = new LinkedHashSet<>(parse(requested));
    Set<MavenCoordinates> then = new LinkedHashSet<>(lock.requested());
    if (!now.equals(then)) {
      Set<MavenCoordinates> added = new LinkedHashSet<>(now);
      added.removeAll(then);
      Set<MavenCoordinates> removed = new LinkedHashSet<>(then);
      removed.removeAll(now);
      throw LabenvException.failed("the MAVEN instructions changed since " + Lockfile.FILE_NAME + " was written"
          + (added.isEmpty() ? "" : " (added " + join(added) + ")")
          + (removed.isEmpty() ? "" : " (removed " + join(removed) + ")")
          + ": run `labenv lock` to accept the change");
    }
    List<ResolvedArtifact> out = new ArrayList<>();
    List<Lockfile.MavenArtifact> missing = new ArrayList<>();
    for (Lockfile.MavenArtifact pin : lock.artifacts()) {
      Path file = localPath(pin.coordinates());
      if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        ResolvedArtifact local = measure(pin.coordinates(), file);
        if (local.digest().equals(pin.digest())) {
          out.add(new ResolvedArtifact(pin.coordinates(), file, pin.digest(), local.size(), repository));
          continue;
        }
        // Other bytes than the pin under the pinned name: a corrupt or tampered cache entry. Never use it.
        delete(file);
      }
      missing.add(pin);
      out.add(null);
    }
    if (missing.isEmpty()) {
      return List.copyOf(out);
    }
    RepositorySystem system = new RepositorySystemSupplier().get();
    List<ResolvedArtifact> fetched = new ArrayList<>();
    try {
      DefaultRepositorySystemSession session = session(system);
      List<ArtifactRequest> requests = new ArrayList<>();
      for (Lockfile.MavenArtifact pin : missing) {
        requests.add(new ArtifactRequest(artifact(pin.coordinates()), List.of(remote()), null));
      }
      List<ArtifactResult> results;
      try {
        results = system.resolveArtifacts(session, requests);
      } catch (Exception e) {
        throw failure(join(missing.stream().map(Lockfile.MavenArtifact::coordinates).toList()), e);
      }
      for (int i = 0; i < results.size(); i++) {
        Lockfile.MavenArtifact pin = missing.get(i);
        Path file = results.get(i).getArtifact().getFile().toPath();
        ResolvedArtifact got = measure(pin.coordinates(), file);
        if (!got.digest().equals(pin.digest())) {
          delete(file);
          throw LabenvException.failed("maven artifact " + pin.coordinates() + ": " + Lockfile.FILE_NAME + " pins "
              + pin.digest() + " but " + describe(repository) + " served " + got.digest()
              + "; if the new bytes are trusted, run `labenv lock` to accept them");
        }
        fetched.add(got);
      }
    } finally {
      system.shutdown();
    }
    int next = 0;
    for (int i = 0; i < out.size(); i++) {
      if (out.get(i) == null) {
        out.set(i, fetched.get(next++));
      }
    }
    return List.copyOf(out);
  }

  /** The lock section for {@code requested} resolved to {@code artifacts}. */
  public static Lockfile.Maven pins(List<String> requested, List<ResolvedArtifact> artifacts) {
    return new Lockfile.Maven(parse(requested), artifacts.stream().map(ResolvedArtifact::pin).toList());
  }

  /**
   * Lays {@code artifacts} out under {@code stagingRoot}/{@value #IMAGE_DIRECTORY} in the repository layout and
   * writes the {@value #CLASSPATH_FILE} file (jar artifacts only, in the given order). Every copy is checked against
   * its sha256 as it is made. Returns the classpath file.
   */
  public Path writeLayerTree(List<ResolvedArtifact> artifacts, Path stagingRoot) {
    Path base = stagingRoot.resolve(IMAGE_DIRECTORY);
    StringBuilder classpath = new StringBuilder();
    try {
      Files.createDirectories(base);
      for (ResolvedArtifact a : artifacts) {
        Path dir = base.resolve(a.coordinates().directory());
        Files.createDirectories(dir);
        Path target = dir.resolve(a.coordinates().fileName());
        copyChecked(a, target);
        if (a.coordinates().extension().equals("jar")) {
          classpath.append(a.pathInImage()).append('\n');
        }
      }
      Path file = base.resolve(CLASSPATH_FILE);
      Files.write(file, classpath.toString().getBytes(StandardCharsets.UTF_8));
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
      // Directories as an image expects them whatever the umask: the layer writer keeps modes.
      List<Path> dirs = new ArrayList<>();
      for (Path p = base.getParent(); p != null && p.startsWith(stagingRoot) && !p.equals(stagingRoot);
          p = p.getParent()) {
        dirs.add(p);
      }
      try (var walk = Files.walk(base)) {
        walk.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).forEach(dirs::add);
      }
      for (Path d : dirs) {
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
      return file;
    } catch (IOException e) {
      throw LabenvException.failed("cannot lay out the Maven layer in " + stagingRoot + ": " + e.getMessage(), e);
    }
  }

  /** The classpath as {@code java -cp} and {@code CLASSPATH} take it: the jars' image paths joined with ':'. */
  public static String classpath(List<ResolvedArtifact> artifacts) {
    return String.join(":", artifacts.stream().filter(a -> a.coordinates().extension().equals("jar"))
        .map(ResolvedArtifact::pathInImage).toList());
  }

  // --- resolver wiring ---

  private DefaultRepositorySystemSession session(RepositorySystem system) {
    DefaultRepositorySystemSession session = MavenRepositorySystemUtils.newSession();
    // "simple": a file present under its name is used whatever repository it came from; labenv checks the bytes.
    session.setLocalRepositoryManager(
        system.newLocalRepositoryManager(session, new LocalRepository(localRepository.toFile(), "simple")));
    // Never remember a failed download: after a network outage the next build must try again.
    session.setResolutionErrorPolicy(new SimpleResolutionErrorPolicy(ResolutionErrorPolicy.CACHE_DISABLED));
    session.setChecksumPolicy(RepositoryPolicy.CHECKSUM_POLICY_FAIL);
    // As mvn does: POM profiles may be activated by the JDK's properties.
    session.setSystemProperties(System.getProperties());
    // Two builds at once may share the local repository: lock across processes, not only threads.
    session.setConfigProperty("aether.syncContext.named.factory", "file-lock");
    session.setConfigProperty("aether.syncContext.named.nameMapper", "file-gav");
    session.setConfigProperty(ConfigurationProperties.CONNECT_TIMEOUT, 15_000);
    session.setConfigProperty(ConfigurationProperties.REQUEST_TIMEOUT, 120_000);
    session.setConfigProperty(ConfigurationProperties.USER_AGENT, "labenv (Maven Resolver)");
    return session;
  }

  private RemoteRepository remote() {
    RepositoryPolicy releases = new RepositoryPolicy(true, RepositoryPolicy.UPDATE_POLICY_DAILY,
        RepositoryPolicy.CHECKSUM_POLICY_FAIL);
    return new RemoteRepository.Builder("central", "default", repository).setReleasePolicy(releases)
        .setSnapshotPolicy(new RepositoryPolicy(false, RepositoryPolicy.UPDATE_POLICY_NEVER,
            RepositoryPolicy.CHECKSUM_POLICY_FAIL))
        .build();
  }

  private static Artifact artifact(MavenCoordinates c) {
    return new DefaultArtifact(c.groupId(), c.artifactId(), c.classifier(), c.extension(), c.version());
  }

  /** Where the "simple" local repository keeps a release artifact. */
  private Path localPath(MavenCoordinates c) {
    return localRepository.resolve(c.directory()).resolve(c.fileName());
  }

  /** One line for a resolver failure: not found (bad input), unreachable, corrupt download, or other. */
  private LabenvException failure(String what, Exception e) {
    List<Throwable> all = causes(e);
    for (Throwable t : all) {
      if (t instanceof ArtifactNotFoundException nf) {
        String missing = name(nf.getArtifact());
        return LabenvException.badInput("maven artifact " + missing + (missing.equals(what) ? "" : " (for " + what + ")")
            + ": not found in " + describe(repository) + "; check the coordinates in the MAVEN instruction");
      }
    }
    for (Throwable t : all) {
      if (t instanceof UnknownHostException || t instanceof ConnectException || t instanceof NoRouteToHostException
          || t instanceof SocketTimeoutException || t instanceof SSLException) {
        String why = t instanceof UnknownHostException ? "unknown host " + t.getMessage() : oneLine(t);
        return LabenvException.failed("cannot reach " + describe(repository) + ": " + why
            + " (set " + REPOSITORY_ENV + " to use a mirror)", e);
      }
    }
    for (Throwable t : all) {
      if (t instanceof ChecksumFailureException c) {
        return LabenvException.failed("maven artifact for " + what + ": the download from " + describe(repository)
            + " does not match its published checksum (" + oneLine(c) + "); try again", e);
      }
    }
    Throwable root = all.stream().filter(t -> t instanceof ArtifactTransferException).findFirst().orElse(e);
    return LabenvException.failed("cannot resolve " + what + " from " + describe(repository) + ": " + oneLine(root),
        e);
  }

  /**
   * {@code e}, its causes and suppressed exceptions, and the per-artifact exceptions the resolver keeps in its
   * results (only the first of those is the cause).
   */
  private static List<Throwable> causes(Throwable e) {
    List<Throwable> out = new ArrayList<>();
    java.util.ArrayDeque<Throwable> todo = new java.util.ArrayDeque<>(List.of(e));
    Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    while (!todo.isEmpty()) {
      Throwable t = todo.poll();
      if (!seen.add(t)) {
        continue;
      }
      out.add(t);
      if (t.getCause() != null) {
        todo.add(t.getCause());
      }
      todo.addAll(List.of(t.getSuppressed()));
      if (t instanceof ArtifactResolutionException are) {
        are.getResults().forEach(r -> todo.addAll(r.getExceptions()));
      }
      if (t instanceof DependencyResolutionException dre && dre.getResult() != null) {
        todo.addAll(dre.getResult().getCollectExceptions());
        dre.getResult().getArtifactResults().forEach(r -> todo.addAll(r.getExceptions()));
      }
    }
    return out;
  }

  private static String name(Artifact a) {
    if (a == null) {
      return "?";
    }
    return new MavenCoordinates(a.getGroupId(), a.getArtifactId(), a.getExtension(), a.getClassifier(),
        a.getVersion()).toString();
  }

  private static String describe(String url) {
    return url.equals(CENTRAL) ? "Maven Central (" + url + ")" : "Maven repository " + url;
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static List<MavenCoordinates> parse(List<String> coordinates) {
    List<MavenCoordinates> list = new ArrayList<>();
    for (String s : coordinates) {
      list.add(MavenCoordinates.parse(s.trim()));
    }
    return list;
  }

  private static String join(java.util.Collection<MavenCoordinates> cs) {
    return String.join(", ", cs.stream().map(MavenCoordinates::toString).toList());
  }

  // --- files ---

  private ResolvedArtifact measure(MavenCoordinates c, Path file) {
    MessageDigest sha = Digest.newSha256();
    long size = 0;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + " (maven artifact " + c + "): " + e.getMessage(), e);
    }
    return new ResolvedArtifact(c, file, Digest.sha256(sha.digest()), size, repository);
  }

  private static void copyChecked(ResolvedArtifact a, Path target) throws IOException {
    MessageDigest sha = Digest.newSha256();
    try (InputStream in = Files.newInputStream(a.file());
        OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
        out.write(buf, 0, n);
      }
    }
    Digest got = Digest.sha256(sha.digest());
    if (!got.equals(a.digest())) {
      throw LabenvException.failed("maven artifact " + a.coordinates() + ": " + a.file() + " changed since it was"
          + " resolved (" + a.digest() + ", now " + got + ")");
    }
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw LabenvException.failed("cannot remove " + file + " from the Maven repository: " + e.getMessage(), e);
    }
  }

  /** The URL of the first mirror of central in a Maven settings file; null if none or unreadable. */
  static String settingsMirror(Path settings) {
    if (!Files.isRegularFile(settings)) {
      return null;
    }
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setExpandEntityReferences(false);
      Element doc = f.newDocumentBuilder().parse(settings.toFile()).getDocumentElement();
      NodeList mirrors = doc.getElementsByTagName("mirror");
      String wildcard = null;
      for (int i = 0; i < mirrors.getLength(); i++) {
        Element m = (Element) mirrors.item(i);
        String of = text(m, "mirrorOf");
        String url = text(m, "url");
        if (of == null || url == null) {
          continue;
        }
        List<String> patterns = List.of(of.replace(" ", "").split(","));
        if (patterns.contains("!central")) {
          continue;
        }
        if (patterns.contains("central")) {
          return url; // an exact match wins over a wildcard, as in Maven
        }
        if (wildcard == null && (patterns.contains("*") || patterns.contains("external:*")
            || patterns.contains("external:https:*"))) {
          wildcard = url;
        }
      }
      return wildcard;
    } catch (Exception e) {
      // A settings file Maven itself could not read either: Central, as without one.
      return null;
    }
  }

  private static String text(Element parent, String tag) {
    NodeList l = parent.getElementsByTagName(tag);
    return l.getLength() == 0 ? null : l.item(0).getTextContent().trim();
  }
}
