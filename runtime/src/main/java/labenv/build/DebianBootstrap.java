package labenv.build;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.Progress;
import labenv.archive.Archives;
import labenv.archive.ImportOptions;
import labenv.archive.ImportResult;
import labenv.container.HostTools;
import labenv.image.ImageConfig;
import labenv.image.Platform;
import labenv.linux.Syscalls;
import labenv.store.ImageStore;

/**
 * A Debian base image made here, from a Debian mirror, with mmdebstrap: a tarball of the root written in a staging
 * directory of the store, imported as a one-layer image ({@link Archives#importRootfs(Archives.RootfsMaker, String,
 * ImportOptions)}) whose tar stream is mmdebstrap's own, byte for byte.
 *
 * <p>Reproducible: the same options, the same mirror state and the same SOURCE_DATE_EPOCH give the same image digest.
 * mmdebstrap takes care of most of it when SOURCE_DATE_EPOCH is set: its tar is sorted by name, mtimes are clamped to
 * the epoch, owners numeric, atime and ctime left out; it removes apt's package lists and cache, the dpkg, apt and
 * alternatives logs, /var/cache/ldconfig/aux-cache and /var/lib/dbus/machine-id, empties /etc/machine-id, and
 * empties /tmp and /run. What it leaves that depends on the host, labenv removes with customize hooks:
 * {@code /etc/hostname} (the host's name) is deleted and {@code /etc/resolv.conf} (the host's, with the host's mode)
 * becomes an empty 0644 file, a place for the runtime to put the container's own. {@code /dev} is not in the image
 * ({@code --skip=output/dev}): device nodes cannot be unpacked without root, and every container gets its own /dev.
 *
 * <p>What still goes into the digest, on purpose: the mirror URIs (they are the image's /etc/apt/sources.list and
 * its history), the suite, variant, architecture and extra packages (the history says them), and the mmdebstrap
 * version (the history's comment). The mirror's content moves as Debian publishes updates: give a dated snapshot of
 * the archive as the mirror to make the same image next year. Only the
 * given mirrors are used: a stable suite's -updates and -security pockets come in only when given as further
 * {@code --mirror "deb URI SUITE-security main"} lines.
 */
public final class DebianBootstrap {
  /** The package sets mmdebstrap can install; minbase is Docker's debian image: Essential, Priority required, apt. */
  public static final List<String> VARIANTS = List.of("minbase", "apt", "essential", "required", "important",
      "standard");

  public static final String DEFAULT_MIRROR = "http://deb.debian.org/debian";

  /** What the image starts with: Docker's debian images' PATH and command. */
  static final ImageConfig.Config CONFIG = new ImageConfig.Config(null, null,
      List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), null, List.of("bash"), null,
      null, null, null, null, null, null, null);

  private static final int TAIL_LINES = 20;
  private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?");
  private static final Pattern ARCHITECTURE = Pattern.compile("[a-z0-9][a-z0-9-]*");

  /**
   * What to make.
   *
   * @param suite a Debian codename
   * @param variant one of {@link #VARIANTS}
   * @param include packages installed on top of the variant's (any order; sorted here)
   * @param mirrors mirror URIs or whole {@code deb ...} lines, in order; the first is the suite's main mirror
   * @param architecture Debian's architecture name (amd64, arm64, armhf...)
   * @param sourceDateEpoch seconds since 1970: every file's latest mtime and the image's created time
   */
  public record Options(String suite, String variant, List<String> include, List<String> mirrors,
      String architecture, long sourceDateEpoch) {
    public Options {
      include = List.copyOf(new TreeSet<>(include));
      mirrors = List.copyOf(mirrors);
    }

    /** minbase, no extra packages, the host's mirror and architecture, epoch 0. */
    public static Options defaults(String suite) {
      return new Options(suite, "minbase", List.of(), List.of(defaultMirror(Path.of("/etc/apt"))),
          hostArchitecture(), 0);
    }

    public Options withVariant(String v) {
      return new Options(suite, v, include, mirrors, architecture, sourceDateEpoch);
    }

    public Options withInclude(List<String> packages) {
      return new Options(suite, variant, packages, mirrors, architecture, sourceDateEpoch);
    }

    public Options withMirrors(List<String> m) {
      return new Options(suite, variant, include, m, architecture, sourceDateEpoch);
    }

    public Options withArchitecture(String a) {
      return new Options(suite, variant, include, mirrors, a, sourceDateEpoch);
    }

    public Options withSourceDateEpoch(long seconds) {
      return new Options(suite, variant, include, mirrors, architecture, seconds);
    }

    /** Bad input for anything mmdebstrap would not take or that would not mean the same everywhere. */
    void check() {
      if (!VARIANTS.contains(variant)) {
        throw LabenvException.badInput("--variant " + variant + ": want one of " + String.join(", ", VARIANTS));
      }
      for (String p : include) {
        if (!PACKAGE.matcher(p).matches()) {
          throw LabenvException.badInput("--include \"" + p + "\" is not a Debian package name (NAME or NAME=VERSION)");
        }
      }
      if (mirrors.isEmpty()) {
        throw LabenvException.badInput("no mirror to bootstrap from");
      }
      for (String m : mirrors) {
        if (!(m.contains("://") || m.startsWith("deb ")) || m.indexOf('\n') >= 0) {
          throw LabenvException.badInput("--mirror \"" + m + "\": want a URI (http://deb.debian.org/debian) or a "
              + "one-line apt source (deb URI SUITE COMPONENTS)");
        }
      }
      if (!ARCHITECTURE.matcher(architecture).matches()) {
        throw LabenvException.badInput("--arch \"" + architecture + "\" is not a Debian architecture (amd64, arm64...)");
      }
      platform(architecture);
      if (sourceDateEpoch < 0) {
        throw LabenvException.badInput("source date epoch " + sourceDateEpoch + " is negative");
      }
    }

    /** The labenv command line these options stand for: the image's history says it. */
    String commandLine() {
      StringBuilder b = new StringBuilder("labenv bootstrap debian:").append(suite)
          .append(" --variant ").append(variant).append(" --arch ").append(architecture);
      if (!include.isEmpty()) {
        b.append(" --include ").append(String.join(",", include));
      }
      for (String m : mirrors) {
        b.append(" --mirror ").append(m.contains(" ") ? "'" + m + "'" : m);
      }
      return b.toString();
    }
  }

  private final Archives archives;
  private final Consumer<String> log;

  /**
   * @param progress reports the import of the finished tarball
   * @param log gets each line mmdebstrap writes, as it writes it (its status lines, and apt's errors)
   */
  public DebianBootstrap(ImageStore images, Progress progress, Consumer<String> log) {
    this.archives = new Archives(images, progress);
    this.log = log;
  }

  /**
   * Makes the image and names it {@code name}.
   *
   * @throws LabenvException bad input for bad options; failed when mmdebstrap is missing or fails (the message
   *     carries its last error line; all its lines went to the log)
   */
  public ImportResult bootstrap(Options options, String name) {
    options.check();
    String mmdebstrap = mmdebstrap();
    String version = version(mmdebstrap);
    ImportOptions importOptions = ImportOptions.defaults()
        .withSourceDateEpoch(options.sourceDateEpoch())
        .withPlatform(platform(options.architecture()))
        .withConfig(CONFIG)
        .withHistory(options.commandLine(), "mmdebstrap " + version);
    return archives.importRootfs(target -> run(command(mmdebstrap, options, target, Syscalls.isRoot()),
        options.sourceDateEpoch()), name, importOptions);
  }

  /** The mmdebstrap command line that writes {@code target}, a tar. */
  static List<String> command(String mmdebstrap, Options o, Path target, boolean root) {
    List<String> cmd = new ArrayList<>(List.of(mmdebstrap,
        // root: chroot and mounts in a private directory; otherwise a user namespace of subordinate ids
        "--mode=" + (root ? "root" : "unshare"),
        "--variant=" + o.variant(),
        "--architectures=" + o.architecture(),
        "--format=tar",
        "--skip=output/dev",
        "--customize-hook=rm -f \"$1/etc/hostname\"",
        "--customize-hook=rm -f \"$1/etc/resolv.conf\" && : > \"$1/etc/resolv.conf\""
            + " && chmod 0644 \"$1/etc/resolv.conf\""));
    if (!o.include().isEmpty()) {
      cmd.add("--include=" + String.join(",", o.include()));
    }
    // "--": a suite, target or mirror is never taken for an option
    cmd.add("--");
    cmd.add(o.suite());
    cmd.add(target.toString());
    cmd.addAll(o.mirrors());
    return cmd;
  }

  private void run(List<String> cmd, long sourceDateEpoch) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> env = pb.environment();
    env.put(labenv.SourceDateEpoch.VARIABLE, Long.toString(sourceDateEpoch));
    env.put("LC_ALL", "C.UTF-8");
    Deque<String> tail = new ArrayDeque<>();
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw LabenvException.failed("cannot start mmdebstrap: " + e.getMessage(), e);
    }
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        // progress bars redraw with \r: the last drawing is the line
        int cr = line.lastIndexOf('\r');
        String shown = cr >= 0 ? line.substring(cr + 1) : line;
        if (tail.size() == TAIL_LINES) {
          tail.removeFirst();
        }
        tail.addLast(shown);
        log.accept(shown);
      }
    } catch (IOException e) {
      p.destroy();
      HostTools.waitFor(p);
      throw LabenvException.failed("cannot read mmdebstrap's output: " + e.getMessage(), e);
    }
    int code = HostTools.waitFor(p);
    if (code != 0) {
      throw LabenvException.failed("mmdebstrap failed (exit " + code + ")" + firstError(tail));
    }
  }

  /**
   * The first "E:" line of mmdebstrap's last lines, else its last line: what went wrong, in its words (the first
   * error is the cause, apt's; the last is mmdebstrap's "failed to run").
   */
  static String firstError(Deque<String> tail) {
    List<String> lines = new ArrayList<>(tail);
    for (String line : lines) {
      if (line.startsWith("E: ")) {
        return ": " + line.substring(3).trim();
      }
    }
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (!lines.get(i).isBlank()) {
        return ": " + lines.get(i).trim();
      }
    }
    return "";
  }

  /** The mmdebstrap on PATH; failed, saying what to install, when there is none. */
  static String mmdebstrap() {
    String path = System.getenv("PATH");
    List<String> dirs = new ArrayList<>(List.of((path == null ? "" : path).split(":")));
    dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/bin"));
    for (String dir : dirs) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "mmdebstrap"))) {
        return Path.of(dir, "mmdebstrap").toString();
      }
    }
    throw LabenvException.failed("mmdebstrap is not installed: apt-get install mmdebstrap");
  }

  private static String version(String mmdebstrap) {
    try {
      Process p = new ProcessBuilder(mmdebstrap, "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      HostTools.waitFor(p);
      // "mmdebstrap 1.3.5"
      return out.startsWith("mmdebstrap ") ? out.substring("mmdebstrap ".length()).lines().findFirst().orElse("?")
          : out.lines().findFirst().orElse("?");
    } catch (IOException e) {
      throw LabenvException.failed("cannot run " + mmdebstrap + " --version: " + e.getMessage(), e);
    }
  }

  /**
   * The first Debian archive URI (one whose path ends in /debian: deb.debian.org, a country mirror, a caching proxy)
   * among the host's apt sources, as apt reads them: sources.list, then sources.list.d's *.list and *.sources by
   * name; {@link #DEFAULT_MIRROR} when there is none.
   */
  public static String defaultMirror(Path aptDir) {
    List<Path> files = new ArrayList<>();
    files.add(aptDir.resolve("sources.list"));
    try (Stream<Path> s = Files.list(aptDir.resolve("sources.list.d"))) {
      s.filter(f -> f.getFileName().toString().endsWith(".list") || f.getFileName().toString().endsWith(".sources"))
          .sorted().forEach(files::add);
    } catch (IOException e) {
      // no sources.list.d
    }
    for (Path f : files) {
      List<String> lines;
      try {
        lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      } catch (IOException | java.io.UncheckedIOException e) {
        continue;
      }
      String found = f.getFileName().toString().endsWith(".sources") ? fromDeb822(lines) : fromOneLine(lines);
      if (found != null) {
        return found;
      }
    }
    return DEFAULT_MIRROR;
  }

  private static String fromOneLine(List<String> lines) {
    for (String raw : lines) {
      String line = raw.replaceFirst("#.*", "").trim();
      if (!line.startsWith("deb ") && !line.startsWith("deb\t")) {
        continue;
      }
      String rest = line.substring(4).trim();
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        if (close < 0) {
          continue;
        }
        rest = rest.substring(close + 1).trim();
      }
      String uri = rest.split("\\s+")[0];
      if (isDebianArchive(uri)) {
        return uri;
      }
    }
    return null;
  }

  private static String fromDeb822(List<String> lines) {
    // stanzas separated by blank lines; a stanza counts when its Types include deb and it is not disabled
    List<String> uris = new ArrayList<>();
    boolean deb = false;
    boolean enabled = true;
    List<String> all = new ArrayList<>(lines);
    all.add("");
    for (String raw : all) {
      if (raw.startsWith("#")) {
        continue;
      }
      if (raw.isBlank()) {
        if (deb && enabled) {
          for (String u : uris) {
            if (isDebianArchive(u)) {
              return u;
            }
          }
        }
        uris.clear();
        deb = false;
        enabled = true;
        continue;
      }
      int colon = raw.indexOf(':');
      if (colon < 0 || Character.isWhitespace(raw.charAt(0))) {
        continue;
      }
      String key = raw.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = raw.substring(colon + 1).trim();
      switch (key) {
        case "types" -> deb = List.of(value.split("\\s+")).contains("deb");
        case "uris" -> uris.addAll(List.of(value.split("\\s+")));
        case "enabled" -> enabled = !value.equalsIgnoreCase("no");
        default -> { }
      }
    }
    return null;
  }

  private static boolean isDebianArchive(String uri) {
    if (!uri.startsWith("http://") && !uri.startsWith("https://")) {
      return false;
    }
    String path = uri.replaceFirst("/+$", "");
    return path.endsWith("/debian");
  }

  /** The host's architecture in Debian's words. */
  static String hostArchitecture() {
    return switch (Platform.host().architecture()) {
      case "386" -> "i386";
      case "arm" -> "armhf";
      case "ppc64le" -> "ppc64el";
      case "mips64le" -> "mips64el";
      default -> Platform.host().architecture();
    };
  }

  /** The OCI platform of a Debian architecture. */
  static Platform platform(String debianArchitecture) {
    return switch (debianArchitecture) {
      case "amd64" -> Platform.of("linux", "amd64");
      case "arm64" -> new Platform("arm64", "linux", null, null, "v8");
      case "armhf" -> new Platform("arm", "linux", null, null, "v7");
      case "armel" -> new Platform("arm", "linux", null, null, "v5");
      case "i386" -> Platform.of("linux", "386");
      case "ppc64el" -> Platform.of("linux", "ppc64le");
      case "s390x" -> Platform.of("linux", "s390x");
      case "riscv64" -> Platform.of("linux", "riscv64");
      case "mips64el" -> Platform.of("linux", "mips64le");
      case "loong64" -> Platform.of("linux", "loong64");
      default -> throw LabenvException.badInput("--arch " + debianArchitecture + ": labenv knows amd64, arm64, armhf, "
          + "armel, i386, ppc64el, s390x, riscv64, mips64el and loong64");
    };
  }
}
