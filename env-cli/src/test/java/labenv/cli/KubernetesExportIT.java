package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.image.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * export k8s, then the Job's pods played by labenv containers as a kubelet would start them (the Job's command,
 * env, workdir, hostname and volume sub-paths), then collect --from the "volume" and verify here: what ran through the
 * Job's wrapper gives the hashes a local run gives.
 */
class KubernetesExportIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path dir;
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("mkdir"));
    home = RunIT.home;
  }

  static RunIT.Proc labenv(Object... args) throws Exception {
    return LifecycleIT.labenvWith(home, args);
  }

  static final String PROJECT = """
      labenv: 1
      name: k8s-demo
      image: {ref: "bb:1"}
      command: |
        mkdir -p out
        echo "alpha=[$alpha] seed=$seed greeting=[$GREETING] host=$(hostname) threads=$OMP_NUM_THREADS" > out/params.txt
        if [ "$seed" = 2 ] && [ "$alpha" = "x y" ]; then echo "diverged" >&2; exit 4; fi
      workdir: /work
      outputs: [out]
      env: {GREETING: "it's me"}
      resources: {cpus: 2}
      registry: localhost:5000/lab
      sweep:
        grid: {alpha: [0.1, "x y"], seed: [1, 2]}
      """;

  private Path project(String yaml) throws Exception {
    Path p = dir.resolve("analysis");
    Files.createDirectories(p);
    Files.writeString(p.resolve("labenv.yaml"), yaml);
    return p;
  }

  /** Runs completion index {@code index} of the Job's container as a pod would, its volume below {@code volume}. */
  static RunIT.Proc pod(JsonNode job, int index, Path volume) throws Exception {
    JsonNode c = job.at("/spec/template/spec/containers/0");
    List<String> args = new ArrayList<>(List.of("run", "--rm", "--hostname", job.at("/spec/template/spec/hostname")
        .asText(), "-w", c.get("workingDir").asText(), "-e", "JOB_COMPLETION_INDEX=" + index));
    for (JsonNode e : c.get("env")) {
      String value = e.has("value") ? e.get("value").asText() : String.valueOf(index); // the index annotation
      args.addAll(List.of("-e", e.get("name").asText() + "=" + value));
    }
    for (JsonNode m : c.get("volumeMounts")) {
      String sub = (m.has("subPathExpr") ? m.get("subPathExpr") : m.get("subPath")).asText()
          .replace("$(LABENV_TASK_INDEX)", String.valueOf(index));
      Path host = volume.resolve(sub);
      Files.createDirectories(host); // the kubelet makes sub-paths
      args.addAll(List.of("-v", host + ":" + m.get("mountPath").asText()));
    }
    args.add("bb:1");
    c.get("command").forEach(a -> args.add(a.asText()));
    return labenv(args.toArray());
  }

  @Test
  void aJobsTasksCollectedFromItsVolumeGetReceiptsThatVerifyHere() throws Exception {
    Path p = project(PROJECT);
    Path file = dir.resolve("job.yaml");
    RunIT.Proc export = labenv("export", "k8s", p, "-o", file);
    assertEquals(0, export.code(), export::toString);
    assertTrue(export.err().contains("labenv push sha256:"), "says what to push: " + export.err());
    JsonNode job = YAML.readTree(file.toFile());
    assertEquals(4, job.at("/spec/completions").asInt());
    assertTrue(job.at("/spec/template/spec/containers/0/image").asText().startsWith("localhost:5000/lab/k8s-demo@sha256:"));

    Path volume = dir.resolve("volume");
    for (int i = 0; i < 4; i++) {
      RunIT.Proc pod = pod(job, i, volume);
      assertEquals(i == 3 ? 4 : 0, pod.code(), pod::toString);
    }
    assertEquals("alpha=[x y] seed=1 greeting=[it's me] host=labenv threads=2\n",
        Files.readString(volume.resolve("2/out/params.txt")), "the wrapper picked task 2's variables");
    JsonNode status = Json.mapper().readTree(volume.resolve("3/labenv-status.json").toFile());
    assertEquals(4, status.get("exitCode").asInt());

    RunIT.Proc collect = labenv("collect", "--from", volume, p);
    assertEquals(1, collect.code(), "one task failed: " + collect);
    assertTrue(collect.out().contains("task alpha=x_y,seed=2: failed (exit 4)"), collect.out());
    assertTrue(collect.out().contains("3 of 4 tasks ok"), collect.out());
    Path sweep = p.resolve("sweep");
    JsonNode summary = Json.mapper().readTree(sweep.resolve("sweep-receipt.json").toFile());
    assertEquals("ok", summary.at("/tasks/0/status").asText());
    assertEquals("failed", summary.at("/tasks/3/status").asText());
    JsonNode r = Json.mapper().readTree(sweep.resolve("alpha=0.1,seed=2/receipt.json").toFile());
    assertEquals("cluster", r.get("network").asText());
    assertEquals(job.at("/metadata/annotations/labenv.io~1image").asText(), r.at("/image/digest").asText());
    assertTrue(Files.exists(sweep.resolve("alpha=x_y,seed=2/out/params.txt")), "the failed task's outputs are kept");

    // Here, from the receipts alone: the same outputs (and the same failure) as the Job's run.
    RunIT.Proc verify = labenv("verify", sweep.resolve("sweep-receipt.json"));
    assertEquals(0, verify.code(), verify::toString);
    assertTrue(verify.out().contains("verified: every task of the sweep matches its receipt (4 tasks"), verify.out());

    // And run --sweep here gives the same outputs root as the Job.
    RunIT.Proc local = labenv("run", "--sweep", p);
    assertEquals(1, local.code(), local::toString);
    assertEquals(summary.get("outputsRoot").asText(), Json.mapper().readTree(sweep.resolve("sweep-receipt.json")
        .toFile()).get("outputsRoot").asText());

    // A project changed since the export: its tasks are not what the Job ran.
    Files.writeString(p.resolve("labenv.yaml"), PROJECT.replace("threads=", "t="));
    RunIT.Proc changed = labenv("collect", "--from", volume, p);
    assertEquals(1, changed.code(), changed::toString);
    assertTrue(changed.out().contains("task alpha=0.1,seed=1: damaged"), changed.out());
    assertTrue(changed.err().contains("ran from plan sha256:"), changed.err());
  }

  @Test
  void aPlainJobCollectsIntoTheProjectAsRunWould() throws Exception {
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: ["sh", "-c", "mkdir -p out; echo one > out/a.txt"]
        workdir: /work
        outputs: [out]
        """);
    RunIT.Proc none = labenv("export", "k8s", p);
    assertEquals(2, none.code(), none::toString);
    assertTrue(none.err().contains("no registry configured for analysis: add \"registry: HOST/NAMESPACE\""),
        none.err());
    RunIT.Proc export = labenv("export", "k8s", "--registry", "localhost:5000/lab", p);
    assertEquals(0, export.code(), export::toString);
    JsonNode job = YAML.readTree(export.out());
    assertTrue(job.at("/spec/completionMode").isMissingNode());
    Path volume = dir.resolve("volume");
    assertEquals(0, pod(job, 0, volume).code());
    RunIT.Proc collect = labenv("collect", "--from", volume, p);
    assertEquals(0, collect.code(), collect::toString);
    assertEquals("one\n", Files.readString(p.resolve("out/a.txt")));
    assertEquals(0, labenv("verify", p).code());
  }

  @Test
  void datasetsAsImageVolumesAreOneLayerImagesOfTheirFiles() throws Exception {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("obs.csv"), "id,value\n1,2\n");
    assertEquals(0, labenv("dataset", "add", "obs:v1", data).code());
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: "true"
        outputs: [out]
        datasets: {obs:v1: /data/obs}
        registry: localhost:5000/lab
        """);
    RunIT.Proc noLabenv = labenv("export", "k8s", p);
    assertEquals(2, noLabenv.code(), noLabenv::toString);
    assertTrue(noLabenv.err().contains("give --labenv-image REF"), noLabenv.err());
    RunIT.Proc export = labenv("export", "k8s", "--dataset-volumes", "image", p);
    assertEquals(0, export.code(), export::toString);
    JsonNode job = YAML.readTree(export.out());
    String ref = job.at("/spec/template/spec/volumes/1/image/reference").asText();
    assertTrue(ref.startsWith("localhost:5000/lab/obs@sha256:"), ref);
    // The image is in the store: its one layer holds the dataset's file.
    Path unpacked = dir.resolve("unpacked");
    RunIT.Proc unpack = labenv("unpack", ref.substring(ref.indexOf('@') + 1), unpacked);
    assertEquals(0, unpack.code(), unpack::toString);
    assertEquals("id,value\n1,2\n", Files.readString(unpacked.resolve("obs.csv")));
    RunIT.Proc again = labenv("export", "k8s", "--dataset-volumes", "image", p);
    assertEquals(export.out(), again.out(), "the same dataset gives the same image");
  }

  @Test
  void pushPutsTheImageAndDatasetsWhereTheJobPullsThemByDigest() throws Exception {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("obs.csv"), "id,value\n1,2\n");
    assertEquals(0, labenv("dataset", "add", "obs:v2", data).code());
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: "true"
        outputs: [out]
        datasets: {obs:v2: /data/obs}
        """);
    try (RegistryFixture registry = RegistryFixture.anonymous()) {
      RunIT.Proc export = labenv("export", "k8s", "--push", "--registry", registry.host() + "/lab", "--labenv-image",
          registry.host() + "/labenv:1", p);
      assertEquals(0, export.code(), export::toString);
      assertTrue(export.err().contains("pushed image " + registry.host() + "/lab/analysis:sha256-"), export.err());
      JsonNode job = YAML.readTree(export.out());
      String image = job.at("/spec/template/spec/containers/0/image").asText();
      String script = job.at("/spec/template/spec/initContainers/0/command/2").asText();
      String dataset = script.substring(script.indexOf("pull ") + 5, script.indexOf(" dataset-0"));
      // Someone else, with an empty store, gets both by the Job's references.
      Path other = dir.resolve("colleague");
      RunIT.Proc pull = LifecycleIT.labenvIn(other, "pull", image);
      assertEquals(0, pull.code(), pull::toString);
      RunIT.Proc ds = LifecycleIT.labenvIn(other, "dataset", "pull", dataset, "obs");
      assertEquals(0, ds.code(), ds::toString);
      Path exported = dir.resolve("exported");
      assertEquals(0, LifecycleIT.labenvIn(other, "dataset", "export", "obs", exported.toString()).code());
      assertEquals("id,value\n1,2\n", Files.readString(exported.resolve("obs.csv")));
    }
  }
}
