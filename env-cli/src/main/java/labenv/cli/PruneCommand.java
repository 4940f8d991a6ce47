package labenv.cli;

import labenv.store.PruneReport;
import picocli.CommandLine.Command;

@Command(name = "prune", description = "Delete every blob no image references, and leftovers of killed writes.")
final class PruneCommand extends Verb {
  @Override
  public Integer call() {
    PruneReport r = images().prune();
    r.deleted().forEach(d -> out().println("Deleted: " + d));
    out().println("Deleted " + r.deleted().size() + " blobs and " + r.tempFilesRemoved()
        + " temporary files; total reclaimed space: " + Units.bytes(r.bytesFreed()));
    return ExitCode.OK;
  }
}
