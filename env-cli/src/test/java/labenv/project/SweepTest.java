package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;

/** labenv.yaml's sweep: expansion into tasks (order, names, env or args) and the errors that name entry and line. */
class SweepTest {
  static final Path DIR = Path.of("/tmp/analysis");
  static final Path FILE = DIR.resolve("labenv.yaml");
  static final String HEAD = "labenv: 1\nimage: {ref: bb:1}\noutputs: [results]\n";

  static ProjectFile parse(String yaml) {
    return ProjectFile.parse(DIR, FILE, HEAD + yaml);
  }

  static String error(String yaml) {
    LabenvException e = assertThrows(LabenvException.class, () -> parse(yaml));
    assertEquals(2, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().startsWith(FILE.toString()), e.getMessage());
    return e.getMessage();
  }

  static void has(String message, String part) {
    assertTrue(message.contains(part), message);
  }

  @Test
  void aProjectWithoutASweepIsOneTaskAndOldFilesStayValid() {
    ProjectFile p = ProjectFile.parse(DIR, FILE, HEAD);
    assertNull(p.sweep());
    assertNull(p.registry());
    assertEquals(List.of(new SweepTask(0, "run", Map.of(), List.of())), Sweep.tasks(p));
  }

  @Test
  void aGridIsTheCartesianProductInDeclaredOrderFirstParameterSlowest() {
    ProjectFile p = parse("""
        sweep:
          grid:
            alpha: [0.1, 0.5]
            seed: [1, 2, 3]
        """);
    List<SweepTask> tasks = Sweep.tasks(p);
    assertEquals(List.of("alpha=0.1,seed=1", "alpha=0.1,seed=2", "alpha=0.1,seed=3", "alpha=0.5,seed=1",
        "alpha=0.5,seed=2", "alpha=0.5,seed=3"), tasks.stream().map(SweepTask::name).toList());
    for (int i = 0; i < tasks.size(); i++) {
      assertEquals(i, tasks.get(i).index());
    }
    SweepTask t = tasks.get(4);
    assertEquals(List.of("alpha", "seed"), List.copyOf(t.env().keySet()), "variables in declared order");
    assertEquals(Map.of("alpha", "0.5", "seed", "2"), t.env());
    assertEquals(List.of(), t.args());
    assertEquals(Sweep.Pass.ENV, p.sweep().pass());
  }

  @Test
  void valuesKeepTheirYamlTextAndArgsFollowTheDeclaredOrder() {
    ProjectFile p = parse("""
        sweep:
          pass: args
          list:
            - {lr: 1e-3, model: "resnet/50", deep: true}
            - {deep: false, model: vgg, lr: 0.10}
        """);
    List<SweepTask> tasks = Sweep.tasks(p);
    assertEquals(List.of("--lr=1e-3", "--model=resnet/50", "--deep=true"), tasks.get(0).args());
    assertEquals(List.of("--lr=0.10", "--model=vgg", "--deep=false"), tasks.get(1).args(),
        "a later entry's keys in any order; the first entry's order counts");
    assertEquals("lr=1e-3,model=resnet_50,deep=true", tasks.get(0).name(), "/ is not in a folder name");
    assertEquals(Map.of(), tasks.get(0).env());
  }

  @Test
  void longNamesAreCutWithAHashOfTheWhole() {
    String a = "x".repeat(150);
    ProjectFile p = parse("sweep:\n  list: [{p: " + a + "1}, {p: " + a + "2}]\n");
    List<SweepTask> tasks = Sweep.tasks(p);
    assertEquals(Sweep.MAX_NAME, tasks.get(0).name().length());
    assertTrue(!tasks.get(0).name().equals(tasks.get(1).name()), tasks.toString());
    assertEquals(tasks, Sweep.tasks(parse("sweep:\n  list: [{p: " + a + "1}, {p: " + a + "2}]\n")), "deterministic");
  }

  @Test
  void aTaskIsFoundByNameOrIndex() {
    List<SweepTask> tasks = Sweep.tasks(parse("sweep: {grid: {a: [1, 2]}}\n"));
    assertEquals(1, Sweep.task(tasks, "a=2").index());
    assertEquals("a=1", Sweep.task(tasks, "0").name());
    LabenvException e = assertThrows(LabenvException.class, () -> Sweep.task(tasks, "a=3"));
    assertTrue(e.getMessage().contains("no task \"a=3\"") && e.getMessage().contains("a=1 a=2"), e.getMessage());
  }

  @Test
  void errorsNameTheEntryAndItsLine() {
    has(error("sweep:\n  grid:\n    alpha: []\n"), ":6: sweep.grid.alpha: expected a list of one or "
        + "more values, got an empty list");
    has(error("sweep:\n  grid: {}\n"), ":5: sweep.grid: expected a mapping");
    has(error("sweep:\n  grid:\n    alpha: 0.1\n"), "(write [0.1] for one)");
    has(error("sweep:\n  list: []\n"), ":5: sweep.list: expected a list of parameter sets");
    String nested = error("sweep:\n  grid:\n    alpha:\n      - 0.1\n      - [1, 2]\n");
    assertTrue(nested.contains(":8: sweep.grid.alpha.1: expected a value (a string, number or boolean), got a list"),
        nested);
    has(error("sweep:\n  list:\n    - {a: 1}\n    - {a: ~}\n"), ":7: sweep.list.1.a: expected a value");
    String mixed = error("sweep:\n  list:\n    - {a: 1, b: 2}\n    - {a: 1, c: 3}\n");
    assertTrue(mixed.contains(":7: sweep.list.1: every entry needs the parameters of the first (a, b); missing: b; "
        + "not in the first: c"), mixed);
    String dup = error("sweep:\n  list:\n    - {a: 1, b: 2}\n    - {b: 2, a: 1}\n");
    assertTrue(dup.contains(":7: sweep.list.1: the same parameters as entry 0 (a=1,b=2): a duplicate task"), dup);
    has(error("sweep:\n  grid:\n    a: [1, 2, 1]\n"), ":6: sweep.grid.a.2: the value 1 is already in the "
        + "list (entry 0)");
    String clash = error("sweep:\n  list: [{a: x/y}, {a: x_y}]\n");
    assertTrue(clash.contains("tasks 0 and 1 get the same folder name \"a=x_y\""), clash);
    has(error("sweep:\n  grid:\n    my-param: [1]\n"), ":6: sweep.grid.my-param: \"my-param\" is not a "
        + "parameter name");
    has(error("sweep:\n  grid:\n    OMP_NUM_THREADS: [1, 2]\n"), "is a variable the hermetic run or "
        + "the scheduler sets");
    has(error("env: {alpha: 1}\nsweep:\n  grid:\n    alpha: [1, 2]\n"), ":7: sweep.grid.alpha: \"alpha\" "
        + "is also in env");
    has(error("sweep:\n  grid: {a: [1]}\n  list: [{a: 1}]\n"), ":5: sweep: give exactly one of grid");
    has(error("sweep:\n  grid: {a: [1]}\n  pass: argv\n"), ":6: sweep.pass: expected env (variables) "
        + "or args");
    has(error("sweep:\n  grid: {a: [1]}\n  jobs: 4\n"), ":6: sweep.jobs: unknown key");
    has(error("sweep: [a, b]\n"), ":4: sweep: expected a mapping");
  }

  @Test
  void anOutputNamedSweepClashesOnlyWithASweep() {
    String yaml = "labenv: 1\nimage: {ref: bb:1}\noutputs: [sweep]\n";
    assertEquals(List.of("sweep"), ProjectFile.parse(DIR, FILE, yaml).outputs());
    LabenvException e = assertThrows(LabenvException.class,
        () -> ProjectFile.parse(DIR, FILE, yaml + "sweep: {grid: {a: [1]}}\n"));
    assertTrue(e.getMessage().contains(":3: outputs.0: \"sweep\": with a sweep, sweep/ holds the tasks' outputs"),
        e.getMessage());
  }

  @Test
  void theRegistryIsAPrefixWithoutTagOrDigest() {
    ProjectFile p = parse("registry: localhost:5000/lab\nname: My Analysis\n");
    assertEquals("localhost:5000/lab", p.registry());
    RegistryNames names = RegistryNames.of(p, null);
    labenv.image.Digest d = labenv.image.Digest.of(new byte[0]);
    assertEquals("localhost:5000/lab/my-analysis@" + d, names.image(p, d));
    assertEquals("localhost:5000/lab/my-analysis:sha256-" + d.hex(), names.imagePushTarget(p, d));
    assertEquals("localhost:5000/lab/iris@" + d, names.dataset("iris:v1", d));
    assertEquals("ghcr.io/x/my-analysis@" + d, RegistryNames.of(p, "ghcr.io/x/").image(p, d), "the flag wins");
    has(error("registry: ghcr.io/Lab:1\n"), ":4: registry: registry \"ghcr.io/Lab:1\": expected "
        + "HOST[:PORT][/NAMESPACE]");
    LabenvException none = assertThrows(LabenvException.class, () -> RegistryNames.of(parse(""), null));
    assertTrue(none.getMessage().startsWith("no registry configured for analysis: add \"registry: HOST/NAMESPACE\""),
        none.getMessage());
  }
}
