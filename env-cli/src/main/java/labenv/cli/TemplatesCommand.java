package labenv.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.image.Json;
import labenv.template.Template;
import labenv.template.Templates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "templates", description = "List the templates labenv init starts a project from.")
final class TemplatesCommand extends Verb {
  @Option(names = "--format",
      description = "table or json (a list with each template's name, description, files, artifacts).")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    List<Template> templates = Templates.list();
    if (format == OutputFormat.json) {
      List<Map<String, Object>> list = new ArrayList<>();
      for (Template t : templates) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("description", t.description());
        m.put("default", t.name().equals(Templates.DEFAULT));
        m.put("files", t.files());
        // what init copies from labenv's build beside them
        m.put("artifacts", t.artifacts().stream().map(Template.Artifact::file).toList());
        list.add(m);
      }
      out().println(Json.pretty(list));
      return ExitCode.OK;
    }
    TextTable table = new TextTable("NAME", "DESCRIPTION");
    for (Template t : templates) {
      table.row(t.name() + (t.name().equals(Templates.DEFAULT) ? " (default)" : ""), t.description());
    }
    table.print(out());
    return ExitCode.OK;
  }
}
