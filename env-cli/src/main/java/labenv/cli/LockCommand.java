package labenv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.build.BuildRequest;
import labenv.build.BuildResult;
import labenv.build.Builder;
import labenv.build.Lockfile;
import labenv.build.Locking;
import labenv.store.StoreLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lock",
    description = {"Build DIR's Envfile (from the cache where it can) and write labenv.lock next to it: base images "
        + "by digest, every Debian package's version, Python and R packages, the MAVEN jars by sha256.",
        "labenv build --locked then fails with a drift report when a build differs."})
final class LockCommand extends Verb {
  @Parameters(index = "0", paramLabel = "DIR", description = "the build context", defaultValue = ".")
  Path context;

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "the Envfile (default DIR/Envfile, else "
      + "DIR/Dockerfile)")
  Path file;

  @Option(names = "--build-arg", paramLabel = "KEY[=VALUE]", description = "set an ARG")
  List<String> buildArgs = new ArrayList<>();

  @Option(names = "--target", paramLabel = "STAGE", description = "lock this stage (default the last)")
  String target;

  @Option(names = {"-q", "--quiet"}, description = "no step output")
  boolean quiet;

  @Override
  public Integer call() {
    BuildCommand b = new BuildCommand();
    b.root = root;
    b.context = context;
    b.file = file;
    b.buildArgs = buildArgs;
    b.target = target;
    BuildRequest request = b.request(null);
    Path lockFile = request.envfileOrDefault().toAbsolutePath().getParent().resolve(Locking.FILE);
    Builder builder = new Builder(images(), new BuildCommand.StepPrinter(err(), quiet));
    try (StoreLock gc = store().lockShared()) {
      BuildResult result = builder.buildUnnamed(request);
      Lockfile lock = Locking.actual(images(), result);
      lock.write(lockFile);
      out().println(lockFile);
      err().println("locked " + lock.baseImages().size() + " base image(s), " + lock.debian().packages().size()
          + " Debian, " + lock.python().size() + " Python, " + lock.r().size() + " R packages, "
          + lock.maven().artifacts().size() + " Maven artifacts");
    }
    return ExitCode.OK;
  }
}
