package labenv.project;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Digest;

/**
 * A parameter sweep declared in {@code labenv.yaml}: the parameter sets, in a fixed order, and how they reach the
 * command.
 *
 * <pre>
 * sweep:
 *   grid: {alpha: [0.1, 0.5], seed: [1, 2, 3]}   # the cartesian product: the first parameter varies slowest
 *   list: [{alpha: 0.1, seed: 1}, ...]           # or the sets themselves, in the order given (the same keys in each)
 *   pass: env                                     # env (default): variables named as the parameters; or args:
 *                                                 #   --NAME=VALUE appended to the command, in the declared order
 * </pre>
 *
 * Names are kept as written ({@code alpha} is {@code $alpha}, not {@code $ALPHA}): one name in the YAML, the
 * environment, the arguments and the task's name. Values are scalars, passed as their YAML text ({@code 1e-3} stays
 * {@code 1e-3}). A task's name is its parameters, {@code alpha=0.1,seed=1}, made safe for a folder.
 *
 * @param parameters the parameter names, in declared order
 * @param sets one map per task, in task order, each with every parameter
 */
public record Sweep(Pass pass, List<String> parameters, List<Map<String, String>> sets) {
  /** How the parameters reach the command. */
  public enum Pass {
    ENV, ARGS;

    public String yaml() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** More tasks than this is a mistake in the grid, not a sweep (Kubernetes' Indexed Jobs allow 100,000). */
  public static final int MAX_TASKS = 100_000;
  /** The name of the one task of a project without a sweep. */
  public static final String SINGLE = "run";
  /** Longest task name; longer ones are cut and given a hash of the whole. */
  static final int MAX_NAME = 100;

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9._=,+-]");
  /** Variables the project's hermetic run sets, or labenv and the schedulers use: not parameters. */
  private static final Set<String> RESERVED = Set.of("PATH", "HOME", "HOSTNAME", "TZ", "LANG", "LC_ALL",
      "SOURCE_DATE_EPOCH", "PYTHONHASHSEED", "JOB_COMPLETION_INDEX");

  public Sweep {
    parameters = List.copyOf(parameters);
    List<Map<String, String>> copy = new ArrayList<>();
    for (Map<String, String> s : sets) {
      copy.add(Collections.unmodifiableMap(new LinkedHashMap<>(s)));
    }
    sets = List.copyOf(copy);
  }

  /** The tasks, in order: index i is the i-th parameter set. */
  public List<SweepTask> tasks() {
    List<SweepTask> out = new ArrayList<>();
    for (int i = 0; i < sets.size(); i++) {
      Map<String, String> set = sets.get(i);
      Map<String, String> env = new LinkedHashMap<>();
      List<String> args = new ArrayList<>();
      for (String p : parameters) {
        if (pass == Pass.ENV) {
          env.put(p, set.get(p));
        } else {
          args.add("--" + p + "=" + set.get(p));
        }
      }
      out.add(new SweepTask(i, name(parameters, set), env, args));
    }
    return out;
  }

  /** A project's tasks: its sweep's, or the one task (index 0, named {@value #SINGLE}, nothing added). */
  public static List<SweepTask> tasks(ProjectFile p) {
    return p.sweep() == null ? List.of(new SweepTask(0, SINGLE, Map.of(), List.of())) : p.sweep().tasks();
  }

  /** The parameters of {@code task} (a task of this sweep), by name, in declared order. */
  public Map<String, String> parameters(SweepTask task) {
    return sets.get(task.index());
  }

  /** The task named {@code name} (or with that index); bad input naming the known ones otherwise. */
  public static SweepTask task(List<SweepTask> tasks, String name) {
    for (SweepTask t : tasks) {
      if (t.name().equals(name) || String.valueOf(t.index()).equals(name)) {
        return t;
      }
    }
    List<String> names = tasks.stream().map(SweepTask::name).limit(5).toList();
    throw LabenvException.badInput("no task \"" + name + "\" in the sweep (its " + tasks.size() + " tasks: "
        + String.join(" ", names) + (tasks.size() > names.size() ? " ..." : "") + "; or give an index)");
  }

  /** {@code alpha=0.1,seed=1}: the parameters in order, unsafe characters as _, cut (with a hash) when too long. */
  static String name(List<String> parameters, Map<String, String> set) {
    StringBuilder sb = new StringBuilder();
    for (String p : parameters) {
      sb.append(sb.length() == 0 ? "" : ",").append(p).append('=').append(set.get(p));
    }
    String full = sb.toString();
    String safe = UNSAFE.matcher(full).replaceAll("_");
    if (safe.length() > MAX_NAME) {
      String hash = HexFormat.of().formatHex(Digest.newSha256().digest(full.getBytes(StandardCharsets.UTF_8)))
          .substring(0, 12);
      safe = safe.substring(0, MAX_NAME - hash.length() - 1) + "-" + hash;
    }
    return safe;
  }

  /** Where the YAML is, for errors that name the entry and its line. */
  interface Source {
    LabenvException error(String pointer, String message);

    /** The scalar's text as written in the file (null when not known). */
    String text(String pointer);
  }

  /**
   * Reads the {@code sweep} mapping at {@code /sweep}. {@code reserved}: variable names the parameters may not take
   * when passed as the environment (the project's own {@code env}).
   */
  static Sweep read(JsonNode node, Source src, Set<String> reserved) {
    if (!node.isObject()) {
      throw src.error("/sweep", "expected a mapping with grid: or list:, and pass:, got " + ProjectFile.describe(node));
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!Set.of("grid", "list", "pass").contains(k)) {
        throw src.error("/sweep/" + k, "unknown key (known here: grid, list, pass)");
      }
    }
    Pass pass = Pass.ENV;
    JsonNode passNode = node.get("pass");
    if (passNode != null) {
      if (!passNode.isTextual() || !Set.of("env", "args").contains(passNode.asText())) {
        throw src.error("/sweep/pass", "expected env (variables) or args (--NAME=VALUE arguments), got "
            + ProjectFile.describe(passNode));
      }
      pass = passNode.asText().equals("env") ? Pass.ENV : Pass.ARGS;
    }
    JsonNode grid = node.get("grid");
    JsonNode list = node.get("list");
    if ((grid == null) == (list == null)) {
      throw src.error("/sweep", "give exactly one of grid (values per parameter: every combination) and list "
          + "(the parameter sets themselves)");
    }
    List<String> parameters = new ArrayList<>();
    List<Map<String, String>> sets = new ArrayList<>();
    if (grid != null) {
      grid(grid, src, parameters, sets);
    } else {
      list(list, src, parameters, sets);
    }
    for (int i = 0; i < parameters.size(); i++) {
      String p = parameters.get(i);
      String at = grid != null ? "/sweep/grid/" + p : "/sweep/list/0/" + p;
      if (pass == Pass.ENV && (RESERVED.contains(p) || ProjectRunner.THREAD_VARIABLES.contains(p)
          || p.startsWith("LABENV_") || p.startsWith("SLURM_"))) {
        throw src.error(at, "\"" + p + "\" is a variable the hermetic run or the scheduler sets: name the "
            + "parameter otherwise");
      }
      if (pass == Pass.ENV && reserved.contains(p)) {
        throw src.error(at, "\"" + p + "\" is also in env: a task's value would silently replace it; keep one");
      }
    }
    Map<String, Integer> seen = new HashMap<>();
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < sets.size(); i++) {
      Map<String, String> set = sets.get(i);
      String key = key(parameters, set);
      Integer before = seen.putIfAbsent(key, i);
      if (before != null) {
        // Only a list can repeat a set: a grid's duplicates were refused per parameter.
        throw src.error("/sweep/list/" + i, "the same parameters as entry " + before + " (" + name(parameters, set)
            + "): a duplicate task");
      }
      String name = name(parameters, set);
      Integer clash = names.putIfAbsent(name, i);
      if (clash != null) {
        throw src.error(grid != null ? "/sweep/grid" : "/sweep/list/" + i, "tasks " + clash + " and " + i
            + " get the same folder name \"" + name + "\" (values that differ only in characters a folder name "
            + "cannot hold): make them differ in letters, digits or . _ + -");
      }
    }
    return new Sweep(pass, parameters, sets);
  }

  /** An unambiguous key of a set (names and values may hold any character). */
  private static String key(List<String> parameters, Map<String, String> set) {
    StringBuilder sb = new StringBuilder();
    for (String p : parameters) {
      String v = set.get(p);
      sb.append(p.length()).append(':').append(p).append(v.length()).append(':').append(v);
    }
    return sb.toString();
  }

  private static void grid(JsonNode grid, Source src, List<String> parameters, List<Map<String, String>> sets) {
    if (!grid.isObject() || grid.isEmpty()) {
      throw src.error("/sweep/grid", "expected a mapping of parameter names to lists of values, like "
          + "{alpha: [0.1, 0.5], seed: [1, 2]}, got " + (grid.isObject() ? "an empty mapping" : ProjectFile.describe(grid)));
    }
    List<List<String>> values = new ArrayList<>();
    long count = 1;
    for (Iterator<Map.Entry<String, JsonNode>> it = grid.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String at = "/sweep/grid/" + e.getKey();
      name(e.getKey(), at, src);
      JsonNode vs = e.getValue();
      if (!vs.isArray() || vs.isEmpty()) {
        throw src.error(at, "expected a list of one or more values, got " + (vs.isArray() ? "an empty list"
            : ProjectFile.describe(vs)) + (vs.isValueNode() && !vs.isNull() ? " (write [" + vs.asText() + "] for one)"
            : ""));
      }
      List<String> vals = new ArrayList<>();
      Set<String> distinct = new LinkedHashSet<>();
      for (int i = 0; i < vs.size(); i++) {
        String v = scalar(vs.get(i), at + "/" + i, src);
        if (!distinct.add(v)) {
          throw src.error(at + "/" + i, "the value " + v + " is already in the list (entry " + vals.indexOf(v)
              + "): it would make duplicate tasks");
        }
        vals.add(v);
      }
      parameters.add(e.getKey());
      values.add(vals);
      count *= vals.size();
      if (count > MAX_TASKS) {
        throw src.error("/sweep/grid", "more than " + MAX_TASKS + " combinations: split the sweep");
      }
    }
    // The first parameter varies slowest, as nested loops in declared order would.
    int n = (int) count;
    for (int i = 0; i < n; i++) {
      Map<String, String> set = new LinkedHashMap<>();
      int rest = i;
      for (int p = parameters.size() - 1; p >= 0; p--) {
        List<String> vals = values.get(p);
        set.put(parameters.get(p), vals.get(rest % vals.size()));
        rest /= vals.size();
      }
      Map<String, String> ordered = new LinkedHashMap<>();
      parameters.forEach(p -> ordered.put(p, set.get(p)));
      sets.add(ordered);
    }
  }

  private static void list(JsonNode list, Source src, List<String> parameters, List<Map<String, String>> sets) {
    if (!list.isArray() || list.isEmpty()) {
      throw src.error("/sweep/list", "expected a list of parameter sets, like [{alpha: 0.1, seed: 1}], got "
          + (list.isArray() ? "an empty list" : ProjectFile.describe(list)));
    }
    if (list.size() > MAX_TASKS) {
      throw src.error("/sweep/list", "more than " + MAX_TASKS + " entries: split the sweep");
    }
    for (int i = 0; i < list.size(); i++) {
      JsonNode entry = list.get(i);
      String at = "/sweep/list/" + i;
      if (!entry.isObject() || entry.isEmpty()) {
        throw src.error(at, "expected a mapping of parameter names to values, got "
            + (entry.isObject() ? "an empty mapping" : ProjectFile.describe(entry)));
      }
      Map<String, String> set = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = entry.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        name(e.getKey(), at + "/" + e.getKey(), src);
        set.put(e.getKey(), scalar(e.getValue(), at + "/" + e.getKey(), src));
      }
      if (i == 0) {
        parameters.addAll(set.keySet());
      } else if (!set.keySet().equals(new LinkedHashSet<>(parameters))) {
        List<String> missing = new ArrayList<>(parameters);
        missing.removeAll(set.keySet());
        List<String> extra = new ArrayList<>(set.keySet());
        extra.removeAll(parameters);
        throw src.error(at, "every entry needs the parameters of the first (" + String.join(", ", parameters) + ")"
            + (missing.isEmpty() ? "" : "; missing: " + String.join(", ", missing))
            + (extra.isEmpty() ? "" : "; not in the first: " + String.join(", ", extra)));
      }
      Map<String, String> ordered = new LinkedHashMap<>();
      parameters.forEach(p -> ordered.put(p, set.get(p)));
      sets.add(ordered);
    }
  }

  private static void name(String name, String at, Source src) {
    if (!NAME.matcher(name).matches()) {
      throw src.error(at, "\"" + name + "\" is not a parameter name (letters, digits and _, not starting with a "
          + "digit: it becomes a variable or --NAME=VALUE)");
    }
  }

  private static String scalar(JsonNode v, String at, Source src) {
    if (!v.isValueNode() || v.isNull()) {
      throw src.error(at, "expected a value (a string, number or boolean), got " + ProjectFile.describe(v));
    }
    String text = src.text(at);
    return text != null ? text : v.asText();
  }
}
