package labenv.project;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Json;

/**
 * A Jupyter notebook in nbformat 4, checked on reading: what {@code labenv notebook run} executes. Cells are
 * numbered from 1 in notebook order (markdown and raw cells count) in every message, as in the failure report
 * and {@code labenv verify}'s explanations.
 */
public final class Notebook {
  /** The tag papermill looks for: parameters are injected after the first cell carrying it. */
  public static final String PARAMETERS_TAG = "parameters";
  /** The tag of the cell papermill (and labenv) inject; a notebook given again gets it replaced. */
  public static final String INJECTED_TAG = "injected-parameters";
  private static final Set<String> CELL_TYPES = Set.of("code", "markdown", "raw");
  private static final Set<String> OUTPUT_TYPES = Set.of("stream", "display_data", "execute_result", "error");
  // nbformat 4.5's schema for cell ids.
  private static final Pattern CELL_ID = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  private final ObjectNode root;

  private Notebook(ObjectNode root) {
    this.root = root;
  }

  /** Reads and checks {@code file}: bad input, naming what is wrong and where, when it is not a valid notebook. */
  public static Notebook read(Path file) {
    byte[] data;
    try {
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such notebook");
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": cannot read the notebook: " + e.getMessage());
    }
    return parse(data, file.toString());
  }

  /** Parses and checks a notebook; {@code what} names it in messages. */
  public static Notebook parse(byte[] data, String what) {
    JsonNode node;
    try {
      node = Json.mapper().readTree(data);
    } catch (JsonProcessingException e) {
      var at = e.getLocation();
      throw invalid(what, "not JSON (" + e.getOriginalMessage().lines().findFirst().orElse("") + (at == null ? ""
          : " at line " + at.getLineNr() + ", column " + at.getColumnNr()) + ")");
    } catch (IOException e) {
      throw LabenvException.badInput(what + ": " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw invalid(what, "not a JSON object");
    }
    ObjectNode root = (ObjectNode) node;
    JsonNode format = root.get("nbformat");
    if (format == null) {
      throw invalid(what, "no \"nbformat\" (every Jupyter notebook has one)");
    }
    if (!format.isInt()) {
      throw invalid(what, "\"nbformat\" is " + kind(format) + ", not a number");
    }
    if (format.intValue() != 4) {
      throw invalid(what, "nbformat " + format.intValue() + ": labenv runs nbformat 4 notebooks"
          + (format.intValue() < 4 ? " (jupyter nbconvert --to notebook converts older ones)" : ""));
    }
    JsonNode minor = root.get("nbformat_minor");
    if (minor == null || !minor.isInt() || minor.intValue() < 0) {
      throw invalid(what, minor == null ? "no \"nbformat_minor\"" : "\"nbformat_minor\" is not a number >= 0");
    }
    object(root, "metadata", what, "");
    JsonNode cells = root.get("cells");
    if (cells == null || !cells.isArray()) {
      throw invalid(what, cells == null ? "no \"cells\"" : "\"cells\" is " + kind(cells) + ", not a list");
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < cells.size(); i++) {
      checkCell(cells.get(i), "cell " + (i + 1) + ": ", what, minor.intValue() >= 5, ids);
    }
    return new Notebook(root);
  }

  private static void checkCell(JsonNode cell, String where, String what, boolean idRequired, Set<String> ids) {
    if (!cell.isObject()) {
      throw invalid(what, where + "is " + kind(cell) + ", not an object");
    }
    JsonNode type = cell.get("cell_type");
    if (type == null || !type.isTextual()) {
      throw invalid(what, where + (type == null ? "no \"cell_type\"" : "\"cell_type\" is " + kind(type)));
    }
    if (!CELL_TYPES.contains(type.textValue())) {
      throw invalid(what, where + "cell_type \"" + type.textValue() + "\" is not code, markdown or raw");
    }
    where = where.substring(0, where.length() - 2) + " (" + type.textValue() + "): ";
    JsonNode source = cell.get("source");
    if (source == null) {
      throw invalid(what, where + "no \"source\"");
    }
    if (!source.isTextual() && !(source.isArray() && allText(source))) {
      throw invalid(what, where + "\"source\" is " + kind(source) + ": a string or a list of strings expected");
    }
    object(cell, "metadata", what, where);
    JsonNode id = cell.get("id");
    if (id != null || idRequired) {
      if (id == null) {
        throw invalid(what, where + "no \"id\" (nbformat 4.5 requires one on every cell)");
      }
      if (!id.isTextual() || !CELL_ID.matcher(id.textValue()).matches()) {
        throw invalid(what, where + "id " + id + " is not 1 to 64 letters, digits, - or _");
      }
      if (!ids.add(id.textValue())) {
        throw invalid(what, where + "id \"" + id.textValue() + "\" is used by an earlier cell too");
      }
    }
    if (!type.textValue().equals("code")) {
      return;
    }
    JsonNode count = cell.get("execution_count");
    if (!cell.has("execution_count") || !(count.isNull() || count.isInt())) {
      throw invalid(what, where + (count == null ? "no \"execution_count\" (null when never run)"
          : "\"execution_count\" is " + kind(count) + ": a number or null expected"));
    }
    JsonNode outputs = cell.get("outputs");
    if (outputs == null || !outputs.isArray()) {
      throw invalid(what, where + (outputs == null ? "no \"outputs\" (an empty list when never run)"
          : "\"outputs\" is " + kind(outputs) + ", not a list"));
    }
    for (int j = 0; j < outputs.size(); j++) {
      JsonNode o = outputs.get(j);
      JsonNode t = o.get("output_type");
      if (!o.isObject() || t == null || !t.isTextual() || !OUTPUT_TYPES.contains(t.textValue())) {
        throw invalid(what, where + "output " + (j + 1) + " is not an output (output_type stream, display_data, "
            + "execute_result or error)");
      }
    }
  }

  private static void object(JsonNode parent, String key, String what, String where) {
    JsonNode v = parent.get(key);
    if (v == null || !v.isObject()) {
      throw invalid(what, where + (v == null ? "no \"" + key + "\"" : "\"" + key + "\" is " + kind(v)
          + ", not an object"));
    }
  }

  private static boolean allText(JsonNode array) {
    for (JsonNode n : array) {
      if (!n.isTextual()) {
        return false;
      }
    }
    return true;
  }

  private static String kind(JsonNode n) {
    return n.isNull() ? "null" : n.isTextual() ? "a string" : n.isNumber() ? "a number" : n.isBoolean() ? "a boolean"
        : n.isArray() ? "a list" : "an object";
  }

  private static LabenvException invalid(String what, String why) {
    return LabenvException.badInput(what + ": not a valid notebook: " + why);
  }

  /** How many cells it has. */
  public int cells() {
    return root.get("cells").size();
  }

  /** The cell at {@code index} (0-based), as nbformat's JSON. */
  JsonNode cell(int index) {
    return root.get("cells").get(index);
  }

  /** The kernel's name in {@code metadata.kernelspec.name}, or null (nbclient then starts python3). */
  public String kernelName() {
    JsonNode n = root.path("metadata").path("kernelspec").path("name");
    return n.isTextual() && !n.textValue().isEmpty() ? n.textValue() : null;
  }

  /**
   * The notebook's language, lower case: {@code metadata.kernelspec.language}, else {@code
   * metadata.language_info.name}, else python when the kernel is python's or none is named (nbclient runs
   * python3 then); null when unknown.
   */
  public String language() {
    for (JsonNode n : List.of(root.path("metadata").path("kernelspec").path("language"),
        root.path("metadata").path("language_info").path("name"))) {
      if (n.isTextual() && !n.textValue().isBlank()) {
        return n.textValue().strip().toLowerCase(Locale.ROOT);
      }
    }
    String kernel = kernelName();
    return kernel == null || kernel.toLowerCase(Locale.ROOT).startsWith("python") ? "python" : null;
  }

  /** The index (0-based) of the first cell tagged {@code tag} in {@code metadata.tags}, or -1. */
  public int tagged(String tag) {
    JsonNode cells = root.get("cells");
    for (int i = 0; i < cells.size(); i++) {
      for (JsonNode t : cells.get(i).path("metadata").path("tags")) {
        if (t.isTextual() && t.textValue().equals(tag)) {
          return i;
        }
      }
    }
    return -1;
  }

  /**
   * A copy without outputs: every code cell's outputs empty and execution_count null, as papermill prepares a
   * notebook, so cells not reached keep nothing from an earlier run.
   */
  public Notebook withoutOutputs() {
    ObjectNode copy = root.deepCopy();
    for (JsonNode cell : copy.get("cells")) {
      if (cell.get("cell_type").textValue().equals("code")) {
        ((ObjectNode) cell).set("outputs", JsonNodeFactory.instance.arrayNode());
        ((ObjectNode) cell).putNull("execution_count");
      }
    }
    return new Notebook(copy);
  }

  /**
   * A copy with a code cell tagged {@value #INJECTED_TAG} holding {@code source}, where papermill puts it: in
   * place of an earlier injected cell, else right after the first cell tagged {@value #PARAMETERS_TAG}, else
   * first. In nbformat 4.5 it gets an id of its own, the same every time (nbformat would draw a random one).
   */
  public Notebook withInjectedCell(String source) {
    ObjectNode copy = root.deepCopy();
    ArrayNode cells = (ArrayNode) copy.get("cells");
    ObjectNode cell = JsonNodeFactory.instance.objectNode();
    cell.put("cell_type", "code");
    cell.putNull("execution_count");
    cell.putObject("metadata").putArray("tags").add(INJECTED_TAG);
    cell.putArray("outputs");
    cell.put("source", source);
    int injected = tagged(INJECTED_TAG);
    int parameters = tagged(PARAMETERS_TAG);
    if (copy.get("nbformat_minor").intValue() >= 5) {
      Set<String> ids = new HashSet<>();
      for (int i = 0; i < cells.size(); i++) {
        if (i != injected) {
          ids.add(cells.get(i).get("id").textValue());
        }
      }
      String id = INJECTED_TAG;
      for (int n = 2; ids.contains(id); n++) {
        id = INJECTED_TAG + "-" + n;
      }
      cell.put("id", id);
    }
    if (injected >= 0) {
      cells.set(injected, cell);
    } else {
      cells.insert(parameters + 1, cell);
    }
    return new Notebook(copy);
  }

  /** The notebook's JSON, ASCII only (other characters as \\u escapes), in the order it was read. */
  public String toAsciiJson() {
    try {
      return Json.mapper().writer().with(JsonGenerator.Feature.ESCAPE_NON_ASCII).writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a notebook", e);
    }
  }

  /** The source of a cell as one string, whether stored as a string or as a list of lines. */
  static String text(JsonNode source) {
    if (source == null || source.isNull() || source.isMissingNode()) {
      return "";
    }
    if (source.isTextual()) {
      return source.textValue();
    }
    if (source.isArray()) {
      StringBuilder sb = new StringBuilder();
      source.forEach(n -> sb.append(n.isTextual() ? n.textValue() : n.toString()));
      return sb.toString();
    }
    return source.toString();
  }
}
