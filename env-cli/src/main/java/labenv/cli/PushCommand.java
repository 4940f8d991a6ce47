package labenv.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import labenv.image.Descriptor;
import labenv.image.Json;
import labenv.registry.Credentials;
import labenv.registry.Pusher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "push", description = {"Upload an image to a registry.",
    "Blobs the repository already has are skipped; the others are uploaded in parallel (large ones in chunks), the "
    + "manifest last. Without REF the image's own name says where (registry/repository:tag)."})
final class PushCommand extends Verb {
  @Parameters(index = "0", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  String image;

  @Parameters(index = "1", arity = "0..1", paramLabel = "REF", description = "where to: [registry/]repository[:tag]")
  String target;

  @Option(names = "--insecure", description = "plain HTTP (only loopback hosts get it without this)")
  boolean insecure;

  @Option(names = {"-q", "--quiet"}, description = "print the digest only")
  boolean quiet;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    Descriptor d = images().resolve(image);
    String to = target != null ? target : image;
    Pusher.Result r = new Pusher(store(), Credentials.forUser(root.env), insecure, quiet ? labenv.Progress.NONE
        : progress()).push(d, to);
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("reference", r.reference());
      m.put("digest", r.manifest().digest().toString());
      m.put("blobsPushed", r.blobsPushed());
      m.put("blobsSkipped", r.blobsSkipped());
      m.put("bytesPushed", r.bytesPushed());
      out().println(Json.pretty(m));
    } else if (quiet) {
      out().println(r.manifest().digest());
    } else {
      out().println(r.reference() + " " + r.manifest().digest() + " (" + r.blobsPushed() + " blobs uploaded, "
          + Units.bytes(r.bytesPushed()) + "; " + r.blobsSkipped() + " already there)");
    }
    out().flush();
    return ExitCode.OK;
  }
}
