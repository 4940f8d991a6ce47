package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import labenv.image.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Projects (labenv.yaml): a hermetic run that writes receipt.json, and verify from the receipt alone. */
class ProjectIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path dir;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("sha256sum", "date", "env", "sort", "mkdir", "rm", "true", "false", "wc"));
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

  private static JsonNode receipt(Path project) throws Exception {
    return Json.mapper().readTree(Files.readAllBytes(project.resolve("receipt.json")));
  }

  private static String sha256(Path f) throws Exception {
    return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
  }

  @Test
  void aProjectRunsHermeticallyWritesAReceiptAndVerifies() throws Exception {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("obs.csv"), "id,value\n1,2.5\n2,3.5\n");
    assertEquals(0, labenv("dataset", "add", "obs:v1", data).code());
    Path p = project("""
        labenv: 1
        name: env-report
        image:
          ref: bb:1
        datasets:
          obs:v1: /data/obs
        command: |
          mkdir -p results/sub
          env | grep -E '^(TZ|LANG|LC_ALL|SOURCE_DATE_EPOCH|PYTHONHASHSEED|OMP_NUM_THREADS|OPENBLAS_NUM_THREADS|GREETING)=' | sort > results/env.txt
          hostname > results/sub/host.txt
          cat /data/obs/obs.csv > results/copy.csv
          echo tamper >> /data/obs/obs.csv && echo WROTE > results/tamper.txt
          wget -q -T 2 http://127.0.0.1:9/ 2>/dev/null; ls /sys/class/net > results/net.txt
        workdir: /work
        outputs: [results]
        env:
          GREETING: hello
        resources:
          cpus: 2
        """);
    RunIT.Proc run = labenv("run", p);
    assertEquals(0, run.code(), run::toString);
    assertTrue(run.out().contains("receipt: " + p.resolve("receipt.json")), run.out());

    assertEquals("""
        GREETING=hello
        LANG=C.UTF-8
        LC_ALL=C.UTF-8
        OMP_NUM_THREADS=2
        OPENBLAS_NUM_THREADS=2
        PYTHONHASHSEED=0
        SOURCE_DATE_EPOCH=0
        TZ=UTC
        """, Files.readString(p.resolve("results/env.txt")));
    assertEquals("labenv\n", Files.readString(p.resolve("results/sub/host.txt")));
    assertEquals("id,value\n1,2.5\n2,3.5\n", Files.readString(p.resolve("results/copy.csv")));
    assertFalse(Files.exists(p.resolve("results/tamper.txt")), "the dataset is read-only");
    assertEquals("lo\n", Files.readString(p.resolve("results/net.txt")), "no network but loopback");

    JsonNode r = receipt(p);
    assertEquals(1, r.get("schema").asInt());
    assertEquals("env-report", r.get("project").asText());
    assertTrue(r.get("image").get("digest").asText().startsWith("sha256:"));
    assertEquals(labenv("dataset", "ls", "--format", "json").out().contains(r.get("datasets").get(0).get("digest")
        .asText().substring(7, 19)), true);
    assertEquals("/data/obs", r.get("datasets").get(0).get("path").asText());
    assertEquals("labenv", r.get("hostname").asText());
    assertEquals("none", r.get("network").asText());
    assertEquals(2.0, r.get("limits").get("cpus").asDouble());
    assertEquals(0, r.get("exitCode").asInt());
    assertTrue(r.get("host").get("cores").asInt() > 0);
    List<String> paths = new ArrayList<>();
    for (JsonNode f : r.get("outputs").get("files")) {
      paths.add(f.get("path").asText());
      assertEquals(sha256(p.resolve(f.get("path").asText())), f.get("sha256").asText(), f::toString);
      assertEquals(Files.size(p.resolve(f.get("path").asText())), f.get("size").asLong());
    }
    assertEquals(List.of("results/copy.csv", "results/env.txt", "results/net.txt", "results/sub/host.txt"), paths);
    // canonical: reading and writing it again gives the same bytes
    byte[] bytes = Files.readAllBytes(p.resolve("receipt.json"));
    assertEquals(new String(bytes), new String(Json.canonical(Json.mapper().readValue(bytes,
        labenv.project.Receipt.class))));

    RunIT.Proc verify = labenv("verify", p.resolve("receipt.json"));
    assertEquals(0, verify.code(), verify::toString);
    assertTrue(verify.out().contains("verified: every output matches (4 files"), verify.out());

    // Anyone else: the image and the dataset travel in one archive; a fresh store verifies from the receipt alone.
    Path archive = dir.resolve("share.tar");
    RunIT.Proc save = labenv("save", "-o", archive, r.get("image").get("digest").asText(), "--dataset", "obs:v1");
    assertEquals(0, save.code(), save::toString);
    Path other = dir.resolve("colleague");
    RunIT.Proc missing = LifecycleIT.labenvIn(other, "verify", p.resolve("receipt.json").toString());
    assertEquals(1, missing.code(), missing::toString);
    assertTrue(missing.err().contains("is not in the store: get it with labenv load"), missing.err());
    assertEquals(0, LifecycleIT.labenvIn(other, "load", "-i", archive.toString()).code());
    RunIT.Proc elsewhere = LifecycleIT.labenvIn(other, "verify", p.resolve("receipt.json").toString());
    assertEquals(0, elsewhere.code(), elsewhere::toString);

    // A dataset the store no longer has is named, with how to get it back.
    assertEquals(0, labenv("dataset", "rm", r.get("datasets").get(0).get("digest").asText()).code());
    assertEquals(0, labenv("prune").code());
    RunIT.Proc noData = labenv("verify", p.resolve("receipt.json"));
    assertEquals(1, noData.code(), noData::toString);
    assertTrue(noData.err().contains("dataset obs:v1 (sha256:") && noData.err().contains("is not in the store"),
        noData.err());
  }

  @Test
  void verifyExplainsAnOutputThatDiffers() throws Exception {
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: ["sh", "-c", "mkdir -p out; echo stable > out/a.txt; cat /proc/sys/kernel/random/uuid > out/random.txt"]
        outputs: [out]
        """);
    assertEquals(0, labenv("run", p).code());
    RunIT.Proc verify = labenv("verify", p);
    assertEquals(1, verify.code(), verify::toString);
    assertTrue(verify.out().contains("out/random.txt: differs"), verify.out());
    assertFalse(verify.out().contains("out/a.txt"), verify.out());
    assertTrue(verify.out().contains("not verified: 1 output differ"), verify.out());
    RunIT.Proc json = labenv("verify", "--format", "json", p.resolve("receipt.json"));
    assertEquals(1, json.code(), json::toString);
    assertEquals("differs", Json.mapper().readTree(json.out()).get("result").asText());
  }

  @Test
  void verifyExplainsNumericNoiseAndAcceptsItOnlyWithATolerance() throws Exception {
    // The second column's last row is the clock in 1e-10 units: a rerun a second later differs by ~1e-10.
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: "mkdir -p out; printf 'id,value\\n1,2.5\\n2,0.%010d\\n' $(date +%s) > out/table.csv"
        outputs: [out]
        """);
    assertEquals(0, labenv("run", p).code());
    Thread.sleep(1100);
    RunIT.Proc exact = labenv("verify", p);
    assertEquals(1, exact.code(), exact::toString);
    assertTrue(exact.out().contains("out/table.csv: differs"), exact.out());
    assertTrue(exact.out().contains("largest numeric difference: abs "), exact.out());
    RunIT.Proc tolerant = labenv("verify", "--tolerance", "1e-6", p);
    assertEquals(0, tolerant.code(), tolerant::toString);
    assertTrue(tolerant.out().contains("out/table.csv: within-tolerance"), tolerant.out());
    assertTrue(tolerant.out().contains("verified within tolerance 1.0E-6: the outputs are NOT identical"), tolerant.out());
  }

  @Test
  void aFailedCommandLeavesTheOutputsAndReceiptAsTheyWere() throws Exception {
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: "mkdir -p out; echo $RUN > out/a.txt; test $RUN = 1"
        outputs: [out]
        env: {RUN: 1}
        """);
    assertEquals(0, labenv("run", p).code());
    String receipt = Files.readString(p.resolve("receipt.json"));
    Files.writeString(p.resolve("labenv.yaml"), Files.readString(p.resolve("labenv.yaml")).replace("RUN: 1", "RUN: 2"));
    RunIT.Proc failed = labenv("run", p);
    assertEquals(1, failed.code(), failed::toString);
    assertTrue(failed.err().contains("outputs are unchanged"), failed.err());
    assertEquals("1\n", Files.readString(p.resolve("out/a.txt")));
    assertEquals(receipt, Files.readString(p.resolve("receipt.json")));
    assertEquals("2\n", Files.readString(p.resolve(".labenv/failed/out/a.txt")));
  }

  @Test
  void aBuiltImageIsCachedAndLeavesOutputsOutOfItsContext() throws Exception {
    Path p = project("""
        labenv: 1
        image:
          build: .
        command: [sh, /project/analysis.sh]
        workdir: /project
        outputs: [results]
        """);
    Files.writeString(p.resolve("Envfile"), "FROM bb:1\nCOPY . /project\n");
    Files.writeString(p.resolve("analysis.sh"), "mkdir -p results; ls /project > results/listing.txt\n");
    RunIT.Proc first = labenv("run", p);
    assertEquals(0, first.code(), first::toString);
    String digest = receipt(p).get("image").get("digest").asText();
    // what the run wrote (results, receipt.json, .labenv) is not in the image: the second build is the same image
    RunIT.Proc second = labenv("run", p);
    assertEquals(0, second.code(), second::toString);
    assertEquals(digest, receipt(p).get("image").get("digest").asText());
    assertTrue(second.err().contains("cached"), second.err());
    assertEquals("Envfile\nanalysis.sh\nlabenv.yaml\nresults\n", Files.readString(p.resolve("results/listing.txt")));
    assertTrue(labenv("images").out().contains("analysis"), "named after the project");
  }

  @Test
  void aMissingBaseThatLabenvCanMakeIsMadeOnFirstRun() throws Exception {
    Path store = dir.resolve("fresh-store");
    Path p = project("""
        labenv: 1
        image: {build: .}
        command: "mkdir -p out && busybox | head -1 > out/banner.txt"
        outputs: [out]
        """);
    Files.writeString(p.resolve("Envfile"), "FROM busybox AS base\nFROM base\n");
    RunIT.Proc run = LifecycleIT.labenvIn(store, "run", p.toString());
    assertEquals(0, run.code(), run::toString);
    assertTrue(run.err().contains("busybox (FROM in Envfile) is not in the store: making it now"), run.err());
    assertTrue(Files.readString(p.resolve("out/banner.txt")).startsWith("BusyBox"));
    RunIT.Proc again = LifecycleIT.labenvIn(store, "run", p.toString());
    assertEquals(0, again.code(), again::toString);
    assertFalse(again.err().contains("making it now"), again.err());
  }

  @Test
  void twoRunsAtOnceLeaveOneRunsOutputsAndItsReceipt() throws Exception {
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: "mkdir -p out; id=$(cat /proc/sys/kernel/random/uuid); echo $id > out/a.txt; sleep 1; echo $id > out/b.txt"
        outputs: [out]
        """);
    List<String> cmd = List.of("java", "-jar", RunIT.JAR.toString(), "run", p.toString());
    List<Process> runs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("LABENV_HOME", home.toString());
      runs.add(pb.start());
    }
    for (Process r : runs) {
      assertTrue(r.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, r.exitValue());
    }
    assertEquals(Files.readString(p.resolve("out/a.txt")), Files.readString(p.resolve("out/b.txt")));
    for (JsonNode f : receipt(p).get("outputs").get("files")) {
      assertEquals(sha256(p.resolve(f.get("path").asText())), f.get("sha256").asText(), "the receipt is the last run's");
    }
  }

  @Test
  void runWithoutArgumentsRunsTheProjectHere() throws Exception {
    Path p = project("""
        labenv: 1
        image: {ref: "bb:1"}
        command: "mkdir -p out && echo here > out/x"
        outputs: [out]
        """);
    List<String> cmd = List.of("java", "-jar", RunIT.JAR.toString(), "run");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(p.toFile()).redirectErrorStream(true);
    pb.environment().put("LABENV_HOME", home.toString());
    Process proc = pb.start();
    String out = new String(proc.getInputStream().readAllBytes());
    assertTrue(proc.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, proc.exitValue(), out);
    assertEquals("here\n", Files.readString(p.resolve("out/x")));
  }

  @Test
  void badProjectFilesAndReceiptsAreOneLineErrors() throws Exception {
    record Case(String yaml, String message) {}
    List<Case> cases = List.of(
        new Case("labenv: 1\nimage: {ref: bb:1}\noutputs: [out]\ncolour: red\n", "labenv.yaml:4: colour: unknown key"),
        new Case("labenv: 1\nimage: {ref: bb:1}\noutputs: [../elsewhere]\n",
            "labenv.yaml:3: outputs.0: \"../elsewhere\" is outside the project folder"),
        new Case("labenv: 1\nimage: {ref: bb:1}\noutputs: [out]\nresources:\n  cpus: many\n",
            "labenv.yaml:5: resources.cpus: expected a positive number of CPUs, got the string \"many\""),
        new Case("labenv: 1\noutputs: [out]\n", "missing \"image\""),
        new Case("labenv: 2\nimage: {ref: bb:1}\noutputs: [out]\n", "labenv.yaml:1: labenv: schema 2 is not one"),
        new Case("labenv: 1\nimage: {ref: bb:1, build: .}\noutputs: [out]\n", "labenv.yaml:2: image: give exactly one"),
        new Case("labenv: 1\nimage: [oops\n", "not valid YAML"));
    for (Case c : cases) {
      Path p = project(c.yaml());
      RunIT.Proc run = labenv("run", p);
      assertEquals(2, run.code(), c.yaml() + run);
      assertEquals(1, run.err().lines().count(), run.err());
      assertTrue(run.err().contains(c.message()), c.message() + " in " + run.err());
    }
    Path empty = dir.resolve("empty");
    Files.createDirectories(empty);
    RunIT.Proc none = labenv("run", empty);
    assertEquals(2, none.code(), none::toString);
    assertTrue(none.err().contains("labenv.yaml: no such file"), none.err());

    Path p = project("labenv: 1\nimage: {ref: bb:1}\ncommand: \"mkdir -p out; echo 1 > out/a\"\noutputs: [out]\n");
    assertEquals(0, labenv("run", p).code());
    Path receipt = p.resolve("receipt.json");
    String good = Files.readString(receipt);
    Files.writeString(receipt, good.substring(0, good.length() / 2));
    RunIT.Proc damaged = labenv("verify", receipt);
    assertEquals(2, damaged.code(), damaged::toString);
    assertTrue(damaged.err().contains("not a receipt (damaged JSON"), damaged.err());
    Files.writeString(receipt, good.replace("\"schema\":1", "\"schema\":7"));
    RunIT.Proc newer = labenv("verify", receipt);
    assertEquals(2, newer.code(), newer::toString);
    assertTrue(newer.err().contains("receipt schema 7 comes from a newer labenv"), newer.err());
    Files.writeString(receipt, good.replaceAll("\"sha256\":\"[0-9a-f]{64}\"", "\"sha256\":\"" + "0".repeat(64) + "\""));
    RunIT.Proc tampered = labenv("verify", receipt);
    assertEquals(2, tampered.code(), tampered::toString);
    assertTrue(tampered.err().contains("is not the digest of its file list"), tampered.err());
    String digest = Json.mapper().readTree(good).get("image").get("digest").asText();
    Files.writeString(receipt, good.replace(digest, "sha256:" + "ab".repeat(32)));
    RunIT.Proc missing = labenv("verify", receipt);
    assertEquals(1, missing.code(), missing::toString);
    assertTrue(missing.err().contains("is not in the store: get it with labenv load"), missing.err());
    assertNotEquals(good, Files.readString(receipt));
  }
}
