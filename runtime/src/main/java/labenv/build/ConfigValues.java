package labenv.build;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import labenv.LabenvException;

/** The image-config values of EXPOSE, CMD/ENTRYPOINT and HEALTHCHECK, as docker stores them. */
final class ConfigValues {
  private ConfigValues() {}

  static String port(String p) {
    String[] parts = p.split("/", -1);
    String proto = parts.length > 1 ? parts[1].toLowerCase(Locale.ROOT) : "tcp";
    if (parts.length > 2 || !parts[0].matches("[0-9]+(-[0-9]+)?") || !List.of("tcp", "udp", "sctp").contains(proto)) {
      throw LabenvException.badInput("EXPOSE " + p + ": expected PORT[/tcp|udp|sctp]");
    }
    return parts[0] + "/" + proto;
  }

  static List<String> command(Instruction.Command c, StageState state) {
    if (c.isExec()) {
      return c.exec();
    }
    List<String> out = new ArrayList<>(state.shellOrDefault());
    out.add(c.shell());
    return out;
  }

  static Map<String, Object> healthcheck(Instruction.Healthcheck h) {
    Map<String, Object> hc = new LinkedHashMap<>();
    if (h.command() == null) {
      hc.put("Test", List.of("NONE"));
      return hc;
    }
    List<String> test = new ArrayList<>();
    if (h.command().isExec()) {
      test.add("CMD");
      test.addAll(h.command().exec());
    } else {
      test.add("CMD-SHELL");
      test.add(h.command().shell());
    }
    hc.put("Test", test);
    if (h.interval() > 0) {
      hc.put("Interval", h.interval());
    }
    if (h.timeout() > 0) {
      hc.put("Timeout", h.timeout());
    }
    if (h.startPeriod() > 0) {
      hc.put("StartPeriod", h.startPeriod());
    }
    if (h.startInterval() > 0) {
      hc.put("StartInterval", h.startInterval());
    }
    if (h.retries() > 0) {
      hc.put("Retries", h.retries());
    }
    return hc;
  }
}
