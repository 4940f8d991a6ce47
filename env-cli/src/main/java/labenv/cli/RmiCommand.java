package labenv.cli;

import java.util.List;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.store.RemoveResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "rmi", description = {"Remove images.",
    "Untags a name (given a digest: every name), then deletes the blobs nothing else uses."})
final class RmiCommand extends Verb {
  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  List<String> refs;

  @Override
  public Integer call() {
    int code = ExitCode.OK;
    for (String ref : refs) {
      try {
        RemoveResult r = images().remove(ref);
        r.untagged().forEach(n -> out().println("Untagged: " + n));
        for (Digest d : r.deleted()) {
          out().println("Deleted: " + d);
        }
      } catch (LabenvException e) {
        // Like docker rmi: report each failure and go on with the other names.
        err().println("labenv: rmi " + ref + ": " + e.getMessage());
        code = Math.max(code, e.exitCode());
      }
    }
    out().flush();
    return code;
  }
}
