package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dataset show}'s table summaries and {@code dataset diff} over stored versions, end to end. */
class DatasetTablesIT {
  @TempDir Path home;
  @TempDir Path v1;
  @TempDir Path v2;

  RunIT.Proc labenv(String... args) throws Exception {
    return LifecycleIT.labenvIn(home, args);
  }

  @Test
  void showSummarisesTablesAndDiffExplainsWhatChanged() throws Exception {
    Files.writeString(v1.resolve("scores.csv"), "id,name,score\n1,ada,90\n2,bob,75\n3,cy,\n");
    Files.writeString(v1.resolve("README"), "v1\n");
    Files.writeString(v2.resolve("scores.csv"), "id,name,score,grade\n1,ada,90,A\n2,bob,80.5,B\n3,cy,,C\n4,dee,60,D\n");
    Files.writeString(v2.resolve("NOTES"), "new\n");
    assertEquals(0, labenv("dataset", "add", "grades:v1", v1.toString()).code());
    assertEquals(0, labenv("dataset", "add", "grades:v2", v2.toString()).code());

    RunIT.Proc show = labenv("dataset", "show", "grades:v1");
    assertEquals(0, show.code(), show::toString);
    assertTrue(show.out().contains("scores.csv: csv, 3 rows, 3 columns"), show::toString);
    JsonNode json = new ObjectMapper().readTree(labenv("dataset", "show", "--format", "json", "grades:v1").out());
    JsonNode score = null;
    for (JsonNode c : json.path("tables").path("scores.csv").path("columns")) {
      if (c.path("name").asText().equals("score")) {
        score = c;
      }
    }
    assertTrue(score != null, json::toString);
    assertEquals(1, score.path("nulls").asLong(), json::toString);
    assertEquals(75.0, score.path("min").asDouble(), json::toString);
    assertEquals(90.0, score.path("max").asDouble(), json::toString);
    assertEquals(82.5, score.path("mean").asDouble(), json::toString);
    // A second show reads the summary kept by the file's digest (the first assembled the version's tree to read
    // the table, as a mount would: the disk line now says so).
    RunIT.Proc again = labenv("dataset", "show", "grades:v1");
    String tables = show.out().substring(show.out().indexOf("scores.csv: csv"));
    assertEquals(tables, again.out().substring(again.out().indexOf("scores.csv: csv")));
    assertTrue(again.out().contains("in its assembled tree"), again::toString);

    RunIT.Proc diff = labenv("dataset", "diff", "grades:v1", "grades:v2");
    assertEquals(0, diff.code(), diff::toString);
    String out = diff.out();
    assertTrue(out.contains("files: 1 added, 1 removed, 1 changed"), out);
    assertTrue(out.contains("+ NOTES") && out.contains("- README") && out.contains("~ scores.csv"), out);
    assertTrue(out.contains("1 added, 0 removed, 1 changed (rows matched by id)"), out);
    assertTrue(out.contains("+grade"), out);
    assertTrue(out.contains("score integer → double") || out.contains("retyped: score"), out);
    assertTrue(out.contains("changed id=2"), out);
  }

  @Test
  void unknownVersionsAreOneLine() throws Exception {
    RunIT.Proc p = labenv("dataset", "diff", "nope:1", "nope:2");
    assertEquals(1, p.code(), p::toString);
    assertEquals(1, p.err().strip().lines().count(), p::toString);
  }

  /** A store that fills up mid-add: one line saying how much was needed, no name, and fsck finds nothing wrong. */
  @Test
  void outOfDiskMidAddNamesNothingAndSaysHowMuchWasNeeded(@TempDir Path mnt) throws Exception {
    assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.toString()).start()
        .waitFor());
    try {
      Path store = mnt.resolve("store");
      byte[] random = new byte[20_000_000];
      new java.util.Random(7).nextBytes(random);
      Files.write(v1.resolve("big.bin"), random);
      RunIT.Proc p = LifecycleIT.labenvIn(store, "dataset", "add", "big:1", v1.toString());
      assertEquals(1, p.code(), p::toString);
      assertEquals(1, p.err().strip().lines().count(), p::toString);
      assertTrue(p.err().contains("out of disk space") && p.err().contains("20000000 bytes"), p::toString);
      RunIT.Proc ls = LifecycleIT.labenvIn(store, "dataset", "ls", "--format", "json");
      assertEquals("[ ]", ls.out().strip(), ls::toString);
      RunIT.Proc fsck = LifecycleIT.labenvIn(store, "fsck");
      assertEquals(0, fsck.code(), fsck::toString);
      RunIT.Proc prune = LifecycleIT.labenvIn(store, "prune");
      assertEquals(0, prune.code(), prune::toString);
    } finally {
      new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
    }
  }
}
