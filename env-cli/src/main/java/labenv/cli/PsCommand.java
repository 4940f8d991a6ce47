package labenv.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.container.ContainerState;
import labenv.image.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ps", description = {"List containers (running ones; -a: all).",
    "The state of a container whose labenv process died is reconciled from what the kernel shows."})
final class PsCommand extends Verb {
  @Option(names = {"-a", "--all"}, description = "Show all containers, not only running ones.")
  boolean all;

  @Option(names = {"-q", "--quiet"}, description = "Only print container ids.")
  boolean quiet;

  @Option(names = "--no-trunc", description = "Print full ids and commands.")
  boolean noTrunc;

  @Option(names = "--format", description = "table or json (every field of each container's state).")
  OutputFormat format = OutputFormat.table;

  @Override
  public Integer call() {
    List<ContainerState> list = new ArrayList<>();
    for (ContainerState s : containers().list()) {
      if (all || s.isRunning()) {
        list.add(s);
      }
    }
    if (quiet) {
      list.forEach(s -> out().println(noTrunc ? s.id() : s.shortId()));
      out().flush();
      return ExitCode.OK;
    }
    if (format == OutputFormat.json) {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (ContainerState s : list) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("name", s.name());
        m.put("image", s.image());
        m.put("imageDigest", s.imageDigest());
        m.put("command", s.command());
        m.put("created", s.created());
        m.put("status", s.status().name());
        m.put("pid", s.isRunning() ? s.pid() : 0);
        m.put("startedAt", s.startedAt());
        m.put("finishedAt", s.finishedAt());
        m.put("exitCode", s.exitCode());
        m.put("oomKilled", s.oomKilled());
        m.put("error", s.error());
        m.put("ports", s.ports());
        m.put("autoRemove", s.autoRemove());
        m.put("detached", s.detached());
        rows.add(m);
      }
      out().println(Json.pretty(rows));
      out().flush();
      return ExitCode.OK;
    }
    TextTable t = new TextTable("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
    Instant now = Instant.now();
    for (ContainerState s : list) {
      String cmd = String.join(" ", s.command());
      if (!noTrunc && cmd.length() > 20) {
        cmd = cmd.substring(0, 19) + "…";
      }
      t.row(noTrunc ? s.id() : s.shortId(), s.image() == null ? "" : s.image(), "\"" + cmd + "\"",
          Units.ago(instant(s.created()), now), status(s, now), String.join(", ", s.ports().stream().map(PsCommand::port).toList()),
          s.name() == null ? "" : s.name());
    }
    t.print(out());
    return ExitCode.OK;
  }

  /** docker's wording: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created". */
  static String status(ContainerState s, Instant now) {
    return switch (s.status()) {
      case created -> "Created";
      case running -> "Up " + Units.ago(instant(s.startedAt()), now).replace(" ago", "");
      case exited -> "Exited (" + (s.exitCode() == null ? "unknown" : s.exitCode()) + ")"
          + (s.oomKilled() ? " (OOM)" : "") + " " + Units.ago(instant(s.finishedAt()), now);
    };
  }

  /** docker's wording: 127.0.0.1:8080->80/tcp. */
  private static String port(String mapping) {
    labenv.container.PortMapping m = labenv.container.PortMapping.parse(mapping);
    return m.hostEndpoint() + "->" + m.containerPort() + "/tcp";
  }

  private static Instant instant(String iso) {
    return iso == null ? null : Instant.parse(iso);
  }

}
