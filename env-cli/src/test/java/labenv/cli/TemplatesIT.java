package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import labenv.image.Json;
import labenv.template.Template;
import labenv.template.Templates;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv templates} and {@code labenv init} as a user runs them (the packaged CLI, a fresh store each); and,
 * tagged slow, every template end to end on a real Debian base: init, run, verify.
 */
class TemplatesIT {
  @TempDir Path tmp;

  static RunIT.Proc labenv(Path home, Object... args) throws Exception {
    return LockIT.labenv(home, Arrays.stream(args).map(Object::toString).toArray(String[]::new));
  }

  private static List<String> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }

  @Test
  void templatesListsEveryTemplateAndMarksTheDefault() throws Exception {
    Path home = tmp.resolve("home");
    RunIT.Proc table = labenv(home, "templates");
    assertEquals(0, table.code(), table::toString);
    List<String> lines = table.out().lines().toList();
    assertTrue(lines.get(0).matches("NAME\\s+DESCRIPTION"), table::toString);
    assertTrue(lines.get(1).startsWith("python-pandas (default)  "), table::toString);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("r-base ") && l.contains("r-base-core")), table::toString);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("jvm-tablesaw ") && l.contains("tablesaw")),
        table::toString);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("jupyter-python ") && l.contains("Jupyter Notebook")),
        table::toString);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("jupyter-jvm ") && l.contains("Java kernel")),
        table::toString);

    RunIT.Proc json = labenv(home, "templates", "--format", "json");
    assertEquals(0, json.code(), json::toString);
    JsonNode list = Json.mapper().readTree(json.out());
    List<String> names = new ArrayList<>();
    list.forEach(t -> names.add(t.get("name").asText()));
    assertEquals(List.of("python-pandas", "r-base", "jvm-tablesaw", "jupyter-python", "jupyter-jvm"), names);
    assertTrue(list.get(0).get("default").asBoolean());
    assertFalse(list.get(2).get("default").asBoolean());
    assertTrue(list.get(2).get("files").toString().contains("\"Analysis.java\""), json::toString);
    assertEquals("[]", list.get(2).get("artifacts").toString(), json::toString);
    assertEquals("[\"labenv-kernel.jar\"]", list.get(4).get("artifacts").toString(), json::toString);
    assertFalse(Files.exists(home), "listing templates makes no store");
  }

  @Test
  void initWritesTheTemplateNamedAfterTheFolderAndSaysWhatToDoNext() throws Exception {
    Path home = tmp.resolve("home");
    Path dir = tmp.resolve("penguin-study");
    RunIT.Proc init = labenv(home, "init", "--template", "jvm-tablesaw", dir);
    assertEquals(0, init.code(), init::toString);
    assertEquals("", init.err());
    Template t = Templates.find("jvm-tablesaw").orElseThrow();
    assertEquals(t.files().stream().sorted().toList(), files(dir));
    for (String f : t.files()) {
      if (!f.equals("labenv.yaml")) {
        assertArrayEquals(t.read(f), Files.readAllBytes(dir.resolve(f)), f);
      }
    }
    String yaml = Files.readString(dir.resolve("labenv.yaml"));
    assertEquals(new String(t.read("labenv.yaml")).replace("name: jvm-tablesaw\n", "name: penguin-study\n"), yaml);
    assertTrue(init.out().startsWith("Created penguin-study from the jvm-tablesaw template in " + dir + " (6 files)"),
        init::toString);
    // the store lacks the base: the first next step makes it
    assertTrue(init.out().contains("\n  labenv bootstrap debian:bookworm "), init::toString);
    assertTrue(init.out().contains("\n  labenv run " + dir + " "), init::toString);
    assertTrue(init.out().contains("\n  labenv verify " + dir + " "), init::toString);
    assertFalse(Files.exists(home), "init makes no store");

    // the default template, into an existing empty folder; a name YAML would read as a number stays a string
    Path empty = Files.createDirectories(tmp.resolve("2024"));
    RunIT.Proc byDefault = labenv(home, "init", empty);
    assertEquals(0, byDefault.code(), byDefault::toString);
    assertTrue(Files.isRegularFile(empty.resolve("analysis.py")));
    assertTrue(Files.isRegularFile(empty.resolve("data/penguins.csv")));
    assertTrue(Files.readString(empty.resolve("labenv.yaml")).contains("\nname: \"2024\"\n"));
    assertEquals("2024", labenv.project.ProjectFile.read(empty).name());
  }

  @Test
  void initRefusesAFolderWithAnythingInItAndAnUnknownTemplateOnOneLine() throws Exception {
    Path home = tmp.resolve("home");
    Path used = Files.createDirectories(tmp.resolve("used"));
    Files.writeString(used.resolve("notes.txt"), "mine");
    RunIT.Proc full = labenv(home, "init", used);
    assertEquals(2, full.code(), full::toString);
    assertEquals(1, full.err().lines().count(), full::toString);
    assertTrue(full.err().startsWith("labenv: " + used + ": not empty"), full::toString);
    assertEquals(List.of("notes.txt"), files(used), "nothing written, nothing lost");
    assertEquals("mine", Files.readString(used.resolve("notes.txt")));

    Path hidden = Files.createDirectories(tmp.resolve("hidden"));
    Files.createDirectories(hidden.resolve(".git"));
    assertEquals(2, labenv(home, "init", hidden).code(), "a hidden entry counts");

    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    RunIT.Proc notDir = labenv(home, "init", file);
    assertEquals(2, notDir.code(), notDir::toString);
    assertTrue(notDir.err().contains("not a folder"), notDir::toString);

    Path fresh = tmp.resolve("fresh");
    RunIT.Proc unknown = labenv(home, "init", "--template", "julia", fresh);
    assertEquals(2, unknown.code(), unknown::toString);
    assertEquals("labenv: unknown template \"julia\" (known: python-pandas, r-base, jvm-tablesaw, jupyter-python, "
        + "jupyter-jvm; labenv templates describes them)\n", unknown.err());
    assertFalse(Files.exists(fresh));
  }

  /** The kernel jar in this source tree, where init finds it for labenv.jar in env-cli/target. */
  static final Path KERNEL_JAR = CliProcessIT.JAR.toAbsolutePath().getParent().resolve(
      "../../notebooks/target/labenv-kernel.jar").normalize();

  @Test
  void initCopiesTheJavaKernelBuiltBesideLabenvOrSaysOnOneLineWhereItIsNot() throws Exception {
    Path home = tmp.resolve("home");
    Path dir = tmp.resolve("java-notebooks");
    RunIT.Proc init = labenv(home, "init", "--template", "jupyter-jvm", dir);
    assertEquals(0, init.code(), init::toString);
    assertTrue(init.out().startsWith("Created java-notebooks from the jupyter-jvm template in " + dir + " (8 files)"),
        init::toString);
    // found in the source tree labenv.jar was built in (bin/labenv's layout)
    assertEquals(-1L, Files.mismatch(KERNEL_JAR, dir.resolve("labenv-kernel.jar")));

    Path missing = tmp.resolve("nowhere/labenv-kernel.jar");
    Path other = tmp.resolve("other");
    RunIT.Proc refused = LockIT.labenv(home, java.util.Map.of("LABENV_KERNEL_JAR", missing.toString()), "init",
        "--template", "jupyter-jvm", other.toString());
    assertEquals(1, refused.code(), refused::toString);
    assertEquals("labenv: LABENV_KERNEL_JAR=" + missing + ": no such file (it names labenv-kernel.jar, which the "
        + "jupyter-jvm template needs)\n", refused.err());
    assertFalse(Files.exists(other), "nothing written");
  }

  // End to end on Debian: slow (a bootstrap, then apt installs pandas or a JDK from the host's Debian mirror).

  /** The store with debian:bookworm the slow classes share ({@link DebianStore}). */
  private static Path debian() throws Exception {
    return DebianStore.home();
  }

  static final List<String> CSV_AND_PLOT = List.of("results/plot.png", "results/summary.csv");

  /**
   * init, run (the build, a cache hit where another class of the shared store built the same steps, then the
   * analysis), verify, for a template whose outputs are {@code outputs}:
   * results/summary.csv, results/plot.png when listed, and what the analysis prints ("100 penguins, 6 groups") on
   * run's output, or in the executed notebook when it is one. Returns the project.
   */
  private Path initRunAndVerify(String template, List<String> outputs) throws Exception {
    Path home = debian();
    Path dir = tmp.resolve(template + "-study");
    RunIT.Proc init = labenv(home, "init", "--template", template, dir);
    assertEquals(0, init.code(), init::toString);

    long start = System.nanoTime();
    RunIT.Proc run = labenv(home, "run", dir);
    double runSeconds = (System.nanoTime() - start) / 1e9;
    assertEquals(0, run.code(), run::toString);
    assertEquals(outputs, files(dir.resolve("results")).stream().map(f -> "results/" + f).toList());
    String printed = outputs.contains("results/analysis.ipynb")
        ? Files.readString(dir.resolve("results/analysis.ipynb")) : run.out();
    assertTrue(printed.contains("100 penguins, 6 groups"), run::toString);
    List<String> summary = Files.readAllLines(dir.resolve("results/summary.csv"));
    assertEquals("species,sex,n,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g", summary.get(0));
    assertEquals(7, summary.size(), summary::toString);
    assertEquals("Gentoo,male,17,49.41,15.34,219.65,5282.35", summary.get(6));
    if (outputs.contains("results/plot.png")) {
      byte[] png = Files.readAllBytes(dir.resolve("results/plot.png"));
      assertTrue(png.length > 1000, "a plot, not an empty image: " + png.length);
      assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, Arrays.copyOf(png, 8));
    }
    assertEquals(template + "-study", Json.mapper().readTree(dir.resolve("receipt.json").toFile()).get("project")
        .asText());

    // a second run from the same receipt, by digest: every output byte for byte
    start = System.nanoTime();
    RunIT.Proc verify = labenv(home, "verify", dir);
    double verifySeconds = (System.nanoTime() - start) / 1e9;
    assertEquals(0, verify.code(), verify::toString);
    assertTrue(verify.out().contains("verified: every output matches (" + outputs.size() + " files"),
        verify::toString);
    System.out.printf("TemplatesIT: %s: run (build and analysis) %.1f s, verify %.1f s%n", template, runSeconds,
        verifySeconds);
    return dir;
  }

  @Test
  @Tag("slow")
  void pythonPandasInitRunsAndVerifies() throws Exception {
    initRunAndVerify("python-pandas", CSV_AND_PLOT);
  }

  @Test
  @Tag("slow")
  void jvmTablesawInitRunsAndVerifies() throws Exception {
    initRunAndVerify("jvm-tablesaw", CSV_AND_PLOT);
  }

  @Test
  @Tag("slow")
  void jupyterPythonInitRunsTheNotebookHeadlessAndVerifies() throws Exception {
    // the executed notebook is an output like the others: the same bytes on the second run
    initRunAndVerify("jupyter-python", List.of("results/analysis.ipynb", "results/plot.png", "results/summary.csv"));
  }

  @Test
  @Tag("slow")
  void jupyterJvmInitRunsTheNotebookOnTheJavaKernelAndVerifies() throws Exception {
    Path dir = initRunAndVerify("jupyter-jvm", List.of("results/analysis.ipynb", "results/summary.csv"));
    JsonNode nb = Json.mapper().readTree(dir.resolve("results/analysis.ipynb").toFile());
    assertEquals("labenv-java", nb.at("/metadata/kernelspec/name").asText());
    assertEquals("java", nb.at("/metadata/language_info/name").asText(), "the kernel answered, not a fallback");
    // the summary cell: its one printed line, then the table as its value, as HTML and as tablesaw's text
    JsonNode outputs = nb.at("/cells/2/outputs");
    assertEquals(2, outputs.size(), outputs::toString);
    assertEquals("stream", outputs.get(0).get("output_type").asText(), outputs::toString);
    assertEquals("100 penguins, 6 groups\n", text(outputs.get(0).get("text")));
    JsonNode result = outputs.get(1);
    assertEquals("execute_result", result.get("output_type").asText(), outputs::toString);
    String html = text(result.at("/data/text~1html"));
    assertTrue(html.startsWith("<div>\n<table border=\"1\" class=\"dataframe\">\n<caption>summary</caption>"), html);
    assertTrue(html.contains("<tr><th>5</th><td>Gentoo</td><td>male</td><td>17</td><td>49.41</td><td>15.34</td>"
        + "<td>219.65</td><td>5282.35</td></tr>"), html);
    assertTrue(html.contains("<p>6 rows \u00d7 7 columns</p>"), html);
    assertTrue(text(result.at("/data/text~1plain")).contains("Gentoo  |    male  |  17  |"), result::toString);
    // no timing, no error anywhere in the executed notebook
    String raw = Files.readString(dir.resolve("results/analysis.ipynb"));
    assertFalse(raw.contains("\"execution\"") || raw.contains("\"error\""), raw);
  }

  /** A notebook's multiline string: a list of lines or one string. */
  private static String text(JsonNode node) {
    if (!node.isArray()) {
      return node.asText();
    }
    StringBuilder s = new StringBuilder();
    node.forEach(line -> s.append(line.asText()));
    return s.toString();
  }
}
