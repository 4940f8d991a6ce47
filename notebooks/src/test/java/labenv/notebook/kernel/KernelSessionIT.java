package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One kernel session through jupyter_client, the library a notebook server uses (src/test/python/kernel_session.py
 * drives it and prints what the kernel sent): tables as HTML, figures, errors with their cell lines, interrupts of
 * a loop that never checks, output streamed while a cell runs, and a shutdown the kernel obeys.
 */
class KernelSessionIT {
  private static JsonNode session;
  private static String output;

  @BeforeAll
  static void runSession() throws Exception {
    Path dir = Files.createTempDirectory("labenv-kernel-session-it");
    JupyterFixture jupyter = JupyterFixture.install(dir);
    JupyterFixture.Run run = jupyter.python("kernel_session.py");
    output = run.output();
    assertEquals(0, run.exitCode(), output);
    String json = output.strip().substring(output.strip().lastIndexOf('\n') + 1);
    session = new ObjectMapper().readTree(json);
    assertFalse(session.has("failure"), output);
    System.out.println("KernelSessionIT: kernel ready " + session.path("startSeconds") + " s after start, first cell "
        + session.path("firstCellSeconds") + " s");
  }

  private static JsonNode reply(String scenario) {
    return session.path(scenario).path("reply");
  }

  /** The content of the first iopub message of {@code type} in a scenario. */
  private static JsonNode first(String scenario, String type) {
    for (JsonNode message : session.path(scenario).path("iopub")) {
      if (message.path("type").asText().equals(type)) {
        return message.path("content");
      }
    }
    throw new AssertionError("no " + type + " message in " + scenario + ":\n" + output);
  }

  private static List<String> lines(JsonNode array) {
    List<String> lines = new ArrayList<>();
    array.forEach(line -> lines.add(line.asText()));
    return lines;
  }

  @Test
  void kernelInfoSaysJava() {
    JsonNode info = session.path("kernelInfo");
    assertEquals("ok", info.path("status").asText(), output);
    assertEquals(JavaKernel.IMPLEMENTATION, info.path("implementation").asText());
    assertEquals("java", info.path("language_info").path("name").asText());
    assertTrue(info.path("banner").asText().contains("tablesaw 0.44.4"), info.toString());
  }

  @Test
  void aTablesawTableIsAnHtmlTableWithItsTextBeside() {
    JsonNode data = first("table", "execute_result").path("data");
    String html = data.path("text/html").asText();
    assertTrue(html.contains("<table border=\"1\" class=\"dataframe\">"), html);
    assertTrue(html.contains("<th title=\"DOUBLE\">mass</th>"), html);
    assertTrue(html.contains("<td>&lt;Gentoo&gt;</td>"), html);
    assertTrue(html.contains("2 rows \u00d7 2 columns"), html);
    String text = data.path("text/plain").asText();
    assertTrue(text.contains("species") && text.contains("Adelie"), text);
  }

  @Test
  void tableReadCsvWorksInTheKernelsJar() {
    String html = first("csv", "execute_result").path("data").path("text/html").asText();
    assertTrue(html.contains("<td>Chinstrap</td>") && html.contains("3 rows"), html);
  }

  @Test
  void aFigureIsAPlotlyPlot() {
    JsonNode data = first("figure", "execute_result").path("data");
    String html = data.path("text/html").asText();
    assertTrue(html.startsWith("<div id=\"labenv_figure_"), html);
    assertTrue(html.contains("Plotly.newPlot(target_labenv_figure_"), html);
    assertEquals("tablesaw plotly Figure (1 trace)", data.path("text/plain").asText());
  }

  @Test
  void aCompileErrorNamesTheCellLine() {
    JsonNode reply = reply("compileError");
    assertEquals("error", reply.path("status").asText(), output);
    assertEquals(CellError.COMPILE_ERROR, reply.path("ename").asText());
    assertEquals("cell line 3: incompatible types: int cannot be converted to java.lang.String",
        reply.path("evalue").asText());
    assertEquals(List.of(reply.path("evalue").asText(), "    String c = a + b;", "                 ^"),
        lines(first("compileError", "error").path("traceback")));
  }

  @Test
  void anExceptionShowsItsTypeMessageAndCellLine() {
    JsonNode reply = reply("exception");
    assertEquals("java.lang.ArrayIndexOutOfBoundsException", reply.path("ename").asText(), output);
    assertEquals("Index 2 out of bounds for length 2", reply.path("evalue").asText());
    assertEquals(List.of("java.lang.ArrayIndexOutOfBoundsException: Index 2 out of bounds for length 2",
        "    at cell [" + reply.path("execution_count").asInt() + "] line 3"),
        lines(first("exception", "error").path("traceback")));
  }

  @Test
  void anInterruptRequestStopsAnEndlessLoopAndTheKernelGoesOn() {
    assertInterrupted("interruptMessage");
  }

  @Test
  void sigintStopsAnEndlessLoopAndTheKernelGoesOn() {
    assertInterrupted("interruptSignal");
  }

  private static void assertInterrupted(String scenario) {
    assertEquals("looping\n", first(scenario, "stream").path("text").asText(), output);
    assertEquals(CellError.INTERRUPTED, reply(scenario).path("ename").asText(), output);
    JsonNode next = session.path(scenario).path("next");
    assertEquals("ok", next.path("reply").path("status").asText(), output);
    for (JsonNode message : next.path("iopub")) {
      if (message.path("type").asText().equals("execute_result")) {
        assertEquals("2", message.path("content").path("data").path("text/plain").asText());
        return;
      }
    }
    throw new AssertionError("no result after the interrupt:\n" + output);
  }

  @Test
  void outputIsStreamedWhileTheCellRuns() {
    // "first" reached the client while the cell still waited for the client to see it: it was sent before the end.
    JsonNode streamed = session.path("streamed");
    boolean firstBeforeFlag = false;
    for (JsonNode message : streamed.path("beforeFlag")) {
      firstBeforeFlag |= message.path("type").asText().equals("stream")
          && message.path("content").path("text").asText().equals("first");
    }
    assertTrue(firstBeforeFlag, output);
    assertEquals("ok", streamed.path("reply").path("status").asText(), output);
    String all = streamed.toString();
    assertTrue(all.contains("{\"name\":\"stderr\",\"text\":\"warned\"}"), all);
    assertTrue(all.contains("{\"name\":\"stdout\",\"text\":\" then second\\n\"}"), all);
  }

  @Test
  void cellsQueuedBehindAFailedCellAreAborted() {
    JsonNode replies = session.path("stopOnError").path("replies");
    assertEquals(List.of("error", "aborted", "aborted"),
        List.of(replies.path(0).path("status").asText(), replies.path(1).path("status").asText(),
            replies.path(2).path("status").asText()), output);
    assertEquals("ok", session.path("stopOnError").path("next").path("reply").path("status").asText(), output);
  }

  @Test
  void theKernelExitsOnAShutdownRequest() {
    assertEquals(0, session.path("exitCode").asInt(-1), output);
  }
}
