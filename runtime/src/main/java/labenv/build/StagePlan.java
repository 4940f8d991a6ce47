package labenv.build;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The stages of an Envfile and the order to build the ones the target needs: a stage depends on the stage it is
 * FROM and on the stages its COPY --from reads; stages nothing needs are not built (as BuildKit skips them), and a
 * cycle is an error naming the line that closes it.
 */
final class StagePlan {
  /** One stage: its FROM, its name (lower case) or null, and its instructions after the FROM. */
  record Stage(int index, Instruction.From from, String name, List<Instruction> body) {
    String displayName() {
      return name != null ? name : "stage-" + index;
    }
  }

  final List<Instruction.Arg> metaArgs = new ArrayList<>();
  final List<Stage> stages = new ArrayList<>();
  private final String file;

  StagePlan(Envfile envfile) {
    this.file = envfile.fileName();
    List<Instruction> current = null;
    Instruction.From from = null;
    for (Instruction i : envfile.instructions()) {
      if (i instanceof Instruction.From f) {
        if (from != null) {
          add(from, current);
        }
        from = f;
        current = new ArrayList<>();
      } else if (from == null) {
        if (!(i instanceof Instruction.Arg a)) {
          throw EnvfileException.at(file, i.line(), "only ARG may come before the first FROM");
        }
        metaArgs.add(a);
      } else {
        current.add(i);
      }
    }
    if (from == null) {
      throw EnvfileException.at(file, 1, "no FROM instruction");
    }
    add(from, current);
  }

  private void add(Instruction.From from, List<Instruction> body) {
    String name = from.alias() == null ? null : from.alias().toLowerCase(Locale.ROOT);
    for (Stage s : stages) {
      if (name != null && name.equals(s.name())) {
        throw EnvfileException.at(file, from.line(), "stage name \"" + from.alias() + "\" is already used on line "
            + s.from().line());
      }
    }
    stages.add(new Stage(stages.size(), from, name, List.copyOf(body)));
  }

  /** The stage {@code ref} names (a name, case-insensitive, or an index), or null. */
  Stage stage(String ref) {
    String r = ref.toLowerCase(Locale.ROOT);
    for (Stage s : stages) {
      if (r.equals(s.name())) {
        return s;
      }
    }
    if (r.matches("[0-9]+")) {
      int n = Integer.parseInt(r);
      if (n < stages.size()) {
        return stages.get(n);
      }
    }
    return null;
  }

  /** The stage to build: {@code target} by name (null: the last). */
  Stage target(String target) {
    if (target == null) {
      return stages.get(stages.size() - 1);
    }
    String t = target.toLowerCase(Locale.ROOT);
    for (Stage s : stages) {
      if (t.equals(s.name())) {
        return s;
      }
    }
    List<String> names = stages.stream().map(Stage::name).filter(n -> n != null).toList();
    throw labenv.LabenvException.badInput("--target " + target + ": " + file + " has no stage of that name"
        + (names.isEmpty() ? " (it names none)" : " (it has " + String.join(", ", names) + ")"));
  }

  /**
   * The stages {@code target} needs, each after those it needs; {@code expand} gives a FROM image or a --from value
   * with the ARGs declared before the first FROM.
   */
  List<Stage> order(Stage target, Function<String, String> expand) {
    Map<Integer, Integer> state = new LinkedHashMap<>(); // 1 visiting, 2 done
    Set<Stage> out = new LinkedHashSet<>();
    visit(target, expand, state, out, null);
    return List.copyOf(out);
  }

  private void visit(Stage s, Function<String, String> expand, Map<Integer, Integer> state, Set<Stage> out,
      Instruction via) {
    Integer st = state.get(s.index());
    if (st != null && st == 2) {
      return;
    }
    if (st != null) {
      int line = via != null ? via.line() : s.from().line();
      throw EnvfileException.at(file, line, "stage " + s.displayName() + " depends on itself (a cycle of stages)");
    }
    state.put(s.index(), 1);
    Stage base = stage(expand.apply(s.from().image()));
    if (base != null && base.index() >= s.index()) {
      throw EnvfileException.at(file, s.from().line(), "FROM " + s.from().image() + " names stage "
          + base.displayName() + ", which is defined " + (base == s ? "here" : "later") + " (a cycle of stages)");
    }
    if (base != null) {
      visit(base, expand, state, out, s.from());
    }
    for (Instruction i : s.body()) {
      if (i instanceof Instruction.Copy c && c.from() != null) {
        Stage from = stage(expand.apply(c.from()));
        if (from == s) {
          throw EnvfileException.at(file, c.line(), "COPY --from=" + c.from() + " names its own stage");
        }
        if (from != null) {
          visit(from, expand, state, out, c);
        }
      }
    }
    state.put(s.index(), 2);
    out.add(s);
  }

  /** Whether {@code name} is declared by an ARG of {@code stage} after {@code line}; the line, or -1. */
  static int declaredLater(Stage stage, String name, int line) {
    for (Instruction i : stage.body()) {
      if (i instanceof Instruction.Arg a && a.line() > line) {
        for (Instruction.KeyValue kv : a.args()) {
          if (kv.key().equals(name)) {
            return a.line();
          }
        }
      }
    }
    return -1;
  }
}
