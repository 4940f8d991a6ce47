package labenv.build;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.build.Instruction.Command;
import labenv.build.Instruction.Heredoc;
import labenv.build.Instruction.KeyValue;

/**
 * An Envfile: a Dockerfile, parsed the way BuildKit's Dockerfile frontend parses it (parser directives, comments,
 * continuations, JSON and shell forms, heredocs), into {@link Instruction}s whose words are still raw.
 *
 * <p>What BuildKit accepts but labenv does not do (ONBUILD, {@code RUN --mount}, {@code COPY --link}, ...) is an
 * error naming the line, never silently ignored.
 */
public final class Envfile {
  private static final Pattern STAGE_NAME = Pattern.compile("[a-z][a-z0-9_.-]*");
  private static final Pattern HEREDOC = Pattern.compile("(\\d*)<<(-?)([^<]*)");
  private static final List<String> INSTRUCTIONS = List.of("FROM", "RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD",
      "ENV", "ARG", "LABEL", "WORKDIR", "USER", "EXPOSE", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER",
      "MAVEN");

  private final String fileName;
  private final List<Instruction> instructions;
  private final char escape;

  private Envfile(String fileName, List<Instruction> instructions, char escape) {
    this.fileName = fileName;
    this.instructions = List.copyOf(instructions);
    this.escape = escape;
  }

  /**
   * Parses {@code content} (the Envfile's text; CRLF line ends and a byte order mark are fine); {@code fileName}
   * names it in errors. Throws {@link EnvfileException} ({@code FILE:LINE: problem}) for anything it cannot take.
   */
  public static Envfile parse(String content, String fileName) {
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(fileName, "fileName");
    EnvfileLines lines = new EnvfileLines(content, fileName);
    return new Envfile(fileName, new Parser(fileName, lines).parse(), lines.escape());
  }

  public String fileName() {
    return fileName;
  }

  public List<Instruction> instructions() {
    return instructions;
  }

  /** The escape character: {@code \}, or {@code `} with the directive {@code # escape=`}. */
  public char escape() {
    return escape;
  }

  /** One instruction line taken apart, with what every error needs: its line and its name. */
  private record Parts(int line, String text, String name, List<String> flags, String args) {}

  private static final class Parser {
    private final String fileName;
    private final EnvfileLines lines;
    private final Map<String, Integer> stages = new HashMap<>();
    private boolean seenFrom;

    Parser(String fileName, EnvfileLines lines) {
      this.fileName = fileName;
      this.lines = lines;
    }

    List<Instruction> parse() {
      List<Instruction> out = new ArrayList<>();
      for (EnvfileLines.Line line = lines.next(); line != null; line = lines.next()) {
        out.add(instruction(line));
      }
      if (!seenFrom) {
        throw EnvfileException.at(fileName, 0, "no FROM instruction");
      }
      return out;
    }

    private Instruction instruction(EnvfileLines.Line line) {
      EnvfileWords.Split split = EnvfileWords.split(line.text());
      String name = split.keyword().toUpperCase(Locale.ROOT);
      Parts p = new Parts(line.number(), EnvfileWords.trim(line.text()), name, split.flags(), split.args());
      Instruction instruction = switch (name) {
        case "FROM" -> from(p);
        case "RUN" -> run(p);
        case "CMD" -> new Instruction.Cmd(p.line(), p.text(), command(noFlags(p), true));
        case "ENTRYPOINT" -> new Instruction.Entrypoint(p.line(), p.text(), command(noFlags(p), true));
        case "SHELL" -> shell(p);
        case "COPY", "ADD" -> copy(p);
        case "ENV" -> new Instruction.Env(p.line(), p.text(), nameValues(p));
        case "LABEL" -> new Instruction.Label(p.line(), p.text(), nameValues(p));
        case "ARG" -> arg(p);
        case "WORKDIR" -> new Instruction.Workdir(p.line(), p.text(), rest(p, "a path"));
        case "USER" -> new Instruction.User(p.line(), p.text(), rest(p, "a user (USER name[:group])"));
        case "EXPOSE" -> new Instruction.Expose(p.line(), p.text(), plainWords(p, "a port"));
        case "VOLUME" -> volume(p);
        case "STOPSIGNAL" -> new Instruction.StopSignal(p.line(), p.text(), rest(p, "a signal"));
        case "HEALTHCHECK" -> healthcheck(p);
        case "MAINTAINER" -> new Instruction.Maintainer(p.line(), p.text(), rest(p, "a name"));
        case "MAVEN" -> maven(p);
        case "ONBUILD" -> throw error(p, "ONBUILD is not supported");
        default -> throw error(p, "unknown instruction " + Shell.quote(split.keyword()) + suggestion(name));
      };
      if (instruction instanceof Instruction.From) {
        seenFrom = true;
      } else if (!seenFrom && !(instruction instanceof Instruction.Arg)) {
        throw error(p, name + " comes before the first FROM (only ARG may come before FROM)");
      }
      return instruction;
    }

    private Instruction from(Parts p) {
      Map<String, String> flags = flags(p, Set.of("platform"), Set.of());
      List<String> args = EnvfileWords.plainWords(p.args());
      if (args.isEmpty()) {
        throw error(p, "FROM needs an image");
      }
      String alias = null;
      if (args.size() == 3 && args.get(1).equalsIgnoreCase("as")) {
        // Stage names are case-insensitive: BuildKit lowercases them, and so do we.
        alias = args.get(2).toLowerCase(Locale.ROOT);
        if (!STAGE_NAME.matcher(alias).matches()) {
          throw error(p, "invalid stage name " + Shell.quote(args.get(2))
              + ": it must start with a letter and hold only letters, digits, '-', '_' and '.'");
        }
        Integer earlier = stages.putIfAbsent(alias, p.line());
        if (earlier != null) {
          throw error(p, "duplicate stage name " + Shell.quote(alias) + " (first used on line " + earlier + ")");
        }
      } else if (args.size() != 1) {
        throw error(p, "FROM takes an image and optionally AS name, e.g. FROM debian:bookworm AS build");
      }
      return new Instruction.From(p.line(), p.text(), args.get(0), alias, flags.get("platform"));
    }

    private Instruction run(Parts p) {
      Map<String, String> flags = flags(p, Set.of("network"), Set.of("mount", "security", "device"));
      String network = flags.get("network");
      if (network != null && !Set.of("default", "none", "host").contains(network)) {
        throw error(p, "RUN --network must be default, none or host, not " + Shell.quote(network));
      }
      Command command = command(p, false);
      List<Heredoc> heredocs = command.isExec() ? List.of() : heredocs(p);
      return new Instruction.Run(p.line(), p.text(), command, heredocs, network);
    }

    private Instruction shell(Parts p) {
      noFlags(p);
      List<String> json = json(p);
      if (json == null) {
        throw error(p, "SHELL must be a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]");
      }
      if (json.isEmpty()) {
        throw error(p, "SHELL needs at least an executable, e.g. SHELL [\"/bin/bash\", \"-c\"]");
      }
      return new Instruction.ShellForm(p.line(), p.text(), json);
    }

    private Instruction copy(Parts p) {
      boolean add = p.name().equals("ADD");
      Map<String, String> flags = add
          ? flags(p, Set.of("chown", "chmod"), Set.of("link", "exclude", "checksum", "keep-git-dir", "unpack"))
          : flags(p, Set.of("from", "chown", "chmod"), Set.of("link", "parents", "exclude"));
      List<String> json = json(p);
      List<String> args = json != null ? json : EnvfileWords.plainWords(p.args());
      if (args.size() < 2) {
        throw error(p, p.name() + " needs a source and a destination");
      }
      List<Heredoc> heredocs = json != null ? List.of() : heredocs(p);
      String destination = args.get(args.size() - 1);
      if (json == null && marker(p, destination) != null) {
        throw error(p, p.name() + " cannot take a heredoc as its destination");
      }
      List<String> sources = new ArrayList<>();
      for (String source : args.subList(0, args.size() - 1)) {
        Heredoc marker = json != null ? null : marker(p, source);
        if (marker == null) {
          sources.add(source);
          continue;
        }
        if (heredocs.stream().noneMatch(h -> h.name().equals(marker.name()))) {
          throw error(p, p.name() + " could not read the heredoc " + source + " (unbalanced quotes on the line?)");
        }
        sources.add("<<" + marker.name());
      }
      return new Instruction.Copy(p.line(), p.text(), add, sources, destination, flags.get("from"),
          flags.get("chown"), flags.get("chmod"), heredocs);
    }

    /** ENV and LABEL: {@code NAME=VALUE ...}, or the old {@code NAME VALUE} where the value is the rest. */
    private List<KeyValue> nameValues(Parts p) {
      noFlags(p);
      List<String> words = EnvfileWords.quotedWords(p.args(), lines.escape());
      if (words.isEmpty()) {
        throw error(p, p.name() + " needs NAME=VALUE");
      }
      List<KeyValue> out = new ArrayList<>();
      if (!words.get(0).contains("=")) {
        List<String> parts = EnvfileWords.nameAndRest(p.args());
        if (parts.size() < 2) {
          throw error(p, p.name() + " " + words.get(0) + " needs a value (" + p.name() + " NAME=VALUE)");
        }
        out.add(new KeyValue(parts.get(0), parts.get(1)));
        return out;
      }
      for (String word : words) {
        int eq = word.indexOf('=');
        if (eq < 0) {
          throw error(p, p.name() + " expects NAME=VALUE, not " + Shell.quote(word));
        }
        if (eq == 0) {
          throw error(p, p.name() + " needs a name before '=' in " + Shell.quote(word));
        }
        out.add(new KeyValue(word.substring(0, eq), word.substring(eq + 1)));
      }
      return out;
    }

    private Instruction arg(Parts p) {
      noFlags(p);
      List<String> words = EnvfileWords.quotedWords(p.args(), lines.escape());
      if (words.isEmpty()) {
        throw error(p, "ARG needs a name (ARG NAME or ARG NAME=DEFAULT)");
      }
      List<KeyValue> args = new ArrayList<>();
      for (String word : words) {
        int eq = word.indexOf('=');
        if (eq == 0) {
          throw error(p, "ARG needs a name before '=' in " + Shell.quote(word));
        }
        args.add(eq < 0 ? new KeyValue(word, null) : new KeyValue(word.substring(0, eq), word.substring(eq + 1)));
      }
      return new Instruction.Arg(p.line(), p.text(), args);
    }

    private Instruction volume(Parts p) {
      noFlags(p);
      List<String> json = json(p);
      List<String> paths = new ArrayList<>();
      for (String path : json != null ? json : EnvfileWords.plainWords(p.args())) {
        String trimmed = EnvfileWords.trim(path);
        if (trimmed.isEmpty()) {
          throw error(p, "VOLUME paths cannot be empty");
        }
        paths.add(trimmed);
      }
      if (paths.isEmpty()) {
        throw error(p, "VOLUME needs a path");
      }
      return new Instruction.Volume(p.line(), p.text(), paths);
    }

    private Instruction healthcheck(Parts p) {
      String args = p.args();
      int sep = 0;
      while (sep < args.length() && !Shell.isSpace(args.charAt(sep))) {
        sep++;
      }
      String type = args.substring(0, sep).toUpperCase(Locale.ROOT);
      String rest = EnvfileWords.trim(args.substring(sep));
      if (type.isEmpty()) {
        throw error(p, "HEALTHCHECK needs NONE, or CMD and a command");
      }
      if (type.equals("NONE")) {
        if (!rest.isEmpty() || !p.flags().isEmpty()) {
          throw error(p, "HEALTHCHECK NONE takes no arguments or options");
        }
        return new Instruction.Healthcheck(p.line(), p.text(), null, 0, 0, 0, 0, 0);
      }
      Map<String, String> flags =
          flags(p, Set.of("interval", "timeout", "start-period", "start-interval", "retries"), Set.of());
      if (!type.equals("CMD")) {
        throw error(p, "HEALTHCHECK needs NONE or CMD, not " + Shell.quote(args.substring(0, sep)));
      }
      Command command = command(new Parts(p.line(), p.text(), "HEALTHCHECK CMD", List.of(), rest), false);
      int retries = 0;
      String r = flags.get("retries");
      if (r != null) {
        try {
          retries = Integer.parseInt(r);
        } catch (NumberFormatException e) {
          retries = -1;
        }
        if (retries < 0) {
          throw error(p, "HEALTHCHECK --retries must be a whole number of at least 0, not " + Shell.quote(r));
        }
      }
      return new Instruction.Healthcheck(p.line(), p.text(), command, interval(p, flags, "interval"),
          interval(p, flags, "timeout"), interval(p, flags, "start-period"), interval(p, flags, "start-interval"),
          retries);
    }

    /** A HEALTHCHECK duration in nanoseconds: 0 when not given or 0 (the default), else at least 1ms. */
    private long interval(Parts p, Map<String, String> flags, String name) {
      String value = flags.get(name);
      if (value == null) {
        return 0;
      }
      long nanos = EnvfileWords.duration(value);
      if (nanos == Long.MIN_VALUE) {
        throw error(p, "HEALTHCHECK --" + name + " is not a duration like 30s, 1m30s or 500ms: " + Shell.quote(value));
      }
      if (nanos != 0 && nanos < 1_000_000) {
        throw error(p, "HEALTHCHECK --" + name + " must be at least 1ms, not " + Shell.quote(value));
      }
      return nanos;
    }

    private Instruction maven(Parts p) {
      noFlags(p);
      List<String> coordinates = plainWords(p, "at least one coordinate (group:artifact:version)");
      for (String c : coordinates) {
        if (!EnvfileWords.isMavenCoordinate(c)) {
          throw error(p, "MAVEN coordinate " + Shell.quote(c)
              + " is not group:artifact:version (or group:artifact:extension[:classifier]:version)");
        }
      }
      return new Instruction.Maven(p.line(), p.text(), coordinates);
    }

    /**
     * RUN, CMD, ENTRYPOINT: the exec form when the arguments are a JSON array of strings, else the shell form
     * (invalid JSON is a shell command, as in Docker). An empty JSON array is allowed for CMD and ENTRYPOINT,
     * where it clears the inherited one.
     */
    private Command command(Parts p, boolean emptyExecAllowed) {
      List<String> json = json(p);
      if (json != null) {
        if (json.isEmpty() && !emptyExecAllowed) {
          throw error(p, p.name() + " needs a command");
        }
        return Command.exec(json);
      }
      if (p.args().isEmpty()) {
        throw error(p, p.name() + " needs a command");
      }
      return Command.shell(p.args());
    }

    /**
     * The JSON array of strings that the arguments are, or null when they are not JSON (the shell form). Valid JSON
     * holding anything but strings is an error, as in BuildKit.
     */
    private List<String> json(Parts p) {
      EnvfileWords.JsonArray json = EnvfileWords.jsonArray(p.args());
      if (json == null) {
        return null;
      }
      if (!json.onlyStrings()) {
        throw error(p, p.name() + " in JSON form must be an array of strings only");
      }
      return json.strings();
    }

    /** Reads the bodies of the heredocs the line names (RUN, COPY and ADD in shell form), in order. */
    private List<Heredoc> heredocs(Parts p) {
      List<Heredoc> out = new ArrayList<>();
      for (String word : Shell.rawWords(p.text())) {
        Heredoc marker = marker(p, word);
        if (marker != null) {
          out.add(new Heredoc(marker.name(), lines.heredoc(marker.name(), marker.chomp(), p.line()),
              marker.expand(), marker.chomp()));
        }
      }
      return out;
    }

    /**
     * The heredoc that {@code word} opens ({@code <<EOF}, {@code <<-EOF}, {@code <<'EOF'}, {@code 3<<EOF}), without
     * content, or null when it opens none. A quoted delimiter means the body is not expanded.
     */
    private Heredoc marker(Parts p, String word) {
      Matcher m = HEREDOC.matcher(word);
      if (!m.matches() || m.group(3).isEmpty()) {
        return null;
      }
      String rest = m.group(3);
      List<String> words = Shell.unexpandedWords(rest, false);
      List<String> raw = Shell.unexpandedWords(rest, true);
      if (words == null || raw == null) {
        throw error(p, "invalid heredoc delimiter " + Shell.quote(word));
      }
      if (words.size() != 1 || raw.size() != 1) {
        return null;
      }
      boolean expand = quotes(words.get(0)) == quotes(raw.get(0));
      return new Heredoc(words.get(0), "", expand, m.group(2).equals("-"));
    }

    private static long quotes(String s) {
      return s.chars().filter(c -> c == '\'' || c == '"').count();
    }

    /**
     * The instruction's flags by name, checked: a flag labenv does not support, an unknown flag, a repeated flag
     * or a flag without a value is an error.
     */
    private Map<String, String> flags(Parts p, Set<String> known, Set<String> unsupported) {
      Map<String, String> out = new HashMap<>();
      for (String flag : p.flags()) {
        String body = flag.substring(2);
        int eq = body.indexOf('=');
        String name = eq < 0 ? body : body.substring(0, eq);
        if (unsupported.contains(name)) {
          throw error(p, p.name() + " --" + name + " is not supported");
        }
        if (!known.contains(name)) {
          throw error(p, "unknown flag --" + name + " for " + p.name());
        }
        if (out.containsKey(name)) {
          throw error(p, p.name() + " --" + name + " is given twice");
        }
        if (eq < 0 || eq == body.length() - 1) {
          throw error(p, p.name() + " --" + name + " needs a value (--" + name + "=...)");
        }
        out.put(name, body.substring(eq + 1));
      }
      return out;
    }

    /** The arguments as one string (WORKDIR, USER, STOPSIGNAL, MAINTAINER), which must not be empty. */
    private String rest(Parts p, String what) {
      noFlags(p);
      if (p.args().isEmpty()) {
        throw error(p, p.name() + " needs " + what);
      }
      return p.args();
    }

    private List<String> plainWords(Parts p, String what) {
      noFlags(p);
      List<String> words = EnvfileWords.plainWords(p.args());
      if (words.isEmpty()) {
        throw error(p, p.name() + " needs " + what);
      }
      return words;
    }

    private Parts noFlags(Parts p) {
      flags(p, Set.of(), Set.of());
      return p;
    }

    private EnvfileException error(Parts p, String problem) {
      return EnvfileException.at(fileName, p.line(), problem);
    }
  }

  /** " (did you mean COPY?)" for a near miss, else "". */
  private static String suggestion(String name) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String known : INSTRUCTIONS) {
      int d = distance(name, known);
      if (d < bestDistance) {
        best = known;
        bestDistance = d;
      }
    }
    int allowed = name.length() <= 4 ? 1 : 2;
    return bestDistance <= allowed ? " (did you mean " + best + "?)" : "";
  }

  /** Edit distance counting a swap of two neighbours as one edit (FORM is one from FROM). */
  private static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
