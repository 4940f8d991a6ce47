package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import labenv.LabenvException;
import labenv.image.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotebookTest {
  @TempDir Path dir;

  static final String CODE = "{\"cell_type\":\"code\",\"execution_count\":3,\"metadata\":{},\"outputs\":[{\"output_type\":"
      + "\"stream\",\"name\":\"stdout\",\"text\":\"old\\n\"}],\"source\":[\"print(n)\\n\",\"n\"]}";
  static final String PARAMETERS = "{\"cell_type\":\"code\",\"execution_count\":null,\"metadata\":{\"tags\":"
      + "[\"parameters\"]},\"outputs\":[],\"source\":\"n = 1\"}";
  static final String MARKDOWN = "{\"cell_type\":\"markdown\",\"metadata\":{},\"source\":\"# Title\"}";

  static String notebook(int minor, String metadata, String... cells) {
    return "{\"cells\":[" + String.join(",", cells) + "],\"metadata\":" + metadata + ",\"nbformat\":4,"
        + "\"nbformat_minor\":" + minor + "}";
  }

  static final String PYTHON = "{\"kernelspec\":{\"name\":\"python3\",\"display_name\":\"Python 3\","
      + "\"language\":\"python\"}}";

  private static Notebook parse(String json) {
    return Notebook.parse(json.getBytes(StandardCharsets.UTF_8), "nb.ipynb");
  }

  /** The one-line message a notebook that is not valid gives, checked to be bad input (exit 2). */
  private static String invalid(String json) {
    LabenvException e = assertThrows(LabenvException.class, () -> parse(json));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals(2, e.exitCode());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    assertTrue(e.getMessage().startsWith("nb.ipynb: not a valid notebook: "), e.getMessage());
    return e.getMessage().substring("nb.ipynb: not a valid notebook: ".length());
  }

  @Test
  void aValidNotebookReadsWithItsCellsKernelAndLanguage() {
    Notebook nb = parse(notebook(4, PYTHON, MARKDOWN, PARAMETERS, CODE));
    assertEquals(3, nb.cells());
    assertEquals("python3", nb.kernelName());
    assertEquals("python", nb.language());
    assertEquals(1, nb.tagged(Notebook.PARAMETERS_TAG));
    assertEquals(-1, nb.tagged(Notebook.INJECTED_TAG));
  }

  @Test
  void everyKindOfInvalidNotebookIsNamedOnOneLine() {
    assertTrue(invalid("{\"cells\": [").startsWith("not JSON ("), invalid("{\"cells\": ["));
    assertTrue(invalid("{\"cells\": [").contains("line 1, column"), invalid("{\"cells\": ["));
    assertEquals("not a JSON object", invalid("[1, 2]"));
    assertEquals("no \"nbformat\" (every Jupyter notebook has one)", invalid("{\"cells\":[]}"));
    assertEquals("\"nbformat\" is a string, not a number", invalid("{\"nbformat\":\"4\"}"));
    assertEquals("nbformat 3: labenv runs nbformat 4 notebooks (jupyter nbconvert --to notebook converts older ones)",
        invalid("{\"nbformat\":3,\"nbformat_minor\":0,\"worksheets\":[]}"));
    assertEquals("no \"nbformat_minor\"", invalid("{\"nbformat\":4,\"cells\":[],\"metadata\":{}}"));
    assertEquals("no \"metadata\"", invalid("{\"nbformat\":4,\"nbformat_minor\":4,\"cells\":[]}"));
    assertEquals("\"cells\" is an object, not a list",
        invalid("{\"nbformat\":4,\"nbformat_minor\":4,\"metadata\":{},\"cells\":{}}"));
    assertEquals("cell 2: cell_type \"heading\" is not code, markdown or raw",
        invalid(notebook(4, "{}", MARKDOWN, "{\"cell_type\":\"heading\",\"metadata\":{},\"source\":\"x\"}")));
    assertEquals("cell 1: no \"cell_type\"", invalid(notebook(4, "{}", "{\"metadata\":{},\"source\":\"x\"}")));
    assertEquals("cell 1: is a string, not an object", invalid(notebook(4, "{}", "\"x\"")));
    assertEquals("cell 1 (markdown): \"source\" is a number: a string or a list of strings expected",
        invalid(notebook(4, "{}", MARKDOWN.replace("\"# Title\"", "7"))));
    assertEquals("cell 1 (markdown): \"source\" is a list: a string or a list of strings expected",
        invalid(notebook(4, "{}", MARKDOWN.replace("\"# Title\"", "[\"a\", 1]"))));
    assertEquals("cell 1 (markdown): no \"source\"", invalid(notebook(4, "{}", MARKDOWN.replace(",\"source\":"
        + "\"# Title\"", ""))));
    assertEquals("cell 1 (markdown): no \"metadata\"", invalid(notebook(4, "{}", MARKDOWN.replace("\"metadata\":{},",
        ""))));
    assertEquals("cell 2 (code): no \"outputs\" (an empty list when never run)",
        invalid(notebook(4, "{}", MARKDOWN, CODE.replace("\"outputs\":[{\"output_type\":\"stream\",\"name\":"
            + "\"stdout\",\"text\":\"old\\n\"}],", ""))));
    assertEquals("cell 1 (code): no \"execution_count\" (null when never run)",
        invalid(notebook(4, "{}", CODE.replace("\"execution_count\":3,", ""))));
    assertEquals("cell 1 (code): \"execution_count\" is a string: a number or null expected",
        invalid(notebook(4, "{}", CODE.replace("\"execution_count\":3", "\"execution_count\":\"3\""))));
    assertEquals("cell 1 (code): output 1 is not an output (output_type stream, display_data, execute_result or "
        + "error)", invalid(notebook(4, "{}", CODE.replace("\"stream\"", "\"print\""))));
    // nbformat 4.5: ids, unique
    assertEquals("cell 1 (markdown): no \"id\" (nbformat 4.5 requires one on every cell)",
        invalid(notebook(5, "{}", MARKDOWN)));
    assertEquals("cell 2 (markdown): id \"a\" is used by an earlier cell too",
        invalid(notebook(5, "{}", withId(MARKDOWN, "a"), withId(MARKDOWN, "a"))));
    assertEquals("cell 1 (markdown): id \"a b\" is not 1 to 64 letters, digits, - or _",
        invalid(notebook(5, "{}", withId(MARKDOWN, "a b"))));
  }

  static String withId(String cell, String id) {
    return "{\"id\":\"" + id + "\"," + cell.substring(1);
  }

  @Test
  void aMissingFileIsBadInputToo() {
    LabenvException e = assertThrows(LabenvException.class, () -> Notebook.read(dir.resolve("none.ipynb")));
    assertEquals(2, e.exitCode());
    assertEquals(dir.resolve("none.ipynb") + ": no such notebook", e.getMessage());
  }

  @Test
  void theLanguageComesFromTheKernelspecThenLanguageInfoThenThePythonKernel() {
    assertEquals("java", parse(notebook(4, "{\"kernelspec\":{\"name\":\"jvm\",\"language\":\"Java\"}}")).language());
    assertEquals("java", parse(notebook(4, "{\"language_info\":{\"name\":\"java\"}}")).language());
    assertEquals("python", parse(notebook(4, "{}")).language(), "no kernel: nbclient starts python3");
    assertEquals("python", parse(notebook(4, "{\"kernelspec\":{\"name\":\"python3\"}}")).language());
    assertNull(parse(notebook(4, "{\"kernelspec\":{\"name\":\"ir\"}}")).language());
    assertNull(parse(notebook(4, "{}")).kernelName());
  }

  private static JsonNode json(Notebook nb) throws Exception {
    return Json.mapper().readTree(nb.toAsciiJson());
  }

  @Test
  void outputsAreClearedBeforeARun() throws Exception {
    JsonNode cleared = json(parse(notebook(4, PYTHON, MARKDOWN, CODE)).withoutOutputs());
    JsonNode code = cleared.get("cells").get(1);
    assertEquals(0, code.get("outputs").size());
    assertTrue(code.get("execution_count").isNull());
    assertEquals("[\"print(n)\\n\",\"n\"]", code.get("source").toString(), "sources are kept as they are");
    assertEquals(Json.mapper().readTree(MARKDOWN), cleared.get("cells").get(0));
  }

  @Test
  void theInjectedCellGoesAfterTheParametersCellAsPapermillPutsIt() throws Exception {
    JsonNode nb = json(parse(notebook(4, PYTHON, MARKDOWN, PARAMETERS, CODE)).withInjectedCell("# Parameters\nn = 5\n"));
    assertEquals(4, nb.get("cells").size());
    JsonNode injected = nb.get("cells").get(2);
    assertEquals("code", injected.get("cell_type").asText());
    assertEquals("# Parameters\nn = 5\n", injected.get("source").asText());
    assertEquals("[\"injected-parameters\"]", injected.get("metadata").get("tags").toString());
    assertTrue(injected.get("execution_count").isNull());
    assertEquals(0, injected.get("outputs").size());
    assertNull(injected.get("id"), "nbformat 4.4 cells have no ids");
    assertEquals("n = 1", nb.get("cells").get(1).get("source").asText());
  }

  @Test
  void withoutAParametersCellTheInjectedCellComesFirst() throws Exception {
    Notebook nb = parse(notebook(4, PYTHON, MARKDOWN, CODE));
    JsonNode injected = json(nb.withInjectedCell("x = 1\n"));
    assertEquals("x = 1\n", injected.get("cells").get(0).get("source").asText());
    assertEquals(3, injected.get("cells").size());
  }

  @Test
  void anEarlierInjectedCellIsReplacedNotAddedTo() throws Exception {
    Notebook once = parse(notebook(4, PYTHON, PARAMETERS, CODE)).withInjectedCell("n = 5\n");
    Notebook twice = parse(once.toAsciiJson()).withInjectedCell("n = 6\n");
    JsonNode nb = json(twice);
    assertEquals(3, nb.get("cells").size());
    assertEquals("n = 6\n", nb.get("cells").get(1).get("source").asText());
  }

  @Test
  void inNbformat45TheInjectedCellHasAFixedIdThatNoOtherCellHas() throws Exception {
    Notebook nb = parse(notebook(5, PYTHON, withId(PARAMETERS, "injected-parameters"), withId(CODE, "c")));
    JsonNode injected = json(nb.withInjectedCell("n = 5\n")).get("cells").get(1);
    assertEquals("injected-parameters-2", injected.get("id").asText());
    JsonNode plain = json(parse(notebook(5, PYTHON, withId(PARAMETERS, "p"))).withInjectedCell("n = 5\n"));
    assertEquals("injected-parameters", plain.get("cells").get(1).get("id").asText());
    parse(json(nb.withInjectedCell("n = 5\n")).toString()); // still valid
  }

  @Test
  void theJsonPassedToTheContainerIsAsciiAndReadsBackTheSame() throws Exception {
    String md = MARKDOWN.replace("# Title", "# Pingüinos 🐧");
    Notebook nb = parse(notebook(4, PYTHON, md));
    String ascii = nb.toAsciiJson();
    assertTrue(ascii.chars().allMatch(c -> c < 128), ascii);
    assertEquals("# Pingüinos 🐧", json(nb).get("cells").get(0).get("source").asText());
    Path file = Files.writeString(dir.resolve("n.ipynb"), notebook(4, PYTHON, md));
    assertEquals(ascii, Notebook.read(file).toAsciiJson());
  }
}
