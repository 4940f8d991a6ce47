package labenv.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import labenv.image.Json;
import labenv.store.FsckReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "fsck", description = {"Check the store: re-hash every blob, follow every reference.",
    "Exits 1 when there are problems."})
final class FsckCommand extends Verb {
  @Option(names = "--format", description = "table (text) or json")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    FsckReport r = images().fsck();
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ok", r.ok());
      m.put("problems", r.problems());
      m.put("notes", r.notes());
      m.put("blobsChecked", r.blobsChecked());
      m.put("bytesChecked", r.bytesChecked());
      out().println(Json.pretty(m));
    } else {
      r.problems().forEach(p -> out().println("problem: " + p));
      r.notes().forEach(n -> out().println("note: " + n));
      out().println("checked " + r.blobsChecked() + " blobs (" + Units.bytes(r.bytesChecked()) + "): "
          + (r.ok() ? "no problems" : r.problems().size() + " problem" + (r.problems().size() == 1 ? "" : "s")));
    }
    out().flush();
    return r.ok() ? ExitCode.OK : ExitCode.FAILED;
  }
}
