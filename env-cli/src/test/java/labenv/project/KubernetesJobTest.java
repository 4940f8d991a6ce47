package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import labenv.image.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported Jobs against the Kubernetes OpenAPI schema for batch/v1 (Kubernetes 1.34, as the npm package
 * kubernetes-models 5.1.0 compiles it: src/test/k8s-schema pins it by integrity in package-lock.json; installed into
 * target/k8s-schema by this test with npm ci), plus a strict check that every field is one the schema declares.
 */
class KubernetesJobTest {
  static final Path SCHEMA_SOURCE = Path.of("src/test/k8s-schema");
  static final Path SCHEMA = Path.of("target/k8s-schema");
  static final String DIGEST = "sha256:" + "ab".repeat(32);
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  @TempDir Path tmp;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(onPath("node") && onPath("npm"), "node and npm are not installed: the Kubernetes schema "
        + "check needs them (Debian: nodejs, npm)");
    Files.createDirectories(SCHEMA);
    for (String f : List.of("package.json", "package-lock.json", "validate.mjs")) {
      Files.copy(SCHEMA_SOURCE.resolve(f), SCHEMA.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.isDirectory(SCHEMA.resolve("node_modules/kubernetes-models"))) {
      Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
          .directory(SCHEMA.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "npm ci did not finish");
      assertEquals(0, p.exitValue(), "npm ci of the schema package failed: " + out);
    }
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  /** The validator's complaints about {@code job} (none when it is valid). */
  List<String> validate(JsonNode job) throws IOException, InterruptedException {
    Path file = Files.createTempFile(tmp, "job", ".json");
    Files.write(file, Json.canonical(job));
    Process p = new ProcessBuilder("node", "validate.mjs", file.toAbsolutePath().toString()).directory(SCHEMA.toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    List<String> lines = out.lines().toList();
    assertEquals(lines.isEmpty() ? 0 : 1, p.exitValue(), out);
    return lines;
  }

  /** The YAML as written, read back (so what is checked is the file a user applies). */
  static JsonNode exported(ProjectFile p, List<ProjectRunner.TaskPlan> plans, List<KubernetesJob.Dataset> datasets,
      KubernetesJob.Options o) throws IOException {
    String yaml = KubernetesJob.yaml(KubernetesJob.job(p, Sweep.tasks(p), plans, "localhost:5000/lab/demo@" + DIGEST,
        datasets, o));
    return YAML.readTree(yaml);
  }

  static List<ProjectRunner.TaskPlan> plans(ProjectFile p, List<String> argv) {
    List<ProjectRunner.TaskPlan> out = new ArrayList<>();
    for (SweepTask t : Sweep.tasks(p)) {
      List<String> env = new ArrayList<>(ProjectRunner.hermeticEnvironment(0, 1.5));
      p.env().forEach((k, v) -> env.add(k + "=" + v));
      t.env().forEach((k, v) -> env.add(k + "=" + v));
      List<String> a = new ArrayList<>(argv);
      a.addAll(t.args());
      out.add(new ProjectRunner.TaskPlan(new Receipt.ImageRef(DIGEST, "build ."), List.of(), a, env, "/work",
          p.outputs(), new Receipt.Limits(1.5, 512L << 20, 64L)));
    }
    return out;
  }

  static ProjectFile project(String yaml) {
    return ProjectFile.parse(Path.of("/tmp/demo"), Path.of("/tmp/demo/labenv.yaml"), """
        labenv: 1
        name: Demo Analysis
        image: {build: .}
        outputs: [results, figures]
        env: {GREETING: "it's"}
        """ + yaml);
  }

  static final KubernetesJob.Options INIT = new KubernetesJob.Options("demo", "localhost:5000/labenv:1", null,
      KubernetesJob.DatasetDelivery.INIT, null, null);

  @Test
  void anIndexedJobForASweepIsValid() throws Exception {
    ProjectFile p = project("sweep: {grid: {alpha: [0.1, \"x y\"], seed: [1, 2]}}\n");
    JsonNode job = exported(p, plans(p, List.of("python3", "run.py")), List.of(), INIT);
    assertEquals(List.of(), validate(job));
    JsonNode spec = job.get("spec");
    assertEquals("Indexed", spec.get("completionMode").asText());
    assertEquals(4, spec.get("completions").asInt());
    assertEquals(0, spec.get("backoffLimitPerIndex").asInt(), "a failed task neither stops the others nor retries");
    JsonNode c = spec.get("template").get("spec").get("containers").get(0);
    assertEquals("localhost:5000/lab/demo@" + DIGEST, c.get("image").asText());
    JsonNode cmd = c.get("command");
    assertEquals(List.of("/bin/sh", "-c"), List.of(cmd.get(0).asText(), cmd.get(1).asText()));
    assertEquals(List.of("labenv-task", "python3", "run.py"), List.of(cmd.get(3).asText(), cmd.get(4).asText(),
        cmd.get(5).asText()), "the image's argv, exact, after the wrapper");
    assertTrue(cmd.get(2).asText().contains("1) labenv_plan=" + Collector.planDigest(plans(p, List.of("python3",
        "run.py")).get(1)) + "; export alpha=0.1 seed=2 ;;"), cmd.get(2).asText());
    assertTrue(cmd.get(2).asText().contains("export alpha='x y' seed=1"), cmd.get(2).asText());
    assertEquals("1500m", c.get("resources").get("limits").get("cpu").asText());
    assertEquals(String.valueOf(512L << 20), c.get("resources").get("requests").get("memory").asText());
    assertEquals("$(LABENV_TASK_INDEX)/figures", c.get("volumeMounts").get(1).get("subPathExpr").asText());
    assertEquals("/work/figures", c.get("volumeMounts").get(1).get("mountPath").asText());
    assertTrue(c.get("env").toString().contains("{\"name\":\"GREETING\",\"value\":\"it's\"}"), c.get("env").toString());
    assertFalse(c.get("env").toString().contains("alpha"), "a task's variables come from the wrapper");
    assertEquals("demo", job.get("metadata").get("name").asText());
    assertEquals("64", job.get("metadata").get("annotations").get("labenv.io/pids-limit").asText());
  }

  @Test
  void argsSweepsAndPlainJobsWithAClaimAreValid() throws Exception {
    ProjectFile args = project("sweep: {pass: args, list: [{lr: 1e-3}, {lr: \"it's\"}]}\n");
    JsonNode job = exported(args, plans(args, List.of("run")), List.of(), INIT);
    assertEquals(List.of(), validate(job));
    String script = job.get("spec").get("template").get("spec").get("containers").get(0).get("command").get(2)
        .asText();
    assertTrue(script.contains("1) labenv_plan=") && script.contains("; set -- \"$@\" '--lr=it'\\''s' ;;"), script);

    ProjectFile plain = project("");
    JsonNode single = exported(plain, plans(plain, List.of("run")), List.of(), new KubernetesJob.Options("demo", null,
        "results-claim", KubernetesJob.DatasetDelivery.INIT, "regcred", 3));
    assertEquals(List.of(), validate(single));
    JsonNode spec = single.get("spec");
    assertFalse(spec.has("completionMode"), spec.toString());
    assertEquals(0, spec.get("backoffLimit").asInt());
    assertEquals("results-claim", spec.get("template").get("spec").get("volumes").get(0).get("persistentVolumeClaim")
        .get("claimName").asText());
    assertEquals("0/results", spec.get("template").get("spec").get("containers").get(0).get("volumeMounts").get(0)
        .get("subPath").asText());
    assertEquals("regcred", spec.get("template").get("spec").get("imagePullSecrets").get(0).get("name").asText());
  }

  @Test
  void datasetsFromAnInitContainerOrImageVolumesAreValid() throws Exception {
    ProjectFile p = project("sweep: {grid: {a: [1, 2]}}\n");
    List<KubernetesJob.Dataset> ds = List.of(new KubernetesJob.Dataset("iris:v1", "/data/iris",
        "localhost:5000/lab/iris@" + DIGEST), new KubernetesJob.Dataset("obs", "/data/obs", "localhost:5000/lab/obs@"
        + DIGEST));
    JsonNode init = exported(p, plans(p, List.of("run")), ds, new KubernetesJob.Options("demo",
        "localhost:5000/labenv:1", null, KubernetesJob.DatasetDelivery.INIT, "regcred", null));
    assertEquals(List.of(), validate(init));
    JsonNode pod = init.get("spec").get("template").get("spec");
    JsonNode fetch = pod.get("initContainers").get(0);
    assertEquals("localhost:5000/labenv:1", fetch.get("image").asText());
    assertTrue(fetch.get("command").get(2).asText().contains("labenv dataset pull localhost:5000/lab/obs@" + DIGEST
        + " dataset-1\nlabenv dataset export dataset-1 /labenv-datasets/1\n"), fetch.toString());
    JsonNode mounts = pod.get("containers").get(0).get("volumeMounts");
    JsonNode obs = mounts.get(mounts.size() - 1);
    assertEquals("/data/obs", obs.get("mountPath").asText());
    assertEquals("1", obs.get("subPath").asText());
    assertTrue(obs.get("readOnly").asBoolean(), "datasets are read-only");

    JsonNode image = exported(p, plans(p, List.of("run")), ds, new KubernetesJob.Options("demo", null, null,
        KubernetesJob.DatasetDelivery.IMAGE, null, null));
    assertEquals(List.of(), validate(image));
    JsonNode volumes = image.get("spec").get("template").get("spec").get("volumes");
    assertEquals("localhost:5000/lab/iris@" + DIGEST, volumes.get(1).get("image").get("reference").asText());
    assertFalse(image.get("spec").get("template").get("spec").has("initContainers"));
  }

  @Test
  void theValidatorRejectsWhatTheApiServerWould() throws Exception {
    ProjectFile p = project("sweep: {grid: {a: [1, 2]}}\n");
    JsonNode good = exported(p, plans(p, List.of("run")), List.of(), INIT);
    ObjectNode misspelt = good.deepCopy();
    ((ObjectNode) misspelt.at("/spec/template/spec/containers/0/volumeMounts/0")).set("subPathExp",
        misspelt.at("/spec/template/spec/containers/0/volumeMounts/0").get("subPathExpr"));
    ((ObjectNode) misspelt.at("/spec/template/spec/containers/0/volumeMounts/0")).remove("subPathExpr");
    List<String> e1 = validate(misspelt);
    assertEquals(List.of("strict: /spec/template/spec/containers/0/volumeMounts/0/subPathExp: not a field of "
        + "VolumeMount"), e1);
    ObjectNode badEnum = good.deepCopy();
    ((ObjectNode) badEnum.at("/spec")).put("completionMode", "Parallel");
    ((ObjectNode) badEnum.at("/spec/template/spec/containers/0/resources/limits")).put("cpu", "lots");
    List<String> e2 = validate(badEnum);
    assertTrue(e2.stream().anyMatch(l -> l.contains("/spec/completionMode must be equal to one of the allowed values")),
        e2.toString());
    assertTrue(e2.stream().anyMatch(l -> l.contains("/resources/limits/cpu must match format \"quantity\"")),
        e2.toString());
    ObjectNode noName = good.deepCopy();
    ((ObjectNode) noName.at("/spec/template/spec/containers/0")).remove("name");
    assertTrue(validate(noName).stream().anyMatch(l -> l.contains("must have required property name")));
  }
}
