package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import labenv.image.Json;
import labenv.project.OutputDiff.Explanation;
import labenv.project.OutputDiff.Kind;
import labenv.project.OutputDiff.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** verify's explanation of an executed notebook that differs, through OutputDiff as verify calls it. */
class NotebookDiffTest {
  @TempDir Path dir;

  /** As nbformat writes an executed notebook (indent 1, sorted keys, sources as lists of lines). */
  static final String EXECUTED = """
      {
       "cells": [
        {
         "cell_type": "code",
         "execution_count": 1,
         "metadata": {"tags": ["parameters"]},
         "outputs": [],
         "source": ["n = 1"]
        },
        {
         "cell_type": "code",
         "execution_count": 2,
         "metadata": {"tags": ["injected-parameters"]},
         "outputs": [],
         "source": ["# Parameters\\n", "n = 5\\n"]
        },
        {
         "cell_type": "code",
         "execution_count": 3,
         "metadata": {},
         "outputs": [
          {"name": "stdout", "output_type": "stream", "text": ["squares\\n", "25\\n"]},
          {"data": {"image/png": "iVBORw0KGgo=", "text/plain": ["0.30000000000000004"]},
           "execution_count": 3, "metadata": {}, "output_type": "execute_result"}
         ],
         "source": ["print('squares')\\n", "print(n * n)\\n", "0.1 + 0.2"]
        },
        {
         "cell_type": "markdown",
         "metadata": {},
         "source": ["# Results"]
        }
       ],
       "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.2"}},
       "nbformat": 4,
       "nbformat_minor": 4
      }
      """;

  private Explanation explain(Consumer<ObjectNode> edit, double tolerance) throws Exception {
    ObjectNode b = (ObjectNode) Json.mapper().readTree(EXECUTED);
    edit.accept(b);
    Path expected = Files.writeString(dir.resolve("a-" + System.nanoTime()), EXECUTED);
    Path actual = Files.write(dir.resolve("b-" + System.nanoTime()), Json.mapper().writeValueAsBytes(b));
    return OutputDiff.explain("results/analysis.ipynb", expected, actual, new Options(tolerance, 5));
  }

  private static ObjectNode cell(ObjectNode nb, int number) {
    return (ObjectNode) nb.get("cells").get(number - 1);
  }

  private static ObjectNode output(ObjectNode nb, int cell, int number) {
    return (ObjectNode) cell(nb, cell).get("outputs").get(number - 1);
  }

  @Test
  void aChangedStreamOutputNamesTheCellTheOutputAndTheLine() throws Exception {
    Explanation e = explain(nb -> ((ArrayNode) output(nb, 3, 1).get("text")).set(1, "26\n"), 0);
    assertEquals(Kind.NOTEBOOK, e.kind());
    assertFalse(e.withinTolerance());
    assertEquals(1, e.changed());
    assertEquals("1 of 4 cells differs (cell 3)", e.lines().get(0), e::toString);
    assertEquals("cell 3 (code): output 1 (stdout) differs: line 2: \"25\" → \"26\"", e.lines().get(1), e::toString);
    assertEquals(2, e.lines().size(), e::toString);
  }

  @Test
  void aResultsTextAndImageAreComparedByMimeType() throws Exception {
    Explanation e = explain(nb -> {
      ObjectNode data = (ObjectNode) output(nb, 3, 2).get("data");
      data.put("text/plain", "0.3");
      data.put("image/png", "iVBORw0KGgoAAAA=");
      data.put("text/html", "<b>0.3</b>");
    }, 0);
    assertTrue(e.lines().contains("cell 3 (code): output 2 text/plain differs: line 1: \"0.30000000000000004\" → "
        + "\"0.3\""), e::toString);
    assertTrue(e.lines().contains("cell 3 (code): output 2 image/png differs: 12 → 16 characters (base64)"),
        e::toString);
    assertTrue(e.lines().contains("cell 3 (code): output 2 text/html added: <b>0.3</b>"), e::toString);
    assertEquals(0.30000000000000004 - 0.3, e.maxAbsDiff(), 1e-30);
  }

  @Test
  void numbersWithinTheToleranceAreReportedAsSuchAndNotAsAMatch() throws Exception {
    Explanation e = explain(nb -> ((ObjectNode) output(nb, 3, 2).get("data")).put("text/plain", "0.3"), 1e-9);
    assertTrue(e.withinTolerance(), e::toString);
    assertEquals(1, e.tolerated());
    assertEquals("1 of 4 cells differ only in numbers within tolerance 1e-9 (largest abs 5.55e-17, rel 1.85e-16); not "
        + "an exact match", e.lines().get(0));
    assertTrue(e.lines().get(1).startsWith("cell 3 (code): output 2 text/plain: only numbers differ, within "
        + "tolerance 1e-9"), e::toString);
    // beyond it, or any other difference beside it: not within tolerance
    assertFalse(explain(nb -> ((ObjectNode) output(nb, 3, 2).get("data")).put("text/plain", "0.4"), 1e-9)
        .withinTolerance());
    assertFalse(explain(nb -> {
      ((ObjectNode) output(nb, 3, 2).get("data")).put("text/plain", "0.3");
      cell(nb, 3).put("execution_count", 4);
    }, 1e-9).withinTolerance());
  }

  @Test
  void executionCountsAddedAndRemovedOutputsAreNamed() throws Exception {
    Explanation e = explain(nb -> {
      cell(nb, 2).put("execution_count", 7);
      ((ArrayNode) cell(nb, 3).get("outputs")).remove(1);
      ((ArrayNode) cell(nb, 1).get("outputs")).addObject().put("output_type", "stream").put("name", "stderr")
          .put("text", "warning: x\n");
    }, 0);
    assertEquals("3 of 4 cells differ (cell 1, cell 2, cell 3)", e.lines().get(0), e::toString);
    assertTrue(e.lines().contains("cell 1 (code): outputs: 0 → 1"), e::toString);
    assertTrue(e.lines().contains("cell 1 (code): output 1 added: stream stderr \"warning: x\\n\""), e::toString);
    assertTrue(e.lines().contains("cell 2 (code): execution_count 2 → 7"), e::toString);
    assertTrue(e.lines().contains("cell 3 (code): output 2 removed: execute_result image/png, text/plain "
        + "\"0.30000000000000004\""), e::toString);
    assertEquals(3, e.changed());
  }

  @Test
  void anErrorInsteadOfAResultNamesTheError() throws Exception {
    Explanation e = explain(nb -> {
      ArrayNode outputs = (ArrayNode) cell(nb, 3).get("outputs");
      outputs.remove(1);
      ObjectNode err = outputs.addObject();
      err.put("output_type", "error").put("ename", "NameError").put("evalue", "name 'n' is not defined");
      err.putArray("traceback").add("\u001b[0;31mNameError\u001b[0m: name 'n' is not defined");
    }, 0);
    assertTrue(e.lines().contains("cell 3 (code): output 2: execute_result image/png, text/plain "
        + "\"0.30000000000000004\" → error NameError: name 'n' is not defined"), e::toString);
  }

  @Test
  void sourcesMetadataCellTypesAndAddedCellsAreNamedToo() throws Exception {
    Explanation e = explain(nb -> {
      ((ArrayNode) cell(nb, 2).get("source")).set(1, "n = 6\n");
      ((ArrayNode) cell(nb, 1).get("metadata").get("tags")).add("slow");
      cell(nb, 4).put("cell_type", "raw");
      ((ObjectNode) nb.get("metadata").get("language_info")).put("version", "3.11.4");
      ((ArrayNode) nb.get("cells")).addObject().put("cell_type", "markdown").put("source", "The end")
          .putObject("metadata");
    }, 0);
    assertEquals("4 of 5 cells differ (cell 1, cell 2, cell 4, cell 5); the notebook's own fields differ too",
        e.lines().get(0), e::toString);
    assertTrue(e.lines().contains("notebook metadata: language_info.version: \"3.11.2\" → \"3.11.4\""), e::toString);
    assertTrue(e.lines().contains("cells: 4 in the original, 5 now (compared by position)"), e::toString);
    assertTrue(e.lines().contains("cell 1 (code): metadata: tags: [\"parameters\"] → [\"parameters\",\"slow\"]"),
        e::toString);
    assertTrue(e.lines().contains("cell 2 (code): source differs: line 2: \"n = 5\" → \"n = 6\""), e::toString);
    assertTrue(e.lines().contains("cell 4 (raw): cell_type markdown → raw"), e::toString);
    assertTrue(e.lines().contains("cell 5 (markdown): added: The end"), e::toString);
  }

  @Test
  void aReformattedNotebookIsTheSameNotebook() throws Exception {
    Explanation e = explain(nb -> { }, 0);
    assertEquals(Kind.NOTEBOOK, e.kind());
    assertEquals("the same notebook: the files differ only in formatting, key order or how values are written",
        e.lines().get(0), e::toString);
    assertEquals(0, e.changed());
  }

  @Test
  void aFileNamedIpynbThatIsNoNotebookIsComparedAsJsonOrText() throws Exception {
    Path a = Files.writeString(dir.resolve("a"), "{\"x\": 1}");
    Path b = Files.writeString(dir.resolve("b"), "{\"x\": 2}");
    Explanation json = OutputDiff.explain("results/x.ipynb", a, b, new Options(0, 5));
    assertEquals(Kind.JSON, json.kind(), json::toString);
    Path c = Files.write(dir.resolve("c"), "not json\n".getBytes(StandardCharsets.UTF_8));
    Path d = Files.write(dir.resolve("d"), "not json either\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(Kind.TEXT, OutputDiff.explain("results/x.ipynb", c, d, new Options(0, 5)).kind());
  }

  @Test
  void manyDifferencesAreCutWithACount() throws Exception {
    Explanation e = explain(nb -> {
      ArrayNode cells = (ArrayNode) nb.get("cells");
      for (int i = 0; i < 100; i++) {
        cells.addObject().put("cell_type", "markdown").put("source", "cell " + i).putObject("metadata");
      }
    }, 0);
    assertEquals(1 + NotebookDiff.MAX_FINDINGS + 1, e.lines().size(), e::toString);
    assertEquals("… 41 more differences", e.lines().get(e.lines().size() - 1));
    assertTrue(e.lines().get(0).startsWith("100 of 104 cells differ (cell 5, cell 6, cell 7, cell 8, cell 9, cell 10, "
        + "cell 11, cell 12, …)"), e.lines().get(0));
  }

  @Test
  void theFirstDifferenceOfTextSaysWhichLineAndHowTheCountChanged() {
    assertEquals("line 2: \"b\" → \"c\"", NotebookDiff.firstDifference("a\nb\n", "a\nc\n"));
    assertEquals("2 lines → 3 lines, first added: \"c\"", NotebookDiff.firstDifference("a\nb", "a\nb\nc"));
    assertEquals("line 2: \"b\" → \"x\" (2 lines → 3 lines)", NotebookDiff.firstDifference("a\nb", "a\nx\nc"));
    assertNull(NotebookDiff.firstDifference("same", "same"));
  }
}
