package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import labenv.image.Json;
import labenv.project.OutputHashes;
import labenv.project.Receipt;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv notebook run} as a user runs it (the packaged CLI): bad input refused before anything is built; and,
 * tagged slow, notebooks executed by Debian's Jupyter (python3-nbclient, python3-ipykernel) in a project's
 * container on a real Debian image, with their receipts verified.
 */
class NotebookRunIT {
  @TempDir Path tmp;

  static RunIT.Proc labenv(Path home, Object... args) throws Exception {
    return LockIT.labenv(home, Arrays.stream(args).map(Object::toString).toArray(String[]::new));
  }

  // Notebooks as Jupyter writes them (nbformat 4.4: no cell ids).

  static String code(String source, String... tags) {
    return "{\"cell_type\":\"code\",\"execution_count\":null,\"metadata\":{" + (tags.length == 0 ? "" : "\"tags\":"
        + Json.mapper().valueToTree(List.of(tags))) + "},\"outputs\":[],\"source\":" + Json.mapper().valueToTree(
        source) + "}";
  }

  static String markdown(String source) {
    return "{\"cell_type\":\"markdown\",\"metadata\":{},\"source\":" + Json.mapper().valueToTree(source) + "}";
  }

  static String notebook(String... cells) {
    return "{\"cells\":[" + String.join(",", cells) + "],\"metadata\":{\"kernelspec\":{\"display_name\":\"Python 3\","
        + "\"language\":\"python\",\"name\":\"python3\"}},\"nbformat\":4,\"nbformat_minor\":4}";
  }

  static final String SQUARES = notebook(markdown("# Squares"), code("n = 1\nlabel = 'default'", "parameters"),
      code("print(label, flush=True)\nimport time\ntime.sleep(0.3)\nprint(n * n)"), code("n + 0.5"));

  /** A project whose image is {@code from} (plus {@code run}), with results/ as its output and {@code notebooks}. */
  private Path project(String name, String from, String run, String... notebooks) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.writeString(dir.resolve("Envfile"), "FROM " + from + "\n" + (run == null ? "" : "RUN " + run + "\n")
        + "WORKDIR /project\n");
    Files.writeString(dir.resolve("labenv.yaml"), "labenv: 1\nname: " + name + "\nimage:\n  build: .\n"
        + "command: [python3, -c, pass]\nworkdir: /project\noutputs: [results]\n");
    for (int i = 0; i < notebooks.length; i += 2) {
      Files.writeString(dir.resolve(notebooks[i]), notebooks[i + 1]);
    }
    return dir;
  }

  private static JsonNode json(Path file) throws Exception {
    return Json.mapper().readTree(Files.readAllBytes(file));
  }

  private static String text(JsonNode source) {
    if (source.isTextual()) {
      return source.asText();
    }
    StringBuilder sb = new StringBuilder();
    source.forEach(s -> sb.append(s.asText()));
    return sb.toString();
  }

  private static String lastLine(String s) {
    List<String> lines = s.lines().toList();
    return lines.get(lines.size() - 1);
  }

  @Test
  void aNotebookThatIsNotValidOrBadParametersAreRefusedOnOneLineBeforeAnythingIsBuilt() throws Exception {
    Path home = tmp.resolve("home");
    Path dir = project("refusals", "busybox", null, "old.ipynb", "{\"nbformat\":3,\"nbformat_minor\":0,"
        + "\"worksheets\":[]}", "broken.ipynb", "{\"cells\": [", "ok.ipynb", SQUARES, "r.ipynb",
        SQUARES.replace("\"language\":\"python\",\"name\":\"python3\"", "\"language\":\"R\",\"name\":\"ir\""));
    List<Object[]> cases = List.of(
        new Object[] {List.of(dir.resolve("old.ipynb")), "labenv: " + dir.resolve("old.ipynb") + ": not a valid "
            + "notebook: nbformat 3: labenv runs nbformat 4 notebooks (jupyter nbconvert --to notebook converts older "
            + "ones)"},
        new Object[] {List.of(dir.resolve("broken.ipynb")), "labenv: " + dir.resolve("broken.ipynb") + ": not a "
            + "valid notebook: not JSON ("},
        new Object[] {List.of(dir.resolve("none.ipynb")), "labenv: " + dir.resolve("none.ipynb") + ": no such "
            + "notebook"},
        new Object[] {List.of(dir.resolve("ok.ipynb"), "-p", "2n=5"), "labenv: -p 2n=...: \"2n\" is not a Python "
            + "variable name"},
        new Object[] {List.of(dir.resolve("ok.ipynb"), "-p", "n"), "labenv: -p n: expected NAME=VALUE"},
        new Object[] {List.of(dir.resolve("r.ipynb"), "-p", "n=5"), "labenv: parameters (-p) for a notebook in r: "
            + "labenv writes them in python and java"},
        new Object[] {List.of(dir.resolve("ok.ipynb"), "-o", dir.resolve("elsewhere.ipynb")), "labenv: -o "
            + dir.resolve("elsewhere.ipynb") + ": not inside the project's outputs (results in " + dir + ")"},
        new Object[] {List.of(tmp.resolve("stray.ipynb")), "labenv: " + tmp.resolve("stray.ipynb") + ": no "
            + "labenv.yaml in its folder or above it"});
    for (Object[] c : cases) {
      List<Object> args = new ArrayList<>(List.of("notebook", "run"));
      args.addAll((List<?>) c[0]);
      RunIT.Proc p = labenv(home, args.toArray());
      assertEquals(2, p.code(), p::toString);
      assertEquals(1, p.err().lines().count(), p::toString);
      assertTrue(p.err().startsWith((String) c[1]), p::toString);
      assertEquals("", p.out());
    }
    assertFalse(Files.exists(home), "nothing was built or stored");
    assertFalse(Files.exists(dir.resolve(".labenv")));
  }

  // End to end on Debian: slow (a bootstrap, then apt installs Debian's Jupyter packages from the host's mirror).

  @TempDir static Path shared;
  private static Path debianHome;
  static final String JUPYTER = "jupyter:bookworm";

  /**
   * One store for the slow tests of the class, made by the first of them: debian:bookworm, and {@value #JUPYTER}
   * built on it with Debian's nbclient, nbformat and ipykernel (what the projects here start FROM).
   */
  private static synchronized Path jupyter() throws Exception {
    assumeTrue(BootstrapIT.mmdebstrapInstalled(), "mmdebstrap is not installed");
    if (debianHome == null) {
      Path home = DebianStore.home();
      long start = System.nanoTime();
      Path context = Files.createDirectories(shared.resolve("jupyter"));
      Files.writeString(context.resolve("Envfile"), """
          FROM debian:bookworm
          RUN apt-get update \\
           && apt-get install -y --no-install-recommends python3-nbclient python3-nbformat python3-ipykernel \\
           && rm -rf /var/lib/apt/lists/*
          """);
      RunIT.Proc build = labenv(home, "build", "-q", "-t", JUPYTER, context);
      assertEquals(0, build.code(), build::toString);
      System.out.printf("NotebookRunIT: build %s %.1f s%n", JUPYTER,
          (System.nanoTime() - start) / 1e9);
      debianHome = home;
    }
    return debianHome;
  }

  @Test
  @Tag("slow")
  void aParameterisedNotebookRunsWithItsParametersInjectedWritesAReceiptAndVerifies() throws Exception {
    Path home = jupyter();
    Path dir = project("squares", JUPYTER, null, "analysis.ipynb", SQUARES);
    Path nb = dir.resolve("analysis.ipynb");
    long start = System.nanoTime();
    RunIT.Proc run = labenv(home, "notebook", "run", nb, "-p", "n=5", "-p", "label=five");
    double runSeconds = (System.nanoTime() - start) / 1e9;
    assertEquals(0, run.code(), run::toString);
    Path executed = dir.resolve("results/analysis.ipynb");
    assertTrue(run.out().startsWith("executed: " + executed + " (5 cells)\nreceipt: " + dir.resolve("receipt.json")),
        run::toString);
    assertFalse(run.err().contains("Traceback") || run.err().contains("warning"), run::toString);

    // papermill's cell, right after the parameters cell; then what the kernel printed and returned
    JsonNode cells = json(executed).get("cells");
    assertEquals(5, cells.size());
    assertEquals("# Parameters\nn = 5\nlabel = \"five\"\n", text(cells.get(2).get("source")));
    assertEquals("[\"injected-parameters\"]", cells.get(2).get("metadata").get("tags").toString());
    assertEquals(2, cells.get(2).get("execution_count").asInt());
    // two stream messages (flushed 0.3 s apart), one output: batches a kernel sends must not show in the notebook
    assertEquals(1, cells.get(3).get("outputs").size(), () -> cells.get(3).toString());
    JsonNode printed = cells.get(3).get("outputs").get(0);
    assertEquals("stream", printed.get("output_type").asText());
    assertEquals("five\n25\n", text(printed.get("text")));
    JsonNode result = cells.get(4).get("outputs").get(0);
    assertEquals("5.5", text(result.get("data").get("text/plain")));
    assertFalse(cells.get(4).get("metadata").has("execution"), "no timestamps");
    assertEquals("python", json(executed).get("metadata").get("language_info").get("name").asText());

    // the receipt: the notebook, the parameters as given, and the executed notebook among the outputs
    Receipt receipt = Receipt.read(dir.resolve("receipt.json"));
    assertEquals(new Receipt.NotebookRun("analysis.ipynb", OutputHashes.sha256(nb), "python3", "python",
        List.of(new Receipt.Parameter("n", "5"), new Receipt.Parameter("label", "five")), "results/analysis.ipynb"),
        receipt.notebook());
    assertEquals(1, receipt.outputs().files().size());
    assertEquals("results/analysis.ipynb", receipt.outputs().files().get(0).path());
    assertEquals(OutputHashes.sha256(executed), receipt.outputs().files().get(0).sha256());
    assertEquals("python3", receipt.command().get(0));
    assertEquals(0, receipt.exitCode());

    start = System.nanoTime();
    RunIT.Proc verify = labenv(home, "verify", dir);
    double verifySeconds = (System.nanoTime() - start) / 1e9;
    assertEquals(0, verify.code(), verify::toString);
    assertTrue(verify.out().startsWith("verified: every output matches (1 files"), verify::toString);

    // a deterministic notebook gives the same bytes again
    byte[] first = Files.readAllBytes(executed);
    RunIT.Proc again = labenv(home, "notebook", "run", nb, "-p", "n=5", "-p", "label=five");
    assertEquals(0, again.code(), again::toString);
    assertArrayEquals(first, Files.readAllBytes(executed));
    assertEquals(receipt.outputs().root(), Receipt.read(dir.resolve("receipt.json")).outputs().root());
    System.out.printf("NotebookRunIT: notebook run %.1f s (image built), verify %.1f s%n", runSeconds,
        verifySeconds);
  }

  @Test
  @Tag("slow")
  void aFailingCellIsNamedWithItsTracebackAndTheNotebookAsFarAsItRanIsKept() throws Exception {
    Path home = jupyter();
    Path dir = project("failing", JUPYTER, null, "failing.ipynb", notebook(code("x = 41"), code("print(x + 1)"),
        code("def f(d):\n    return 1 / d\n\nf(0)"), code("print('never')")));
    Path nb = dir.resolve("failing.ipynb");
    RunIT.Proc run = labenv(home, "notebook", "run", nb);
    assertEquals(1, run.code(), run::toString);
    assertEquals("", run.out());
    List<String> err = run.err().lines().toList();
    int at = err.indexOf("cell 3 failed: ZeroDivisionError: division by zero");
    assertTrue(at >= 0, run::toString);
    assertTrue(err.subList(at, err.size()).stream().anyMatch(l -> l.contains("----> 4 f(0)")), run::toString);
    assertTrue(err.subList(at, err.size()).stream().anyMatch(l -> l.contains("----> 2     return 1 / d")),
        run::toString);
    assertFalse(run.err().contains("\u001b"), "no terminal colours: " + run);
    Path partial = dir.resolve(".labenv/failed/results/failing.ipynb");
    assertEquals("labenv: " + nb + ": stopped at cell 3 (ZeroDivisionError: division by zero); the notebook as far "
        + "as it ran is in " + partial + "; the project's outputs are unchanged and no receipt was written",
        lastLine(run.err()));

    JsonNode cells = json(partial).get("cells");
    assertEquals("42\n", text(cells.get(1).get("outputs").get(0).get("text")));
    JsonNode error = cells.get(2).get("outputs").get(0);
    assertEquals("error", error.get("output_type").asText());
    assertEquals("ZeroDivisionError", error.get("ename").asText());
    assertEquals(0, cells.get(3).get("outputs").size(), "not run");
    assertTrue(cells.get(3).get("execution_count").isNull());
    assertFalse(Files.exists(dir.resolve("receipt.json")));
    assertFalse(Files.exists(dir.resolve("results")));

    RunIT.Proc ps = labenv(home, "ps", "-a", "-q");
    assertEquals("", ps.out(), "nothing left running or stopped: " + ps);
  }

  @Test
  @Tag("slow")
  void verifyExplainsAnExecutedNotebookThatDiffersCellByCell() throws Exception {
    Path home = jupyter();
    Path dir = project("edited", JUPYTER, null, "analysis.ipynb", SQUARES);
    RunIT.Proc run = labenv(home, "notebook", "run", dir.resolve("analysis.ipynb"), "-p", "n=5",
        "-o", dir.resolve("results/nb/squares.ipynb"));
    assertEquals(0, run.code(), run::toString);
    Path executed = dir.resolve("results/nb/squares.ipynb");
    assertTrue(Files.isRegularFile(executed), run::toString);

    // As if that run had printed 26: the notebook's output edited, and its receipt with it.
    String edited = Files.readString(executed).replace("\"25\\n\"", "\"26\\n\"");
    assertFalse(edited.equals(Files.readString(executed)));
    Files.writeString(executed, edited);
    Receipt r = Receipt.read(dir.resolve("receipt.json"));
    List<Receipt.OutputFile> files = List.of(new Receipt.OutputFile("results/nb/squares.ipynb", Files.size(executed),
        OutputHashes.sha256(executed)));
    Receipt tampered = new Receipt(r.schema(), r.labenv(), r.project(), r.image(), r.datasets(), r.command(),
        r.workdir(), r.environment(), r.limits(), r.network(), r.hostname(), r.host(), r.started(), r.ended(),
        r.exitCode(), new Receipt.Outputs(r.outputs().dirs(), OutputHashes.root(files), files), r.notebook());
    Files.write(dir.resolve("receipt.json"), tampered.toJson());

    RunIT.Proc verify = labenv(home, "verify", dir);
    assertEquals(1, verify.code(), verify::toString);
    List<String> out = verify.out().lines().toList();
    assertTrue(out.contains("results/nb/squares.ipynb: differs"), verify::toString);
    assertTrue(out.contains("  1 of 5 cells differs (cell 4)"), verify::toString);
    assertTrue(out.contains("  cell 4 (code): output 1 (stdout) differs: line 2: \"26\" → \"25\""), verify::toString);
    assertTrue(out.contains("not verified: 1 output differ"), verify::toString);
  }

  @Test
  @Tag("slow")
  void anImageWithoutJupyterSaysWhatProvidesItOnOneLine() throws Exception {
    Path home = jupyter();
    Path bare = project("bare", "debian:bookworm", null, "analysis.ipynb", SQUARES);
    RunIT.Proc noPython = labenv(home, "notebook", "run", bare.resolve("analysis.ipynb"));
    assertEquals(1, noPython.code(), noPython::toString);
    String line = lastLine(noPython.err());
    assertTrue(line.startsWith("labenv: the image of bare (sha256:"), noPython::toString);
    assertTrue(line.endsWith(") has no Jupyter to run " + bare.resolve("analysis.ipynb") + " with (no python3): "
        + "start from the jupyter-python template (labenv init --template jupyter-python) or install Debian's "
        + "python3-nbclient python3-nbformat python3-ipykernel (or jupyter-notebook) in the Envfile"), line);
    assertEquals(1, noPython.err().lines().filter(l -> l.startsWith("labenv: ")).count(), noPython::toString);
    assertFalse(noPython.err().contains("not found"), "init's own message is not shown: " + noPython);

    Path noClient = project("no-client", JUPYTER, "rm -rf /usr/lib/python3/dist-packages/nbclient",
        "analysis.ipynb", SQUARES);
    RunIT.Proc noModule = labenv(home, "notebook", "run", noClient.resolve("analysis.ipynb"));
    assertEquals(1, noModule.code(), noModule::toString);
    assertTrue(lastLine(noModule.err()).contains("(python3 has no module nbclient): start from the jupyter-python "
        + "template"), noModule::toString);
    assertEquals("", labenv(home, "ps", "-a", "-q").out());

    // a kernel the image does not have
    Path otherKernel = project("other-kernel", JUPYTER, null, "analysis.ipynb", SQUARES.replace(
        "\"name\":\"python3\"", "\"name\":\"julia-1.9\""));
    RunIT.Proc noKernel = labenv(home, "notebook", "run", otherKernel.resolve("analysis.ipynb"));
    assertEquals(1, noKernel.code(), noKernel::toString);
    assertTrue(lastLine(noKernel.err()).startsWith("labenv: " + otherKernel.resolve("analysis.ipynb") + ": the "
        + "image has no Jupyter kernel \"julia-1.9\""), noKernel::toString);
  }
}
