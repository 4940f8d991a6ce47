package labenv.project;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.image.Json;

/**
 * How an executed notebook differs from another, cell by cell, for {@code labenv verify}: {@code cell 3 (code):
 * output 1 text/plain differs: line 2: "15" → "16"}. Cells and outputs are compared by position and numbered from
 * 1 (as {@code notebook run} numbers cells when one fails). What is compared: each cell's type, id, source,
 * metadata, execution count and outputs (added, removed, of another type; stream text; every MIME type of
 * results and displays, text by its first differing line, images by size; errors by name, message and
 * traceback), and the notebook's metadata. With a tolerance, text that differs only in numbers within it is
 * reported as such (a notebook that prints 0.30000000000000004 one day and 0.3 the next).
 */
final class NotebookDiff {
  private NotebookDiff() {}

  /** Lines of findings shown at most (the caller shows the first few unless asked for all). */
  static final int MAX_FINDINGS = 60;
  private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
  private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;?]*[ -/]*[@-~]");

  /**
   * Explains how the notebook {@code actual} differs from {@code expected}; null when either is not a notebook
   * (not a JSON object with a list of cells), to be compared as JSON instead.
   */
  static OutputDiff.Explanation explain(String path, Path expected, Path actual, OutputDiff.Options options) {
    JsonNode a = read(expected);
    JsonNode b = read(actual);
    return a == null || b == null ? null : explain(path, a, b, options);
  }

  private static JsonNode read(Path file) {
    try {
      if (Files.size(file) > OutputDiff.JSON_LIMIT) {
        return null;
      }
      JsonNode n = Json.mapper().readTree(Files.readAllBytes(file));
      return n != null && n.isObject() && n.path("cells").isArray() ? n : null;
    } catch (IOException e) {
      return null;
    }
  }

  static OutputDiff.Explanation explain(String path, JsonNode a, JsonNode b, OutputDiff.Options options) {
    Findings f = new Findings(options.tolerance());
    JsonNode cellsA = a.path("cells");
    JsonNode cellsB = b.path("cells");
    for (String key : List.of("nbformat", "nbformat_minor")) {
      if (!a.path(key).equals(b.path(key))) {
        f.add(null, key + " " + a.path(key) + " → " + b.path(key), false);
      }
    }
    List<String> meta = new ArrayList<>();
    jsonChanges("", a.path("metadata"), b.path("metadata"), meta);
    meta.forEach(m -> f.add(null, "notebook metadata: " + m, false));
    if (cellsA.size() != cellsB.size()) {
      f.add(null, "cells: " + cellsA.size() + " in the original, " + cellsB.size() + " now (compared by position)",
          false);
    }
    int cells = Math.max(cellsA.size(), cellsB.size());
    for (int i = 0; i < cells; i++) {
      JsonNode ca = cellsA.path(i);
      JsonNode cb = cellsB.path(i);
      String typeA = ca.path("cell_type").asText("?");
      String typeB = cb.path("cell_type").asText("?");
      String label = "cell " + (i + 1) + " (" + (cb.isMissingNode() ? typeA : typeB) + ")";
      if (ca.isMissingNode()) {
        f.add(label, "added: " + OutputDiff.shown(Notebook.text(cb.path("source"))), false);
      } else if (cb.isMissingNode()) {
        f.add(label, "removed: " + OutputDiff.shown(Notebook.text(ca.path("source"))), false);
      } else {
        cell(f, label, typeA, typeB, ca, cb);
      }
    }
    return f.explanation(path, cells);
  }

  private static void cell(Findings f, String label, String typeA, String typeB, JsonNode a, JsonNode b) {
    if (!typeA.equals(typeB)) {
      f.add(label, "cell_type " + typeA + " → " + typeB, false);
    }
    if (!a.path("id").equals(b.path("id"))) {
      f.add(label, "id " + shownJson(a.path("id")) + " → " + shownJson(b.path("id")), false);
    }
    String source = firstDifference(Notebook.text(a.path("source")), Notebook.text(b.path("source")));
    if (source != null) {
      f.add(label, "source differs: " + source, false);
    }
    List<String> meta = new ArrayList<>();
    jsonChanges("", a.path("metadata"), b.path("metadata"), meta);
    meta.forEach(m -> f.add(label, "metadata: " + m, false));
    if (!a.path("attachments").equals(b.path("attachments"))) {
      f.add(label, "attachments differ", false);
    }
    if (!a.path("execution_count").equals(b.path("execution_count"))) {
      f.add(label, "execution_count " + shownJson(a.path("execution_count")) + " → "
          + shownJson(b.path("execution_count")), false);
    }
    JsonNode outA = a.path("outputs");
    JsonNode outB = b.path("outputs");
    if (outA.size() != outB.size()) {
      f.add(label, "outputs: " + outA.size() + " → " + outB.size(), false);
    }
    for (int j = 0; j < Math.max(outA.size(), outB.size()); j++) {
      String out = "output " + (j + 1);
      if (j >= outA.size()) {
        f.add(label, out + " added: " + summary(outB.get(j)), false);
      } else if (j >= outB.size()) {
        f.add(label, out + " removed: " + summary(outA.get(j)), false);
      } else {
        output(f, label, out, outA.get(j), outB.get(j));
      }
    }
  }

  private static void output(Findings f, String label, String out, JsonNode a, JsonNode b) {
    String type = b.path("output_type").asText("?");
    if (!a.path("output_type").asText("?").equals(type)) {
      f.add(label, out + ": " + summary(a) + " → " + summary(b), false);
      return;
    }
    switch (type) {
      case "stream" -> {
        if (!a.path("name").equals(b.path("name"))) {
          f.add(label, out + ": stream " + a.path("name").asText() + " → " + b.path("name").asText(), false);
        }
        f.text(label, out + " (" + b.path("name").asText() + ")", Notebook.text(a.path("text")),
            Notebook.text(b.path("text")));
      }
      case "execute_result", "display_data" -> {
        if (!a.path("execution_count").equals(b.path("execution_count"))) {
          f.add(label, out + " execution_count " + shownJson(a.path("execution_count")) + " → "
              + shownJson(b.path("execution_count")), false);
        }
        data(f, label, out, a.path("data"), b.path("data"));
        List<String> meta = new ArrayList<>();
        jsonChanges("", a.path("metadata"), b.path("metadata"), meta);
        meta.forEach(m -> f.add(label, out + " metadata: " + m, false));
      }
      case "error" -> {
        String ea = a.path("ename").asText() + ": " + a.path("evalue").asText();
        String eb = b.path("ename").asText() + ": " + b.path("evalue").asText();
        if (!ea.equals(eb)) {
          f.add(label, out + " error " + OutputDiff.shown(ea) + " → " + OutputDiff.shown(eb), false);
        } else {
          String tb = firstDifference(traceback(a), traceback(b));
          if (tb != null) {
            f.add(label, out + " traceback differs: " + tb, false);
          }
        }
      }
      default -> {
        List<String> changes = new ArrayList<>();
        jsonChanges("", a, b, changes);
        changes.forEach(c -> f.add(label, out + ": " + c, false));
      }
    }
  }

  /** A result's or a display's MIME bundle, type by type. */
  private static void data(Findings f, String label, String out, JsonNode a, JsonNode b) {
    TreeSet<String> types = new TreeSet<>();
    a.fieldNames().forEachRemaining(types::add);
    b.fieldNames().forEachRemaining(types::add);
    for (String mime : types) {
      JsonNode va = a.get(mime);
      JsonNode vb = b.get(mime);
      if (va == null) {
        f.add(label, out + " " + mime + " added: " + shownValue(mime, vb), false);
      } else if (vb == null) {
        f.add(label, out + " " + mime + " removed: " + shownValue(mime, va), false);
      } else if (!va.equals(vb)) {
        if (textual(mime)) {
          f.text(label, out + " " + mime, value(va), value(vb));
        } else {
          f.add(label, out + " " + mime + " differs: " + value(va).length() + " → " + value(vb).length()
              + " characters (base64)", false);
        }
      }
    }
  }

  private static boolean textual(String mime) {
    String m = mime.toLowerCase(Locale.ROOT);
    return m.startsWith("text/") || m.endsWith("json") || m.endsWith("+xml") || m.equals("application/javascript");
  }

  /** A MIME bundle's value as text: strings and lists of lines joined, JSON values as JSON. */
  private static String value(JsonNode v) {
    return v.isTextual() || v.isArray() && allText(v) ? Notebook.text(v) : v.toString();
  }

  private static boolean allText(JsonNode array) {
    for (JsonNode n : array) {
      if (!n.isTextual()) {
        return false;
      }
    }
    return true;
  }

  private static String shownValue(String mime, JsonNode v) {
    return textual(mime) ? OutputDiff.shown(value(v)) : value(v).length() + " characters (base64)";
  }

  /** An output in a few words: {@code stream stdout "15"}, {@code error ZeroDivisionError: division by zero}. */
  static String summary(JsonNode o) {
    String type = o.path("output_type").asText("?");
    return switch (type) {
      case "stream" -> "stream " + o.path("name").asText() + " " + quoted(Notebook.text(o.path("text")));
      case "error" -> "error " + OutputDiff.shown(o.path("ename").asText() + ": " + o.path("evalue").asText());
      case "execute_result", "display_data" -> {
        JsonNode data = o.path("data");
        List<String> types = new ArrayList<>();
        data.fieldNames().forEachRemaining(types::add);
        String plain = data.has("text/plain") ? " " + quoted(value(data.get("text/plain"))) : "";
        yield type + " " + String.join(", ", types) + plain;
      }
      default -> type;
    };
  }

  private static String quoted(String s) {
    return "\"" + OutputDiff.shown(s) + "\"";
  }

  private static String shownJson(JsonNode n) {
    return n.isMissingNode() ? "(none)" : OutputDiff.shown(n.toString());
  }

  private static String traceback(JsonNode error) {
    return ANSI.matcher(Notebook.text(error.path("traceback").isArray() ? joinLines(error.path("traceback"))
        : error.path("traceback"))).replaceAll("");
  }

  private static JsonNode joinLines(JsonNode lines) {
    StringBuilder sb = new StringBuilder();
    lines.forEach(l -> sb.append(sb.length() == 0 ? "" : "\n").append(l.asText()));
    return Json.mapper().getNodeFactory().textNode(sb.toString());
  }

  /** {@code line 2: "x = 1" → "x = 2"}, or how the line counts differ; null when equal. */
  static String firstDifference(String a, String b) {
    if (a.equals(b)) {
      return null;
    }
    String[] la = a.split("\n", -1);
    String[] lb = b.split("\n", -1);
    for (int i = 0; i < Math.min(la.length, lb.length); i++) {
      if (!la[i].equals(lb[i])) {
        return "line " + (i + 1) + ": " + quoted(la[i]) + " → " + quoted(lb[i])
            + (la.length != lb.length ? " (" + lines(la.length) + " → " + lines(lb.length) + ")" : "");
      }
    }
    return la.length < lb.length ? lines(la.length) + " → " + lines(lb.length) + ", first added: "
        + quoted(lb[la.length]) : lines(la.length) + " → " + lines(lb.length) + ", first removed: "
        + quoted(la[lb.length]);
  }

  private static String lines(int n) {
    return n + (n == 1 ? " line" : " lines");
  }

  /** Differences between two JSON values, one per changed path ({@code tags: ["a"] → ["b"]}), sorted keys. */
  static void jsonChanges(String at, JsonNode a, JsonNode b, List<String> out) {
    if (a.equals(b)) {
      return;
    }
    String where = at.isEmpty() ? "" : at + ": ";
    if (a.isObject() && b.isObject()) {
      TreeSet<String> keys = new TreeSet<>();
      a.fieldNames().forEachRemaining(keys::add);
      b.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        String path = at.isEmpty() ? k : at + "." + k;
        if (!a.has(k)) {
          out.add(path + " added: " + shownJson(b.get(k)));
        } else if (!b.has(k)) {
          out.add(path + " removed: " + shownJson(a.get(k)));
        } else {
          jsonChanges(path, a.get(k), b.get(k), out);
        }
      }
    } else if (a.isMissingNode() || b.isMissingNode()) {
      out.add(where + (a.isMissingNode() ? "added: " + shownJson(b) : "removed: " + shownJson(a)));
    } else {
      out.add(where + shownJson(a) + " → " + shownJson(b));
    }
  }

  /** What was found, per cell, and the numbers that differ within the tolerance. */
  private static final class Findings {
    final double tolerance;
    final List<String> lines = new ArrayList<>();
    final TreeSet<String> cells = new TreeSet<>();
    final TreeSet<String> beyondCells = new TreeSet<>();
    int total;
    int beyond;
    double maxAbs = Double.NaN;
    double maxRel = Double.NaN;

    Findings(double tolerance) {
      this.tolerance = tolerance;
    }

    /** One finding about {@code label} (a cell, or the notebook when null). */
    void add(String label, String finding, boolean tolerated) {
      total++;
      String key = label == null ? "" : label;
      cells.add(key);
      if (!tolerated) {
        beyond++;
        beyondCells.add(key);
      }
      if (lines.size() < MAX_FINDINGS) {
        lines.add((label == null ? "" : label + ": ") + finding);
      }
    }

    /** Text that differs: within tolerance when only numbers differ, each within it. */
    void text(String label, String what, String a, String b) {
      if (a.equals(b)) {
        return;
      }
      double[] largest = numbersOnly(a, b);
      if (largest != null) {
        boolean within = tolerance > 0 && largest[2] <= tolerance;
        maxAbs = Double.isNaN(maxAbs) ? largest[0] : Math.max(maxAbs, largest[0]);
        maxRel = Double.isNaN(maxRel) ? largest[1] : Math.max(maxRel, largest[1]);
        if (within) {
          add(label, what + ": only numbers differ, within tolerance " + OutputDiff.number(tolerance) + " (largest "
              + "abs " + OutputDiff.number(largest[0]) + "): " + firstDifference(a, b), true);
          return;
        }
      }
      add(label, what + " differs: " + firstDifference(a, b), false);
    }

    /**
     * When {@code a} and {@code b} differ only in the numbers they write: {largest |x−y|, largest |x−y| / max(|x|,
     * |y|), largest |x−y| / max(1, |x|, |y|) (the measure the tolerance bounds)} over the pairs; else null.
     */
    private static double[] numbersOnly(String a, String b) {
      Matcher ma = NUMBER.matcher(a);
      Matcher mb = NUMBER.matcher(b);
      int ia = 0;
      int ib = 0;
      double[] result = {0, 0, 0};
      while (true) {
        boolean fa = ma.find();
        boolean fb = mb.find();
        if (fa != fb) {
          return null;
        }
        String restA = fa ? a.substring(ia, ma.start()) : a.substring(ia);
        String restB = fb ? b.substring(ib, mb.start()) : b.substring(ib);
        if (!restA.equals(restB)) {
          return null;
        }
        if (!fa) {
          return result;
        }
        double x = Double.parseDouble(ma.group());
        double y = Double.parseDouble(mb.group());
        double abs = Math.abs(x - y);
        double scale = Math.max(Math.abs(x), Math.abs(y));
        result[0] = Math.max(result[0], abs);
        result[1] = Math.max(result[1], scale == 0 ? 0 : abs / scale);
        result[2] = Math.max(result[2], abs / Math.max(1, scale));
        ia = ma.end();
        ib = mb.end();
      }
    }

    OutputDiff.Explanation explanation(String path, int cellCount) {
      int cellsDiffering = (int) cells.stream().filter(c -> !c.isEmpty()).count();
      boolean notebookLevel = cells.contains("");
      boolean within = tolerance > 0 && total > 0 && beyond == 0;
      List<String> out = new ArrayList<>();
      if (total == 0) {
        out.add("the same notebook: the files differ only in formatting, key order or how values are written");
      } else if (within) {
        out.add(cellsDiffering + " of " + cellCount + " cells differ only in numbers within tolerance "
            + OutputDiff.number(tolerance) + " (largest abs " + OutputDiff.number(maxAbs) + ", rel "
            + OutputDiff.number(maxRel) + "); not an exact match");
      } else {
        StringBuilder sb = new StringBuilder(cellsDiffering + " of " + cellCount + " cell" + (cellCount == 1 ? ""
            : "s") + " differ" + (cellsDiffering == 1 ? "s" : ""));
        List<String> named = beyondCells.stream().filter(c -> !c.isEmpty()).sorted(NotebookDiff::byNumber)
            .map(c -> c.replaceAll(" \\(.*", "")).toList();
        if (!named.isEmpty()) {
          sb.append(" (").append(String.join(", ", named.subList(0, Math.min(8, named.size()))))
              .append(named.size() > 8 ? ", …" : "").append(")");
        }
        if (notebookLevel) {
          sb.append("; the notebook's own fields differ too");
        }
        out.add(sb.toString());
      }
      out.addAll(lines);
      if (total > lines.size()) {
        out.add("… " + (total - lines.size()) + " more differences");
      }
      return new OutputDiff.Explanation(path, OutputDiff.Kind.NOTEBOOK, within, out, maxAbs, maxRel,
          cellsDiffering + (notebookLevel ? 1 : 0), within ? cellsDiffering : 0);
    }
  }

  private static int byNumber(String a, String b) {
    return Integer.compare(number(a), number(b));
  }

  private static int number(String label) {
    Matcher m = Pattern.compile("cell (\\d+)").matcher(label);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }
}
