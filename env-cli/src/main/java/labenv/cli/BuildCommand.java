package labenv.cli;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.SourceDateEpoch;
import labenv.build.BuildListener;
import labenv.build.BuildRequest;
import labenv.build.BuildResult;
import labenv.build.Builder;
import labenv.build.Lockfile;
import labenv.build.Locking;
import labenv.image.Json;
import labenv.store.StoreLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "build",
    description = {"Build an image from an Envfile (Dockerfile syntax) in DIR.",
        "Reads DIR/Envfile, else DIR/Dockerfile. Steps are cached by their inputs' content; every time in the "
            + "image is the source date epoch, so the same inputs give the same digest. Prints the image digest."})
final class BuildCommand extends Verb {
  @Parameters(index = "0", paramLabel = "DIR", description = "the build context", defaultValue = ".")
  Path context;

  @Option(names = {"-t", "--tag"}, paramLabel = "NAME[:TAG]", description = "name the image (repeatable)")
  List<String> tags = new ArrayList<>();

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "the Envfile (default DIR/Envfile, else "
      + "DIR/Dockerfile)")
  Path file;

  @Option(names = "--build-arg", paramLabel = "KEY[=VALUE]",
      description = "set an ARG (KEY alone takes the value from the environment)")
  List<String> buildArgs = new ArrayList<>();

  @Option(names = "--target", paramLabel = "STAGE", description = "build this stage (default the last)")
  String target;

  @Option(names = "--no-cache", description = "run every step (results are still cached)")
  boolean noCache;

  @Option(names = "--network", paramLabel = "default|host|none",
      description = "network of RUN steps (default: the host's; RUN --network overrides)")
  String network = "default";

  @Option(names = "--progress", paramLabel = "auto|plain|quiet", description = "step output (default auto)")
  String progress = "auto";

  @Option(names = {"-q", "--quiet"}, description = "print only the image digest")
  boolean quiet;

  @Option(names = "--source-date-epoch", paramLabel = "SECONDS",
      description = "every time in the image (default $SOURCE_DATE_EPOCH, else 0)")
  Long sourceDateEpoch;

  @Option(names = "--compression", paramLabel = "gzip|zstd|none",
      description = "compression of the layers the build makes (default zstd: Docker 23+, containerd 1.5+ and podman "
          + "read it; gzip for older engines)")
  String compression = "zstd";

  @Option(names = "--check", description = "build twice from nothing and list the files that differ, if any")
  boolean check;

  @Option(names = "--locked", description = "fail with a drift report when the build differs from labenv.lock")
  boolean locked;

  @Option(names = "--format", description = "table or json (digest, tags, steps, cached)")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    if (!List.of("auto", "plain", "quiet").contains(progress)) {
      throw LabenvException.badInput("--progress " + progress + ": expected auto, plain or quiet");
    }
    BuildRequest request = request(locked ? Lockfile.read(lockPath()) : null);
    StepPrinter printer = new StepPrinter(err(), quiet || progress.equals("quiet"));
    Builder builder = new Builder(images(), printer);
    BuildResult result;
    try {
      if (check) {
        return check(builder, request);
      }
      result = builder.build(request);
    } catch (Builder.StepException e) {
      printer.failed(e);
      throw e;
    } catch (Locking.DriftException e) {
      // the error line says that it differs; what differs, and how to accept it, is the report
      err().print(e.report());
      err().flush();
      throw e;
    }
    print(result);
    return ExitCode.OK;
  }

  private int check(Builder builder, BuildRequest request) {
    BuildRequest fresh = request.fromNothing();
    try (StoreLock gc = store().lockShared()) {
      BuildResult a = builder.buildUnnamed(fresh);
      BuildResult b = builder.buildUnnamed(fresh);
      if (a.manifest().digest().equals(b.manifest().digest())) {
        builder.name(a, request.tags());
        err().println("reproducible: two builds from nothing gave " + a.manifest().digest());
        print(a);
        return ExitCode.OK;
      }
      List<labenv.build.ImageDiff.FileDifference> diff = labenv.build.ImageDiff.compare(store(),
          images().image(a.manifest(), labenv.image.Platform.host()),
          images().image(b.manifest(), labenv.image.Platform.host()));
      err().println("not reproducible: the first build gave " + a.manifest().digest() + ", the second "
          + b.manifest().digest());
      err().println(labenv.build.ImageDiff.describe(diff, 50));
      err().flush();
      return ExitCode.FAILED;
    }
  }

  private Path lockPath() {
    Path envfile = file != null ? file : new BuildRequest(context, null, List.of(), Map.of(), null, false, null, 0,
        null, null).envfileOrDefault();
    Path dir = envfile.toAbsolutePath().getParent();
    return dir.resolve(Locking.FILE);
  }

  BuildRequest request(Lockfile lock) {
    if (sourceDateEpoch != null && sourceDateEpoch < 0) {
      throw LabenvException.badInput("--source-date-epoch " + sourceDateEpoch + " is negative");
    }
    long epoch = sourceDateEpoch != null ? sourceDateEpoch
        : SourceDateEpoch.parse(root.env.get(SourceDateEpoch.VARIABLE));
    Map<String, String> args = new LinkedHashMap<>();
    for (String a : buildArgs) {
      int eq = a.indexOf('=');
      if (eq == 0) {
        throw LabenvException.badInput("--build-arg \"" + a + "\": expected KEY=VALUE or KEY");
      }
      if (eq < 0) {
        String v = root.env.get(a);
        if (v != null) {
          args.put(a, v);
        }
      } else {
        args.put(a.substring(0, eq), a.substring(eq + 1));
      }
    }
    if (!Files.isDirectory(context)) {
      throw LabenvException.badInput("build context " + context + ": not a directory");
    }
    return new BuildRequest(context.toAbsolutePath().normalize(), file == null ? null : file.toAbsolutePath(),
        tags, args, target, noCache, network, epoch, lock, ImportCommand.compression(compression));
  }

  private void print(BuildResult r) {
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("digest", r.manifest().digest().toString());
      m.put("tags", r.tags());
      m.put("steps", r.steps());
      m.put("cached", r.cached());
      out().println(Json.pretty(m));
      return;
    }
    if (!quiet) {
      for (String t : r.tags()) {
        err().println("Named " + t);
      }
      err().flush();
    }
    out().println(r.manifest().digest());
  }

  /**
   * Prints each step as it starts ({@code [3/7] RUN make}), a RUN step's output below it, and CACHED for steps
   * the cache had; quiet prints nothing but, on failure, the failed step's last lines.
   */
  static final class StepPrinter implements BuildListener {
    private final PrintWriter err;
    private final boolean quiet;
    private final OutputStream output;

    StepPrinter(PrintWriter err, boolean quiet) {
      this.err = err;
      this.quiet = quiet;
      this.output = quiet ? OutputStream.nullOutputStream() : new OutputStream() {
        @Override
        public void write(int b) {
          err.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
          err.write(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8));
          err.flush();
        }

        @Override
        public void flush() {
          err.flush();
        }
      };
    }

    private String pending;

    @Override
    public void step(int number, int total, String stage, String text) {
      if (quiet) {
        return;
      }
      pending = "[" + number + "/" + total + "] " + text;
      err.println(pending);
      err.flush();
    }

    @Override
    public void cached() {
      if (!quiet && pending != null) {
        err.println("  cached");
        err.flush();
      }
    }

    @Override
    public void done(long millis) {
      if (!quiet && millis >= 100) {
        err.println(String.format(java.util.Locale.ROOT, "  done in %.1fs", millis / 1000.0));
        err.flush();
      }
    }

    @Override
    public OutputStream output() {
      return output;
    }

    @Override
    public void warning(String message) {
      err.println("warning: " + message);
      err.flush();
    }

    /** On failure in quiet mode the step's output was not shown: its last lines are. */
    void failed(Builder.StepException e) {
      if (quiet && e.tail() != null && !e.tail().isEmpty()) {
        err.println(e.tail());
        err.flush();
      }
    }
  }
}
