package labenv.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.image.Platform;
import labenv.registry.Credentials;
import labenv.registry.Puller;
import picocli.CommandLine.Command;
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

  @Option(names = "--insecure", description = "plain HTTP (only loopback hosts get it without this)")
  boolean insecure;

  @Option(names = {"-q", "--quiet"}, description = "print the digest only")
  boolean quiet;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    Puller.Result r = new Puller(images(), Credentials.forUser(root.env), insecure, quiet ? labenv.Progress.NONE
        : progress()).pull(ref, platform(platform));
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("digest", r.manifest().digest().toString());
      m.put("index", r.index() == null ? null : r.index().toString());
      m.put("blobsFetched", r.blobsFetched());
      m.put("bytesFetched", r.bytesFetched());
      out().println(Json.pretty(m));
    } else if (quiet) {
      out().println(r.manifest().digest());
    } else {
      out().println((r.name() == null ? ref : r.name()) + " " + r.manifest().digest() + " (" + r.blobsFetched()
          + " blobs, " + Units.bytes(r.bytesFetched()) + " downloaded)");
    }
    out().flush();
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
