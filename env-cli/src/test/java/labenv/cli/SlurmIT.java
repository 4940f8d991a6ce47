package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.cli.RegistryFixture.Result;
import labenv.cluster.Slurm;
import labenv.cluster.SlurmJobs;
import labenv.image.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv submit --slurm}, {@code status} and {@code collect --slurm} against a real single-machine Slurm
 * ({@link SlurmFixture}) and a real registry ({@link RegistryFixture}). The submitter and the "node" have stores of
 * their own: the submitter's holds the image and dataset, the node's starts empty and gets them by pulling, as a
 * compute node would (the job inherits the submitter's environment, whose LABENV_HOME is the node's store, while the
 * submitter itself runs with {@code --home}). labenv reaches the jobs through a {@code labenv} on their PATH.
 */
@Tag("slow")
class SlurmIT {
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(5);
  @TempDir static Path shared;
  static SlurmFixture slurm;
  static RegistryFixture registry;
  static Path submitHome;
  static Path nodeHome;
  static Path bin;
  @TempDir Path dir;

  @BeforeAll
  static void cluster() throws Exception {
    RunIT.busyboxImage(shared, List.of("mkdir"));
    submitHome = RunIT.home;
    nodeHome = Files.createDirectories(shared.resolve("node-home"));
    bin = Files.createDirectories(shared.resolve("bin"));
    Path labenv = bin.resolve("labenv");
    Files.writeString(labenv, "#!/bin/sh\nexec java -jar " + RunIT.JAR + " \"$@\"\n");
    Files.setPosixFilePermissions(labenv, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path data = Files.createDirectories(shared.resolve("data"));
    Files.writeString(data.resolve("obs.csv"), "id,value\n1,2.5\n2,3.5\n");
    Result added = labenv(env(true), "dataset", "add", "obs:v1", data.toString());
    assertEquals(0, added.code(), added::toString);
    registry = RegistryFixture.anonymous();
    slurm = SlurmFixture.start();
  }

  @AfterAll
  static void stop() {
    if (slurm != null) {
      slurm.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  /** The environment of the submitter (whose job inherits it): the cluster, labenv on PATH, the node's store. */
  static Map<String, String> env(boolean withSbatch) {
    Map<String, String> env = new HashMap<>();
    if (slurm != null) {
      env.putAll(slurm.environment());
    }
    env.put("PATH", bin + ":" + (withSbatch ? System.getenv("PATH") : "/nonexistent"));
    env.put("LABENV_HOME", nodeHome.toString());
    return env;
  }

  /** labenv as the submitter runs it: its own store given by --home, the environment given. */
  static Result labenv(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString(), "--home", submitHome.toString()));
    cmd.addAll(List.of(args));
    return RegistryFixture.tool(cmd, env, null);
  }

  private Path project(String name, String extra) throws Exception {
    Path p = Files.createDirectories(dir.resolve(name));
    Files.writeString(p.resolve("labenv.yaml"), """
        labenv: 1
        name: %s
        image:
          ref: bb:1
        datasets:
          obs:v1: /data/obs
        command: |
          mkdir -p results
          if [ "${alpha:-0}" = 3 ]; then echo "alpha 3 is not allowed" >&2; exit 3; fi
          echo "alpha=${alpha:-none}" > results/alpha.txt
          cat /data/obs/obs.csv >> results/alpha.txt
          hostname >> results/alpha.txt
        outputs: [results]
        """.formatted(name) + extra);
    return p;
  }

  private static String jobId(Result submitted) {
    Matcher m = Pattern.compile("submitted job ([0-9]+)").matcher(submitted.out());
    assertTrue(m.find(), submitted::toString);
    return m.group(1);
  }

  private static JsonNode json(Path file) throws Exception {
    return Json.mapper().readTree(Files.readAllBytes(file));
  }

  @Test
  void aSweepRunsAsAJobArrayAFailedTaskIsShownAndTheOthersAreUnaffected() throws Exception {
    Path p = project("sweep-demo", "registry: " + registry.host() + "/lab\nsweep:\n  grid: {alpha: [1, 2, 3]}\n");
    Result submitted = labenv(env(true), "submit", "--slurm", "--partition", SlurmFixture.PARTITION, "--time", "10",
        p.toString());
    assertEquals(0, submitted.code(), () -> submitted + slurm.logs());
    String job = jobId(submitted);
    assertTrue(submitted.out().contains("3 tasks of sweep-demo"), submitted::toString);
    JsonNode recorded = json(p.resolve(".labenv/slurm/jobs.json")).path("jobs").path(0);
    assertEquals(job, recorded.path("id").asText());
    assertEquals(3, recorded.path("tasks").size());
    assertTrue(recorded.path("source").asText().startsWith(registry.host() + "/lab/sweep-demo@sha256:"),
        recorded::toString);
    String script = Files.readString(p.resolve(".labenv/slurm").resolve(job).resolve("job.sh"));
    assertTrue(script.contains("#SBATCH --array=0-2\n") && script.contains("#SBATCH --partition=debug\n")
        && script.contains("#SBATCH --time=10\n") && script.contains("#SBATCH --cpus-per-task=1\n"), script);
    assertEquals(200, registry.get("/v2/lab/sweep-demo/tags/list").statusCode());
    assertEquals(200, registry.get("/v2/lab/obs/tags/list").statusCode());

    slurm.awaitDone(job, JOB_TIMEOUT);

    Result status = labenv(env(true), "status", p.toString());
    assertEquals(0, status.code(), status::toString);
    assertTrue(status.out().startsWith("job " + job + " (sweep-demo, submitted "), status::toString);
    assertTrue(status.out().contains("2 done, 1 failed"), status::toString);
    assertTrue(status.out().contains("task 2 (alpha=3) failed with exit status 3;"), status::toString);
    assertTrue(status.out().contains("  alpha 3 is not allowed"), status::toString);
    JsonNode js = Json.mapper().readTree(labenv(env(true), "status", "--format", "json", p.toString()).out());
    assertEquals(List.of("done", "done", "failed"), List.of(js.path("tasks").path(0).path("state").asText(),
        js.path("tasks").path(1).path("state").asText(), js.path("tasks").path(2).path("state").asText()));
    assertEquals(3, js.path("tasks").path(2).path("exitCode").asInt());

    Path task0 = p.resolve(".labenv/slurm").resolve(job).resolve("0");
    assertEquals("alpha=1\nid,value\n1,2.5\n2,3.5\nlabenv\n", Files.readString(task0.resolve("results/alpha.txt")));
    JsonNode fromSlurm = json(task0.resolve("receipt.json"));
    assertEquals(0, fromSlurm.path("exitCode").asInt());
    assertTrue(fromSlurm.path("environment").toString().contains("\"alpha=1\""), fromSlurm::toString);
    // The node got the image and the dataset from the registry into its own store.
    Result nodeImages = RegistryFixture.tool(List.of("java", "-jar", RunIT.JAR.toString(), "--home",
        nodeHome.toString(), "dataset", "ls"), Map.of(), null);
    assertTrue(nodeImages.out().contains("obs"), nodeImages::toString);

    // Same hashes everywhere: task alpha=1 run here has the outputs it had on the cluster.
    Result local = labenv(env(true), "run", "--sweep", "--task", "alpha=1", p.toString());
    // run --sweep --task exits 1 here: the summary it makes again lists the two tasks not run here as missing.
    assertTrue(local.out().startsWith("task alpha=1: ok\n"), local::toString);
    JsonNode here = json(p.resolve("sweep/alpha=1/receipt.json"));
    assertEquals(fromSlurm.path("outputs"), here.path("outputs"));
    assertEquals(fromSlurm.path("image"), here.path("image"));
    assertEquals(fromSlurm.path("datasets"), here.path("datasets"));
    assertEquals(fromSlurm.path("command"), here.path("command"));
    assertEquals(fromSlurm.path("environment"), here.path("environment"));
    assertEquals(fromSlurm.path("limits"), here.path("limits"));

    // collect: the two done tasks and the failed one, kept and marked, into sweep/ with a summary.
    Result collected = labenv(env(true), "collect", "--slurm", p.toString());
    assertEquals(1, collected.code(), collected::toString);
    assertTrue(collected.out().contains("task alpha=3: failed (exit 3)") && collected.out().contains("2 of 3 tasks ok"),
        collected::toString);
    JsonNode summary = json(p.resolve("sweep/sweep-receipt.json"));
    assertEquals(List.of("ok", "ok", "failed"), List.of(summary.path("tasks").path(0).path("status").asText(),
        summary.path("tasks").path(1).path("status").asText(), summary.path("tasks").path(2).path("status").asText()));
    JsonNode failed = summary.path("tasks").path(2);
    assertEquals(3, failed.path("exitCode").asInt());
    assertTrue(failed.path("logTail").toString().contains("alpha 3 is not allowed"), failed::toString);
    assertEquals(fromSlurm.path("outputs").path("root").asText(), summary.path("tasks").path(0).path("outputsRoot")
        .asText());
    assertEquals("alpha=2\nid,value\n1,2.5\n2,3.5\nlabenv\n",
        Files.readString(p.resolve("sweep/alpha=2/results/alpha.txt")));
    assertTrue(Files.isRegularFile(p.resolve("sweep/alpha=3/receipt.json")), "the failed task's receipt is kept");
    Result byId = labenv(env(true), "collect", "--slurm", job, p.toString());
    assertEquals(1, byId.code(), byId::toString);
    assertEquals(summary.path("outputsRoot"), json(p.resolve("sweep/sweep-receipt.json")).path("outputsRoot"));
  }

  @Test
  void heldTasksArePendingAndCancelledOnesFailedWithSlurmsWord() throws Exception {
    Path p = project("held", "");
    Result held = slurm.client("sbatch", "--parsable", "--hold", "--array=0-2", "--output=/dev/null", "--wrap", "true");
    assertEquals(0, held.code(), held::toString);
    String job = held.out().strip();
    SlurmJobs.add(p, new SlurmJobs.Job(job, "held", "2026-11-22T00:00:00Z", "sha256:00", "store /x", List.of(),
        "plans.json", List.of(new SlurmJobs.Task(0, "a"), new SlurmJobs.Task(1, "b"), new SlurmJobs.Task(2, "c"))));
    assertEquals(Map.of(0, "PENDING", 1, "PENDING", 2, "PENDING"), new Slurm(env(true)).queue(job));
    Result pending = labenv(env(true), "status", p.toString());
    assertTrue(pending.out().contains("): 3 pending\n"), pending::toString);

    assertEquals(0, slurm.client("scancel", job).code());
    slurm.awaitDone(job, JOB_TIMEOUT);
    Result cancelled = labenv(env(true), "status", "--job", job, p.toString());
    assertTrue(cancelled.out().contains("): 3 failed\n"), cancelled::toString);
    assertTrue(cancelled.out().contains("task 0 (a) failed: Slurm says CANCELLED (its own log: "), cancelled::toString);
  }

  @Test
  void withoutARegistryOrSbatchSubmitSaysSoAndChangesNothing() throws Exception {
    Path p = project("lonely", "");
    Result noRegistry = labenv(env(true), "submit", "--slurm", p.toString());
    assertEquals(2, noRegistry.code(), noRegistry::toString);
    assertTrue(noRegistry.err().startsWith("labenv: no registry configured for lonely: add \"registry: "),
        noRegistry::toString);
    assertEquals(1, noRegistry.err().lines().count(), noRegistry::toString);

    Result noSbatch = labenv(env(false), "submit", "--slurm", "--registry", registry.host() + "/nosbatch",
        p.toString());
    assertEquals(1, noSbatch.code(), noSbatch::toString);
    assertTrue(noSbatch.err().startsWith("labenv: sbatch not found on PATH (" + bin + ":/nonexistent)"),
        noSbatch::toString);
    assertEquals(1, noSbatch.err().lines().count(), noSbatch::toString);
    assertEquals(404, registry.get("/v2/nosbatch/lonely/tags/list").statusCode(), "nothing pushed");
    assertFalse(Files.exists(p.resolve(".labenv/slurm/jobs.json")));

    Result refused = labenv(env(true), "submit", "--slurm", "--partition", "nosuchpartition", "--registry",
        registry.host() + "/refused", p.toString());
    assertEquals(1, refused.code(), refused::toString);
    assertTrue(refused.err().startsWith("labenv: sbatch refused the job (exit 1): sbatch: error: invalid partition "
        + "specified: nosuchpartition;"), refused::toString);
    assertEquals(1, refused.err().lines().count(), refused::toString);
    assertEquals(404, registry.get("/v2/refused/lonely/tags/list").statusCode(), "nothing pushed for a refused job");
    assertFalse(Files.exists(p.resolve(".labenv/slurm/jobs.json")), "no job recorded");
    try (var left = Files.list(p.resolve(".labenv/slurm"))) {
      assertEquals(List.of("plans"), left.map(f -> f.getFileName().toString()).toList(), "no script left behind");
    }

    Result statusNone = labenv(env(true), "status", p.toString());
    assertEquals(2, statusNone.code(), statusNone::toString);
    assertTrue(statusNone.err().startsWith("labenv: no Slurm job was submitted from " + p), statusNone::toString);
  }

  @Test
  void aSharedStoreNeedsNoRegistry() throws Exception {
    Path p = project("shared-store", "");
    Result submitted = labenv(env(true), "submit", "--slurm", "--store-path", submitHome.toString(), p.toString());
    assertEquals(0, submitted.code(), () -> submitted + slurm.logs());
    String job = jobId(submitted);
    slurm.awaitDone(job, JOB_TIMEOUT);
    Result status = labenv(env(true), "status", p.toString());
    assertTrue(status.out().contains(": 1 done"), status::toString);
    Path task = p.resolve(".labenv/slurm").resolve(job).resolve("0");
    assertEquals("alpha=none\nid,value\n1,2.5\n2,3.5\nlabenv\n", Files.readString(task.resolve("results/alpha.txt")));
    assertTrue(Files.readString(p.resolve(".labenv/slurm").resolve(job).resolve("job.sh"))
        .contains("LABENV_HOME=" + submitHome + "\n"));
    // A project without a sweep is collected as labenv run leaves it: its outputs and receipt.json.
    Result collected = labenv(env(true), "collect", "--slurm", p.toString());
    assertEquals(0, collected.code(), collected::toString);
    assertEquals(Files.readString(task.resolve("results/alpha.txt")), Files.readString(p.resolve("results/alpha.txt")));
    assertEquals(json(task.resolve("receipt.json")), json(p.resolve("receipt.json")));

    Result elsewhere = labenv(env(true), "submit", "--slurm", "--store-path", nodeHome.toString(), p.toString());
    assertEquals(2, elsewhere.code(), elsewhere::toString);
    assertTrue(elsewhere.err().contains("is not the store this labenv uses"), elsewhere::toString);
  }
}
