package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The receipt's optional {@code notebook}: absent from other receipts (their bytes unchanged), kept when present. */
class ReceiptNotebookTest {
  @TempDir Path dir;

  private static Receipt plain() {
    List<Receipt.OutputFile> files = List.of(new Receipt.OutputFile("results/a.ipynb", 3, "ab".repeat(32)));
    return new Receipt(Receipt.SCHEMA, new Receipt.Tool("0.1.0"), "p", new Receipt.ImageRef("sha256:" + "0".repeat(64),
        "build ."), List.of(), List.of("python3", "-c", "pass"), "/project", List.of("TZ=UTC"),
        new Receipt.Limits(1, null, null), "none", "labenv", new Receipt.Host("6.1", "amd64", "cpu", 2),
        "2026-11-22T00:00:00Z", "2026-11-22T00:00:01Z", 0, new Receipt.Outputs(List.of("results"),
        OutputHashes.root(files), files));
  }

  @Test
  void aReceiptWithoutANotebookIsWrittenAsBeforeAndReadsBack() throws Exception {
    String json = new String(plain().toJson(), StandardCharsets.UTF_8);
    assertFalse(json.contains("notebook"), json);
    assertTrue(json.endsWith("]}}"), "outputs stay the last key: " + json);
    Receipt read = Receipt.read(Files.write(dir.resolve("receipt.json"), plain().toJson()));
    assertNull(read.notebook());
    assertEquals(plain(), read);
  }

  @Test
  void aNotebookRunIsRecordedWithItsParametersInOrder() throws Exception {
    Receipt.NotebookRun run = new Receipt.NotebookRun("analysis.ipynb", "cd".repeat(32), "python3", "python",
        List.of(new Receipt.Parameter("n", "5"), new Receipt.Parameter("alpha", "0.5")), "results/a.ipynb");
    Receipt r = plain().withNotebook(run);
    String json = new String(r.toJson(), StandardCharsets.UTF_8);
    assertTrue(json.endsWith(",\"notebook\":{\"path\":\"analysis.ipynb\",\"sha256\":\"" + "cd".repeat(32)
        + "\",\"kernel\":\"python3\",\"language\":\"python\",\"parameters\":[{\"name\":\"n\",\"value\":\"5\"},"
        + "{\"name\":\"alpha\",\"value\":\"0.5\"}],\"output\":\"results/a.ipynb\"}}"), json);
    assertEquals(r, Receipt.read(Files.write(dir.resolve("receipt.json"), r.toJson())));
    assertEquals(1, r.schema(), "the same schema: the command alone re-runs it");
  }
}
