package labenv.cli;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import labenv.LabenvException;
import labenv.SourceDateEpoch;
import labenv.archive.ImportResult;
import labenv.build.BaseImages;
import labenv.build.BusyboxBootstrap;
import labenv.build.DebianBootstrap;
import labenv.image.ImageReference;
import labenv.image.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bootstrap",
    description = {"Make a base image without a registry.",
        "debian:CODENAME is made with mmdebstrap from a Debian mirror (the host's, by default); busybox from this " +
        "host's static busybox. The same inputs (and, for Debian, the same mirror state) give the same digest."})
final class BootstrapCommand extends Verb {
  /** How many of mmdebstrap's last lines a failure shows when its output was not shown as it came. */
  static final int TAIL_LINES = 20;

  @Parameters(index = "0", paramLabel = "debian:CODENAME|busybox", description = "what to make")
  String target;

  @Option(names = {"-t", "--tag"}, paramLabel = "NAME[:TAG]",
      description = "the image's name (default: the target, busybox:latest for busybox)")
  String tag;

  @Option(names = "--include", split = ",", paramLabel = "PKG", description = "Debian: more packages to install")
  List<String> include = new ArrayList<>();

  @Option(names = "--mirror", paramLabel = "URL",
      description = "Debian: a mirror URI or a whole 'deb URI SUITE COMPONENTS' line; repeatable "
          + "(default: the host's Debian mirror, else " + DebianBootstrap.DEFAULT_MIRROR + ")")
  List<String> mirrors = new ArrayList<>();

  @Option(names = "--variant", paramLabel = "minbase|apt|essential|required|important|standard",
      description = "Debian: the package set (default minbase)")
  String variant;

  @Option(names = "--arch", paramLabel = "ARCH", description = "Debian: the architecture (default: the host's)")
  String arch;

  @Option(names = "--source-date-epoch", paramLabel = "SECONDS",
      description = "the latest file time and the image's created time (default $SOURCE_DATE_EPOCH, else 0)")
  Long sourceDateEpoch;

  @Option(names = "--progress", paramLabel = "auto|plain|quiet",
      description = "mmdebstrap's output: shown on a terminal (auto), always (plain) or never (quiet)")
  String progressMode = "auto";

  @Option(names = "--format", description = "table (text) or json")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    BaseImages.Target what = BaseImages.parse(target);
    String name = tag != null ? tag : what.defaultName();
    // a bad name fails now, not after minutes of mmdebstrap
    ImageReference.parse(name);
    long epoch = epoch();
    boolean showOutput = switch (progressMode) {
      case "auto" -> Terminal.stderrIsTerminal() && !"plain".equals(root.env.get("LABENV_PROGRESS"));
      case "plain" -> true;
      case "quiet" -> false;
      default -> throw LabenvException.badInput("--progress \"" + progressMode + "\": want auto, plain or quiet");
    };
    ImportResult r;
    if (what instanceof BaseImages.Debian debian) {
      r = debian(debian, name, epoch, showOutput);
    } else {
      if (!include.isEmpty() || !mirrors.isEmpty() || variant != null || arch != null) {
        throw LabenvException.badInput("--include, --mirror, --variant and --arch are for debian:CODENAME, "
            + "not busybox");
      }
      try {
        r = new BusyboxBootstrap(images(), bar()).bootstrap(BusyboxBootstrap.HOST_BUSYBOX, epoch, name);
      } catch (LabenvException e) {
        throw e.withContext("bootstrap busybox");
      }
    }
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("digest", r.manifest().digest().toString());
      m.put("config", r.config().toString());
      m.put("layer", r.layer().digest().toString());
      m.put("layerSize", r.layer().size());
      m.put("diffId", r.diffId().toString());
      m.put("uncompressedSize", r.uncompressedSize());
      out().println(Json.pretty(m));
    } else {
      out().println(r.name() + " " + r.manifest().digest());
    }
    out().flush();
    return ExitCode.OK;
  }

  private ImportResult debian(BaseImages.Debian debian, String name, long epoch, boolean showOutput) {
    DebianBootstrap.Options options = DebianBootstrap.Options.defaults(debian.suite()).withSourceDateEpoch(epoch)
        .withInclude(include);
    if (!mirrors.isEmpty()) {
      options = options.withMirrors(mirrors);
    }
    if (variant != null) {
      options = options.withVariant(variant);
    }
    if (arch != null) {
      options = options.withArchitecture(arch);
    }
    Deque<String> tail = new ArrayDeque<>();
    Consumer<String> log = line -> {
      if (showOutput) {
        err().println(line);
        err().flush();
      } else {
        if (tail.size() == TAIL_LINES) {
          tail.removeFirst();
        }
        tail.addLast(line);
      }
    };
    try {
      return new DebianBootstrap(images(), bar(), log)
          .bootstrap(options, name);
    } catch (LabenvException e) {
      // what mmdebstrap said before it failed: apt's errors are in there, the one line below is not enough
      if (e.kind() == LabenvException.Kind.FAILED) {
        tail.forEach(err()::println);
      }
      throw e.withContext("bootstrap debian:" + debian.suite());
    }
  }

  /** The import's progress bar: only for auto, as for the other verbs; plain and quiet ask for lines or nothing. */
  private labenv.Progress bar() {
    return progressMode.equals("auto") ? progress() : labenv.Progress.NONE;
  }

  private long epoch() {
    if (sourceDateEpoch != null) {
      if (sourceDateEpoch < 0) {
        throw LabenvException.badInput("--source-date-epoch " + sourceDateEpoch + " is negative");
      }
      return sourceDateEpoch;
    }
    return SourceDateEpoch.parse(root.env.get(SourceDateEpoch.VARIABLE));
  }
}
