package labenv.cli;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.image.Descriptor;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.store.Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "history", description = "Show how an image was made, newest step first.")
final class HistoryCommand extends Verb {
  @Parameters(paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  String ref;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  @Option(names = "--no-trunc", description = "Do not shorten the CREATED BY column.")
  boolean noTrunc;

  @Override
  public Integer call() {
    Image image = images().image(ref);
    List<ImageConfig.History> history = image.config().history() == null ? List.of() : image.config().history();
    List<Descriptor> layers = image.manifest().layers();
    List<Map<String, Object>> steps = new ArrayList<>();
    int layer = 0;
    for (ImageConfig.History h : history) {
      boolean empty = Boolean.TRUE.equals(h.emptyLayer());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("created", h.created());
      m.put("createdBy", h.createdBy() == null ? "" : h.createdBy());
      m.put("comment", h.comment() == null ? "" : h.comment());
      Descriptor d = !empty && layer < layers.size() ? layers.get(layer++) : null;
      m.put("layer", d == null ? null : d.digest().toString());
      m.put("size", d == null ? 0 : d.size());
      steps.add(0, m);
    }
    if (format == OutputFormat.json) {
      out().println(Json.pretty(steps));
      return ExitCode.OK;
    }
    TextTable t = new TextTable("LAYER", "CREATED", "CREATED BY", "SIZE", "COMMENT");
    Instant now = Instant.now();
    for (Map<String, Object> s : steps) {
      String layerCol = s.get("layer") == null ? "<empty>" : ((String) s.get("layer")).substring(7, 19);
      String by = ((String) s.get("createdBy")).replace('\n', ' ');
      if (!noTrunc && by.length() > 60) {
        by = by.substring(0, 59) + "…";
      }
      t.row(layerCol, Units.ago(parse((String) s.get("created")), now), by, Units.bytes((Long) toLong(s.get("size"))),
          (String) s.get("comment"));
    }
    t.print(out());
    return ExitCode.OK;
  }

  private static Long toLong(Object o) {
    return ((Number) o).longValue();
  }

  private static Instant parse(String created) {
    if (created == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(created).toInstant();
    } catch (RuntimeException e) {
      return null;
    }
  }
}
