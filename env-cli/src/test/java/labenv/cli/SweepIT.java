package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.image.Digest;
import labenv.image.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run --sweep: tasks in parallel, one receipt each and a summary with one root; verify of the summary. */
class SweepIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path dir;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("mkdir"));
    home = RunIT.home;
  }

  static RunIT.Proc labenv(Object... args) throws Exception {
    return LifecycleIT.labenvWith(home, args);
  }

  private Path project(String yaml) throws Exception {
    Path p = dir.resolve("analysis");
    Files.createDirectories(p);
    Files.writeString(p.resolve("labenv.yaml"), yaml);
    return p;
  }

  static JsonNode json(Path f) throws Exception {
    return Json.mapper().readTree(Files.readAllBytes(f));
  }

  static String sha256(Path f) throws Exception {
    return Digest.of(Files.readAllBytes(f)).toString();
  }

  /** Four tasks; alpha=0.5,seed=2 fails (exit 3) after writing; alpha=0.1,seed=1 also writes a random file. */
  static final String SWEEP = """
      labenv: 1
      name: sweep-demo
      image: {ref: "bb:1"}
      command: |
        mkdir -p out
        echo "alpha=$alpha seed=$seed" > out/params.txt
        echo "task $alpha $seed says hello"
        if [ "$alpha,$seed" = "0.1,1" ]; then cat /proc/sys/kernel/random/uuid > out/random.txt; fi
        if [ "$alpha,$seed" = "0.5,2" ]; then echo "boom: seed 2 diverged" >&2; exit 3; fi
      outputs: [out]
      sweep:
        grid:
          alpha: [0.1, 0.5]
          seed: [1, 2]
      """;

  @Test
  void aSweepRunsEveryTaskKeepsTheFailedOneAndWritesASummaryThatVerifies() throws Exception {
    Path p = project(SWEEP);
    RunIT.Proc run = labenv("run", "--sweep", "--jobs", "2", p);
    assertEquals(1, run.code(), run::toString);
    assertTrue(run.err().contains("sweep: 4 tasks, 2 at a time"), run.err());
    assertTrue(run.out().contains("task alpha=0.5,seed=2: failed (exit 3)"), run.out());
    assertTrue(run.err().contains("  | boom: seed 2 diverged"), "the failed task's log tail: " + run.err());
    assertTrue(run.out().contains("3 of 4 tasks ok; not ok: alpha=0.5,seed=2 (failed)"), run.out());

    Path sweep = p.resolve("sweep");
    List<String> names = List.of("alpha=0.1,seed=1", "alpha=0.1,seed=2", "alpha=0.5,seed=1", "alpha=0.5,seed=2");
    JsonNode summary = json(sweep.resolve("sweep-receipt.json"));
    assertEquals("labenv-sweep", summary.get("kind").asText());
    assertEquals("env", summary.get("pass").asText());
    assertEquals(List.of("alpha", "seed"), List.of(summary.get("parameters").get(0).asText(),
        summary.get("parameters").get(1).asText()));
    List<Map<String, Object>> rootEntries = new ArrayList<>();
    List<Map<String, Object>> outputEntries = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      JsonNode t = summary.get("tasks").get(i);
      String name = names.get(i);
      assertEquals(i, t.get("index").asInt());
      assertEquals(name, t.get("name").asText());
      Path task = sweep.resolve(name);
      String[] ab = name.replace("alpha=", "").replace("seed=", "").split(",");
      assertEquals("alpha=" + ab[0] + " seed=" + ab[1] + "\n", Files.readString(task.resolve("out/params.txt")),
          "each task got its own variables and its own output folder");
      assertEquals("task " + ab[0] + " " + ab[1] + " says hello\n" + (i == 3 ? "boom: seed 2 diverged\n" : ""),
          Files.readString(task.resolve("task.log")));
      JsonNode r = json(task.resolve("receipt.json"));
      assertEquals(sha256(task.resolve("receipt.json")), t.get("receiptDigest").asText());
      assertEquals(name + "/receipt.json", t.get("receipt").asText());
      assertEquals(r.get("outputs").get("root").asText(), t.get("outputsRoot").asText());
      assertTrue(r.get("environment").toString().contains("\"alpha=" + ab[0] + "\""), r.toString());
      assertEquals(i == 3 ? 3 : 0, r.get("exitCode").asInt());
      assertEquals(i == 3 ? "failed" : "ok", t.get("status").asText());
      Map<String, Object> params = new LinkedHashMap<>();
      params.put("alpha", ab[0]);
      params.put("seed", ab[1]);
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("index", i);
      e.put("name", name);
      e.put("parameters", params);
      e.put("receiptDigest", t.get("receiptDigest").asText());
      rootEntries.add(e);
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("name", name);
      o.put("outputsRoot", t.get("outputsRoot").asText());
      outputEntries.add(o);
    }
    assertTrue(Files.exists(sweep.resolve("alpha=0.5,seed=2/out/params.txt")), "the failed task's partial results");
    assertTrue(summary.get("tasks").get(3).get("logTail").toString().contains("boom"), summary.toString());
    assertEquals(Digest.of(Json.canonical(rootEntries)).toString(), summary.get("root").asText());
    assertEquals(Digest.of(Json.canonical(outputEntries)).toString(), summary.get("outputsRoot").asText());
    assertTrue(run.out().contains("root: " + summary.get("root").asText()), run.out());
    assertFalse(Files.exists(p.resolve("receipt.json")), "a sweep does not touch the project's own run");

    // verify: every task again; the failed one fails the same way (verified), the random one differs, explained.
    RunIT.Proc verify = labenv("verify", sweep.resolve("sweep-receipt.json"));
    assertEquals(1, verify.code(), verify::toString);
    assertTrue(verify.out().contains("task alpha=0.1,seed=1:\n  out/random.txt: differs"), verify.out());
    assertTrue(verify.out().contains("task alpha=0.5,seed=2:\n  verified: every output matches"), verify.out());
    assertTrue(verify.out().contains("not verified: 1 of 4 tasks differ: alpha=0.1,seed=1"), verify.out());
    RunIT.Proc one = labenv("verify", "--task", "alpha=0.1,seed=2", p);
    assertEquals(0, one.code(), one::toString);
    assertTrue(one.out().contains("verified: every task of the sweep matches its receipt (1 task"), one.out());
    RunIT.Proc json = labenv("verify", "--format", "json", "--task", "1", sweep.resolve("sweep-receipt.json"));
    assertEquals(0, json.code(), json::toString);
    assertEquals("match", Json.mapper().readTree(json.out()).get("tasks").get(0).get("result").asText());

    // A summary that no longer matches its receipts is refused before anything runs.
    Path r0 = sweep.resolve("alpha=0.1,seed=2/receipt.json");
    Files.writeString(r0, Files.readString(r0).replace("\"exitCode\":0", "\"exitCode\":1"));
    RunIT.Proc damaged = labenv("verify", "--task", "alpha=0.1,seed=2", sweep.resolve("sweep-receipt.json"));
    assertEquals(2, damaged.code(), damaged::toString);
    assertTrue(damaged.err().contains("task alpha=0.1,seed=2's receipt is not the one"), damaged.err());

    // One task again: only its folder is replaced, the summary is made again from the folders.
    String before = Files.readString(sweep.resolve("alpha=0.1,seed=1/receipt.json"));
    RunIT.Proc again = labenv("run", "--sweep", "--task", "alpha=0.1,seed=2", p);
    assertEquals(1, again.code(), "the summary still has the failed task: " + again);
    assertEquals(before, Files.readString(sweep.resolve("alpha=0.1,seed=1/receipt.json")));
    JsonNode summary2 = json(sweep.resolve("sweep-receipt.json"));
    assertEquals("ok", summary2.get("tasks").get(1).get("status").asText());
    assertEquals(sha256(r0), summary2.get("tasks").get(1).get("receiptDigest").asText());
    assertNotEquals(summary.get("root").asText(), summary2.get("root").asText());
    assertEquals(0, labenv("verify", "--task", "alpha=0.1,seed=2", p).code());
    assertFalse(Files.list(p.resolve(".labenv")).anyMatch(f -> f.getFileName().toString().startsWith("sweep-")),
        "no staging left behind");
  }

  @Test
  void argumentsFollowTheCommandInDeclaredOrder() throws Exception {
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: ["sh", "-c", "mkdir -p out; echo \\"$@\\" > out/args.txt; echo \\"[$lr]\\" >> out/args.txt", "sh"]
        outputs: [out]
        sweep:
          pass: args
          list:
            - {lr: 1e-3, depth: 2}
            - {depth: 3, lr: 0.10}
        """);
    RunIT.Proc run = labenv("run", "--sweep", p);
    assertEquals(0, run.code(), run::toString);
    assertEquals("--lr=1e-3 --depth=2\n[]\n", Files.readString(p.resolve("sweep/lr=1e-3,depth=2/out/args.txt")));
    assertEquals("--lr=0.10 --depth=3\n[]\n", Files.readString(p.resolve("sweep/lr=0.10,depth=3/out/args.txt")));
    assertEquals("args", json(p.resolve("sweep/sweep-receipt.json")).get("pass").asText());
  }

  @Test
  void badUsesSayWhat() throws Exception {
    Path p = project("labenv: 1\nimage: {ref: \"bb:1\"}\ncommand: \"true\"\noutputs: [out]\n");
    RunIT.Proc none = labenv("run", "--sweep", p);
    assertEquals(2, none.code(), none::toString);
    assertTrue(none.err().contains("no sweep declared"), none.err());
    Path q = project(SWEEP);
    RunIT.Proc task = labenv("run", "--sweep", "--task", "alpha=9", q);
    assertEquals(2, task.code(), task::toString);
    assertTrue(task.err().contains("no task \"alpha=9\" in the sweep (its 4 tasks: alpha=0.1,seed=1"), task.err());
    RunIT.Proc jobs = labenv("run", "--sweep", "--jobs", "0", q);
    assertEquals(2, jobs.code(), jobs::toString);
    RunIT.Proc bad = labenv("run", "--jobs", "2", q);
    assertEquals(2, bad.code(), bad::toString);
    assertTrue(bad.err().contains("--jobs and --task go with --sweep"), bad.err());
  }
}
