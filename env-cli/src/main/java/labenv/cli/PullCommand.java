package labenv.cli;

import labenv.LabenvException;
import labenv.image.Platform;
import labenv.registry.Credentials;
import labenv.registry.Puller;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pull", description = {"Download an image from a registry into the store.",
    "For an index (a multi-platform image) the manifest of --platform (default: this host's) is pulled. Every blob is "
    + "verified against its digest before it enters the store; an interrupted download resumes where it stopped."})
final class PullCommand extends Verb {
  @Parameters(index = "0", paramLabel = "REF", description = "[registry/]repository[:tag|@digest], Docker's conventions")
  String ref;

  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "the platform to pull from an index")
  String platform;

  @Mixin TransferOptions transfer;

  @Override
  public Integer call() {
    Puller.Result r = new Puller(images(), Credentials.forUser(root.env), transfer.insecure,
        transfer.progress(err(), root.env)).pull(ref, platform(platform));
    transfer.print(out(), r.name() == null ? ref : r.name(), r);
    return ExitCode.OK;
  }

  /** {@code os/arch[/variant]}, or the host's when null. */
  static Platform platform(String s) {
    if (s == null) {
      return Platform.host();
    }
    String[] p = s.split("/");
    if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
      throw LabenvException.badInput("--platform \"" + s + "\": expected OS/ARCH[/VARIANT], e.g. linux/amd64");
    }
    return new Platform(p[1], p[0], null, null, p.length == 3 ? p[2] : null);
  }
}
