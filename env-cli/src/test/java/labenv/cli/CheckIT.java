package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.image.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code labenv check}: each output that is not deterministic is named with the variations that change it. */
class CheckIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path dir;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("date", "env", "mkdir", "sort", "head", "cut", "tr", "find"));
    home = RunIT.home;
  }

  @Test
  void everyVariationIsCaughtAndAttributed() throws Exception {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    for (String n : List.of("a.csv", "b.csv", "c.csv", "d.csv", "e.csv", "f.csv")) {
      Files.writeString(data.resolve(n), n + "\n");
    }
    assertEquals(0, LifecycleIT.labenvIn(home, "dataset", "add", "parts:1", data.toString()).code());
    Path p = dir.resolve("lint");
    Files.createDirectories(p);
    // One output per thing an analysis should not depend on, and one that is stable.
    Files.writeString(p.resolve("labenv.yaml"), """
        labenv: 1
        image: {ref: "bb:1"}
        datasets:
          parts:1: /data
        command: |
          mkdir -p out
          echo stable > out/stable.txt
          cat /proc/sys/kernel/random/uuid > out/random.txt
          date +%s > out/seconds.txt
          hostname > out/host.txt
          tr '\\0' '\\n' < /proc/$$/environ | head -1 > out/first-env.txt
          echo $OMP_NUM_THREADS > out/threads.txt
          find /data -name '*.csv' > out/listing.txt
          echo x > out/mode.txt; ls -l out/mode.txt | cut -c1-10 > out/modes.txt
          echo $LC_ALL > out/locale.txt
        outputs: [out]
        """);
    RunIT.Proc check = LifecycleIT.labenvIn(home, "check", "--format", "json", p.toString());
    assertEquals(1, check.code(), check::toString);
    JsonNode r = Json.mapper().readTree(check.out());
    assertFalse(r.get("deterministic").asBoolean());
    JsonNode u = r.get("unstable");
    assertFalse(u.has("out/stable.txt"), u::toString);
    assertEquals("[\"none\",\"hostname\",\"environment_order\",\"cpu_count\",\"listing_order\",\"umask\",\"locale\"]",
        u.get("out/random.txt").toString(), "randomness changes every run");
    assertEquals(u.get("out/random.txt"), u.get("out/seconds.txt"), "every run is over a second after the first");
    assertEquals("[\"hostname\"]", u.get("out/host.txt").toString());
    assertEquals("[\"environment_order\"]", u.get("out/first-env.txt").toString());
    assertEquals("[\"cpu_count\"]", u.get("out/threads.txt").toString());
    assertEquals("[\"listing_order\"]", u.get("out/listing.txt").toString());
    assertEquals("[\"umask\"]", u.get("out/modes.txt").toString());
    assertEquals("[\"locale\"]", u.get("out/locale.txt").toString());
    assertFalse(Files.exists(p.resolve("out")), "check writes nothing in the project");
    assertFalse(Files.exists(p.resolve("receipt.json")));

    RunIT.Proc text = LifecycleIT.labenvIn(home, "check", p.toString());
    assertEquals(1, text.code());
    assertTrue(text.out().contains("out/random.txt: differs from run to run"), text.out());
    assertTrue(text.out().contains("out/host.txt: depends on the hostname"), text.out());
  }

  @Test
  void pruneRemovesWhatKilledVerifyAndCheckRunsLeft() throws Exception {
    Path store = dir.resolve("store");
    assertEquals(0, LifecycleIT.labenvIn(store, "images").code());
    for (String left : List.of("check/0123456789ab/baseline/out", "verify/ba9876543210/out")) {
      Files.createDirectories(store.resolve(left));
      Files.writeString(store.resolve(left).resolve("x.txt"), "left behind\n");
    }
    RunIT.Proc prune = LifecycleIT.labenvIn(store, "prune");
    assertEquals(0, prune.code(), prune::toString);
    assertTrue(prune.out().contains("Removed 2 directories of interrupted builds, verify and check runs"), prune.out());
    assertFalse(Files.exists(store.resolve("check/0123456789ab")));
    assertFalse(Files.exists(store.resolve("verify/ba9876543210")));
  }

  @Test
  void aDeterministicProjectPasses() throws Exception {
    Path p = dir.resolve("fine");
    Files.createDirectories(p);
    Files.writeString(p.resolve("labenv.yaml"), """
        labenv: 1
        image: {ref: "bb:1"}
        command: "mkdir -p out && echo 42 > out/answer.txt && date -d @$SOURCE_DATE_EPOCH > out/when.txt"
        outputs: [out]
        """);
    RunIT.Proc check = LifecycleIT.labenvIn(home, "check", p.toString());
    assertEquals(0, check.code(), check::toString);
    assertTrue(check.out().contains("deterministic: all 2 outputs are the same under every variation"), check.out());
    assertTrue(check.out().contains("not varied: the order directories of the datasets list"), check.out());
  }
}
