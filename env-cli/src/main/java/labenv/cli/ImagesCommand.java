package labenv.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.image.Json;
import labenv.store.ImageRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "images", aliases = "ls", description = "List the images in the store.")
final class ImagesCommand extends Verb {
  @Option(names = "--format", description = "table or json (a list with each image's names and digest).")
  OutputFormat format = OutputFormat.table;

  @Option(names = {"-q", "--quiet"}, description = "Only print digests.")
  boolean quiet;

  @Option(names = "--no-trunc", description = "Print full digests.")
  boolean noTrunc;

  @Override
  public Integer call() {
    List<ImageRecord> records = images().list();
    if (quiet) {
      records.stream().map(r -> r.manifest().digest().toString()).distinct().forEach(out()::println);
      return ExitCode.OK;
    }
    if (format == OutputFormat.json) {
      List<Map<String, Object>> list = new ArrayList<>();
      for (ImageRecord r : records) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("names", r.names());
        m.put("digest", r.manifest().digest().toString());
        m.put("mediaType", r.manifest().mediaType());
        m.put("created", r.created() == null ? null : r.created().toString());
        m.put("size", r.size());
        list.add(m);
      }
      out().println(Json.pretty(list));
      return ExitCode.OK;
    }
    TextTable t = new TextTable("NAME", "TAG", "DIGEST", "CREATED", "SIZE");
    Instant now = Instant.now();
    for (ImageRecord r : records) {
      String digest = noTrunc ? r.manifest().digest().toString() : r.manifest().digest().shortHex();
      List<String> names = r.names().isEmpty() ? List.of("<none>:<none>") : r.names();
      for (String name : names) {
        int colon = name.lastIndexOf(':');
        boolean hasTag = colon > name.lastIndexOf('/');
        t.row(hasTag ? name.substring(0, colon) : name, hasTag ? name.substring(colon + 1) : "<none>", digest,
            Units.ago(r.created(), now), Units.bytes(r.size()));
      }
    }
    t.print(out());
    return ExitCode.OK;
  }
}
