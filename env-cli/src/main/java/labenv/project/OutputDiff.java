package labenv.project;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.univocity.parsers.common.TextParsingException;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import labenv.LabenvException;
import labenv.dataset.TableDiff;
import labenv.image.Json;

/**
 * How a re-run's output file differs from the original, for {@code labenv verify --explain}: for people, one
 * finding per line, and as figures (largest numeric differences, counts) for the caller.
 *
 * <p>The kind is chosen by the output's path, then by content: {@code .csv}/{@code .tsv}/{@code .tab} (also
 * gzipped) are tables, {@code .ipynb} notebooks (cell by cell: {@link NotebookDiff}), {@code .json} and any file
 * whose content is one JSON object or array is JSON, other
 * UTF-8 text without NUL bytes is text, the rest binary. A table or JSON file that does not parse is compared as
 * text (or binary), and the first line says so.
 *
 * <p>Numbers a and b are equal within a tolerance t &gt; 0 when |a − b| ≤ t · max(1, |a|, |b|): an absolute
 * tolerance near zero, a relative one for large values. The relative difference reported is |a − b| / max(|a|,
 * |b|). Numbers written differently but equal (3 and 3.0) are within any tolerance &gt; 0; with tolerance 0
 * nothing is "within tolerance": a difference is a difference.
 *
 * <p>Tables: rows and columns (added, removed, retyped, changed rows with examples) come from
 * {@link TableDiff}, which matches rows by a key column or as whole rows. Cells are compared here as well, for
 * the numeric figures and the tolerance: rows aligned by TableDiff's key column when it found one (the first
 * table held in memory, up to {@value #KEYED_TABLE_LIMIT} bytes), else by position when both tables have as
 * many rows (streaming, any size); over the columns both tables have. With neither, rows were added or
 * removed, so nothing is within tolerance anyway, and no cell figures are given. Lines named are the re-run's
 * (as in TableDiff's changed rows). JSON lines ({@code .jsonl}) are compared as text: a line diff is the
 * clearer report for them.
 *
 * <p>Text: a unified diff (Myers' shortest edit script, GNU diff's hunk format) of files up to
 * {@value #TEXT_LIMIT} bytes and {@value #TEXT_LINES} lines each, cut after {@value #DIFF_OUTPUT_LINES} lines;
 * larger text gets line counts and the first differing line. Binary: sizes, sha256 and the first differing byte.
 */
public final class OutputDiff {
  private OutputDiff() {}

  /**
   * @param tolerance 0 = exact; else numbers a, b are equal "within tolerance" when |a−b| ≤ tolerance · max(1,
   *     |a|, |b|)
   * @param maxExamples how many examples of each kind of difference to show
   */
  public record Options(double tolerance, int maxExamples) {
    public Options {
      if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
        throw LabenvException.badInput("tolerance " + tolerance + ": must be a finite number >= 0 (e.g. 1e-9)");
      }
      if (maxExamples < 0) {
        throw LabenvException.badInput("maxExamples " + maxExamples + ": must be >= 0");
      }
    }
  }

  /** How the two files were compared. */
  public enum Kind { TABLE, JSON, TEXT, BINARY, NOTEBOOK }

  /**
   * One output's difference.
   *
   * @param path the output's relative path
   * @param kind how the files were compared (TEXT or BINARY when a table or JSON file did not parse)
   * @param withinTolerance true only when the files differ, the tolerance is &gt; 0, and every difference is a
   *     number within it
   * @param lines the report for people, one finding per line, no line breaks, already limited
   * @param maxAbsDiff the largest |a − b| over the numbers that differ (cells, JSON values); NaN when none do
   * @param maxRelDiff the largest |a − b| / max(|a|, |b|); NaN when no number differs
   * @param changed tables: cells that differ (-1 when rows could not be aligned); JSON: paths that differ; text:
   *     lines removed plus lines added (-1 when too large to diff); binary: 1
   * @param tolerated how many of those are numbers within the tolerance (0 when the tolerance is 0)
   */
  public record Explanation(String path, Kind kind, boolean withinTolerance, List<String> lines,
      double maxAbsDiff, double maxRelDiff, long changed, long tolerated) {
    public Explanation {
      lines = List.copyOf(lines);
    }
  }

  /** Text files up to this size each are diffed line by line. */
  static final long TEXT_LIMIT = 2L << 20;
  /** Text files with more lines than this are not diffed line by line. */
  static final int TEXT_LINES = 20_000;
  /** Lines of unified diff shown at most. */
  static final int DIFF_OUTPUT_LINES = 200;
  /** Lines of context around each change in a unified diff. */
  static final int CONTEXT = 3;
  /** A table aligned by key is held in memory up to this size (the first one only). */
  static final long KEYED_TABLE_LIMIT = 32L << 20;
  /** JSON files are parsed up to this size each. */
  static final long JSON_LIMIT = 64L << 20;
  private static final int SHOWN_CHARS = 60;
  private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

  /**
   * Explains how {@code actual} (the re-run's file) differs from {@code expected} (the original).
   *
   * @param path the output's relative path: named in the report, and its extension chooses the kind
   * @throws LabenvException failed when either file cannot be read
   */
  public static Explanation explain(String path, Path expected, Path actual, Options options) {
    Bytes bytes = Bytes.compare(expected, actual);
    String name = path.toLowerCase(Locale.ROOT);
    if (bytes.firstDifference() < 0) {
      Kind kind = tableSuffix(name) != null ? Kind.TABLE : name.endsWith(".ipynb") ? Kind.NOTEBOOK
          : name.endsWith(".json") ? Kind.JSON
          : Texts.startsAsText(expected) ? Kind.TEXT : Kind.BINARY;
      return new Explanation(path, kind, false,
          List.of("no difference: both files are " + bytes.sizeA() + " bytes, sha256 " + bytes.sha256A()),
          Double.NaN, Double.NaN, 0, 0);
    }
    String fallback = null;
    if (tableSuffix(name) != null) {
      try {
        return Tables.explain(path, tableSuffix(name), expected, actual, options);
      } catch (LabenvException e) {
        if (e.kind() != LabenvException.Kind.BAD_INPUT) {
          throw e;
        }
        fallback = "not a table labenv reads (" + e.getMessage().replace(expected.toString(), "a/" + path)
            .replace(actual.toString(), "b/" + path) + "): compared as ";
      }
    }
    if (name.endsWith(".ipynb")) {
      // added for notebook run: executed notebooks are explained cell by cell (NotebookDiff); JSON otherwise
      Explanation notebook = NotebookDiff.explain(path, expected, actual, options);
      if (notebook != null) {
        return notebook;
      }
    }
    Texts texts = Texts.read(expected, actual, bytes);
    if (fallback == null && (name.endsWith(".json") || (texts.diffable() && texts.looksLikeJson()))) {
      try {
        return JsonValues.explain(path, expected, actual, options);
      } catch (JsonUnreadable e) {
        if (name.endsWith(".json")) {
          fallback = "not valid JSON (" + e.getMessage() + "): compared as ";
        }
      }
    }
    if (texts.text()) {
      return texts.explain(path, fallback == null ? null : fallback + "text", bytes);
    }
    return binary(path, fallback == null ? null : fallback + "binary", bytes);
  }

  /** {@code .csv}, {@code .tsv.gz}...: the table suffix of a lower-case name, or null. */
  private static String tableSuffix(String name) {
    String gz = name.endsWith(".gz") ? ".gz" : "";
    String base = name.substring(0, name.length() - gz.length());
    for (String ext : List.of(".csv", ".tsv", ".tab")) {
      if (base.endsWith(ext)) {
        return ext + gz;
      }
    }
    return null;
  }

  private static Explanation binary(String path, String first, Bytes bytes) {
    List<String> lines = new ArrayList<>();
    if (first != null) {
      lines.add(first);
    }
    lines.add("size: " + bytes.sizeA() + " → " + bytes.sizeB() + " bytes");
    lines.add("sha256: " + bytes.sha256A() + " → " + bytes.sha256B());
    long at = bytes.firstDifference();
    lines.add("first differing byte at offset " + at + " (0x" + Long.toHexString(at) + ")"
        + (at == Math.min(bytes.sizeA(), bytes.sizeB()) ? ": the end of the shorter file" : ""));
    return new Explanation(path, Kind.BINARY, false, lines, Double.NaN, Double.NaN, 1, 0);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Numbers

  /** The numbers that differ and how: the largest differences and where, and the tolerance's verdict. */
  private static final class Numbers {
    final double tolerance;
    double maxAbs = Double.NaN;
    String maxAbsAt;
    double maxRel = Double.NaN;
    String maxRelAt;
    long tolerated;
    long beyond;

    Numbers(double tolerance) {
      this.tolerance = tolerance;
    }

    /** Records a and b (which differ as written) found at {@code where}; true when within the tolerance. */
    boolean add(double a, double b, String where) {
      double abs = Math.abs(a - b);
      double scale = Math.max(Math.abs(a), Math.abs(b));
      double rel = scale == 0 ? 0 : abs / scale;
      if (abs > 0 && !(abs <= maxAbs)) {
        maxAbs = abs;
        maxAbsAt = where;
      }
      if (abs > 0 && !(rel <= maxRel)) {
        maxRel = rel;
        maxRelAt = where;
      }
      boolean within = tolerance > 0 && abs <= tolerance * Math.max(1, scale);
      if (within) {
        tolerated++;
      } else {
        beyond++;
      }
      return within;
    }

    boolean any() {
      return tolerated + beyond > 0;
    }

    /** {@code abs 1.2e-15 (column x, line 7), rel 3.4e-16}; the place of rel only when it is elsewhere. */
    String largest() {
      if (Double.isNaN(maxAbs)) {
        return "abs 0, rel 0 (written differently, equal in value)";
      }
      return "abs " + number(maxAbs) + " (" + maxAbsAt + "), rel " + number(maxRel)
          + (Objects.equals(maxRelAt, maxAbsAt) ? "" : " (" + maxRelAt + ")");
    }
  }

  /** A number as written in a cell, or NaN when the cell is not one (NaN and infinities are not numbers here). */
  static double parseNumber(String cell) {
    if (cell == null) {
      return Double.NaN;
    }
    String s = cell.strip();
    return NUMBER.matcher(s).matches() ? Double.parseDouble(s) : Double.NaN;
  }

  /** For people: 3 significant digits, {@code 0.0625}, {@code 1.2e-15}, {@code 3e7}. */
  static String number(double d) {
    if (d == 0 || Double.isNaN(d) || Double.isInfinite(d)) {
      return d == 0 ? "0" : Double.toString(d);
    }
    double a = Math.abs(d);
    if (a >= 1e-3 && a < 1e7) {
      return new BigDecimal(d).round(new MathContext(3)).stripTrailingZeros().toPlainString();
    }
    String s = String.format(Locale.ROOT, "%.2e", d);
    int e = s.indexOf('e');
    String mantissa = s.substring(0, e).replaceAll("\\.?0+$", "");
    return mantissa + "e" + Integer.parseInt(s.substring(e + 1));
  }

  /** A value for a one-line report: line breaks escaped, at most {@value #SHOWN_CHARS} characters. */
  static String shown(String value) {
    if (value == null) {
      return "(missing)";
    }
    String flat = value.replace("\r", "\\r").replace("\n", "\\n");
    return flat.length() > SHOWN_CHARS ? flat.substring(0, SHOWN_CHARS - 1) + "…" : flat;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Tables

  private static final class Tables {
    /** One cell that differs, for examples. */
    record Cell(long line, String column, String before, String after) {
      @Override
      public String toString() {
        return "line " + line + ", " + column + ": " + shown(before) + " → " + shown(after);
      }
    }

    /** What comparing the cells found. */
    static final class Cells {
      final Numbers numbers;
      final int maxExamples;
      String alignedBy;
      boolean complete = true;
      boolean reordered;
      long changed;
      long changedRows;
      long other;
      final List<Cell> toleratedExamples = new ArrayList<>();
      final List<Cell> beyondExamples = new ArrayList<>();

      Cells(Options options) {
        numbers = new Numbers(options.tolerance());
        maxExamples = options.maxExamples();
      }

      /** Compares one row's shared cells; {@code line} is the row's line in the second table. */
      void row(long line, String[] names, String[] before, String[] after) {
        boolean rowChanged = false;
        for (int i = 0; i < names.length; i++) {
          String a = before[i] == null ? "" : before[i];
          String b = after[i] == null ? "" : after[i];
          if (a.equals(b)) {
            continue;
          }
          rowChanged = true;
          changed++;
          Cell cell = new Cell(line, names[i], before[i], after[i]);
          double x = parseNumber(a);
          double y = parseNumber(b);
          boolean within = !Double.isNaN(x) && !Double.isNaN(y)
              && numbers.add(x, y, "column " + names[i] + ", line " + line);
          if (Double.isNaN(x) || Double.isNaN(y)) {
            other++;
          }
          List<Cell> examples = within ? toleratedExamples : beyondExamples;
          if (examples.size() < maxExamples) {
            examples.add(cell);
          }
        }
        if (rowChanged) {
          changedRows++;
        }
      }
    }

    static Explanation explain(String path, String suffix, Path expected, Path actual, Options options) {
      Path linkDir = null;
      try {
        // TableDiff tells formats by file name; the files given may be named otherwise (a blob, a temp file).
        Path a = expected;
        Path b = actual;
        if (!expected.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(suffix)
            || !actual.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(suffix)) {
          linkDir = Files.createTempDirectory("labenv-output-diff");
          a = Files.createSymbolicLink(linkDir.resolve("expected" + suffix), expected.toAbsolutePath());
          b = Files.createSymbolicLink(linkDir.resolve("actual" + suffix), actual.toAbsolutePath());
        }
        TableDiff diff;
        try {
          diff = TableDiff.compare(a, b);
        } catch (LabenvException e) {
          if (e.kind() != LabenvException.Kind.BAD_INPUT) {
            throw e;
          }
          throw LabenvException.badInput(e.getMessage().replace(a.toString(), "a/" + path)
              .replace(b.toString(), "b/" + path));
        }
        Cells cells = cells(diff, a, b, suffix, options);
        return report(path, diff, cells, options);
      } catch (IOException e) {
        throw LabenvException.failed("cannot compare " + path + " as a table: " + e.getMessage(), e);
      } finally {
        if (linkDir != null) {
          try {
            try (var links = Files.list(linkDir)) {
              for (Path link : links.toList()) {
                Files.delete(link);
              }
            }
            Files.delete(linkDir);
          } catch (IOException e) {
            // A leftover symbolic link in the temp directory harms nothing.
          }
        }
      }
    }

    /** The cells compared by key or by position (see the class comment); null when the rows cannot be aligned. */
    static Cells cells(TableDiff diff, Path a, Path b, String suffix, Options options) {
      List<String> shared = diff.before().columns().stream().map(c -> c.name())
          .filter(n -> diff.after().column(n) != null).toList();
      if (shared.isEmpty()) {
        return null;
      }
      char delimiter = suffix.startsWith(".csv") ? ',' : '\t';
      if (diff.key() != null && size(a) <= KEYED_TABLE_LIMIT) {
        Cells cells = byKey(diff.key(), shared, a, b, delimiter, options);
        if (cells.complete || diff.before().rows() != diff.after().rows()) {
          return cells;
        }
        // Keys that do not match (a noisy number in the key column?) and as many rows: try by position.
      }
      if (diff.before().rows() == diff.after().rows()) {
        return byPosition(shared, a, b, delimiter, options);
      }
      return null;
    }

    static Cells byKey(String key, List<String> shared, Path a, Path b, char delimiter, Options options) {
      Cells cells = new Cells(options);
      cells.alignedBy = "rows matched by " + key;
      String[] names = shared.toArray(String[]::new);
      Map<String, String[]> rows = new HashMap<>();
      Map<String, Long> order = new HashMap<>();
      try (Reader before = new Reader(a, delimiter)) {
        int k = before.position(key);
        int[] positions = before.positions(shared);
        for (String[] row; (row = before.next()) != null; ) {
          String id = keyValue(row[k]);
          order.put(id, (long) order.size());
          rows.put(id, pick(row, positions));
        }
      }
      long last = -1;
      long matched = 0;
      try (Reader after = new Reader(b, delimiter)) {
        int k = after.position(key);
        int[] positions = after.positions(shared);
        for (String[] row; (row = after.next()) != null; ) {
          String id = keyValue(row[k]);
          String[] was = rows.get(id);
          if (was == null) {
            cells.complete = false;
            continue;
          }
          matched++;
          long index = order.get(id);
          cells.reordered |= index < last;
          last = index;
          cells.row(after.line(), names, was, pick(row, positions));
        }
      }
      if (matched != rows.size()) {
        cells.complete = false;
      }
      return cells;
    }

    /** A key cell as TableDiff matches it: numbers by value (3 and 3.0 alike), the rest as written. */
    static String keyValue(String cell) {
      String s = cell == null ? "" : cell;
      if (!Double.isNaN(parseNumber(s))) {
        BigDecimal value = new BigDecimal(s.strip().replaceFirst("^\\+", ""));
        return value.signum() == 0 ? "0" : value.stripTrailingZeros().toPlainString();
      }
      return s;
    }

    static Cells byPosition(List<String> shared, Path a, Path b, char delimiter, Options options) {
      Cells cells = new Cells(options);
      cells.alignedBy = "rows compared by position";
      String[] names = shared.toArray(String[]::new);
      try (Reader before = new Reader(a, delimiter); Reader after = new Reader(b, delimiter)) {
        int[] positionsA = before.positions(shared);
        int[] positionsB = after.positions(shared);
        while (true) {
          String[] x = before.next();
          String[] y = after.next();
          if (x == null || y == null) {
            cells.complete = x == null && y == null;
            return cells;
          }
          cells.row(after.line(), names, pick(x, positionsA), pick(y, positionsB));
        }
      }
    }

    private static String[] pick(String[] row, int[] positions) {
      String[] picked = new String[positions.length];
      for (int i = 0; i < positions.length; i++) {
        picked[i] = positions[i] < row.length ? row[positions[i]] : null;
      }
      return picked;
    }

    static Explanation report(String path, TableDiff diff, Cells cells, Options options) {
      List<String> lines = new ArrayList<>();
      double maxAbs = cells == null ? Double.NaN : cells.numbers.maxAbs;
      double maxRel = cells == null ? Double.NaN : cells.numbers.maxRel;
      long changed = cells == null ? -1 : cells.changed;
      long tolerated = cells == null ? 0 : cells.numbers.tolerated;
      boolean structural = !diff.columnsAdded().isEmpty() || !diff.columnsRemoved().isEmpty();
      boolean within = options.tolerance() > 0 && !structural && cells != null && cells.complete
          && !cells.reordered && cells.changed > 0 && cells.changed == cells.numbers.tolerated;
      if (within) {
        lines.add(cells.changed + (cells.changed == 1 ? " cell" : " cells") + " in " + cells.changedRows
            + (cells.changedRows == 1 ? " row " : " rows ") + (cells.changed == 1 ? "differs" : "differ")
            + " only within tolerance " + number(options.tolerance()) + " (largest " + cells.numbers.largest()
            + "); no other difference, not an exact match");
        cells.toleratedExamples.forEach(c -> lines.add("  " + c));
        if (!diff.columnsRetyped().isEmpty()) {
          lines.add("columns retyped by these numbers: " + String.join(", ", diff.columnsRetyped().stream()
              .map(r -> r.column() + " " + r.before() + " → " + r.after()).toList()));
        }
        return new Explanation(path, Kind.TABLE, true, lines, maxAbs, maxRel, changed, tolerated);
      }
      diff.describe(options.maxExamples()).lines().forEach(lines::add);
      boolean sameRows = !structural && diff.columnsRetyped().isEmpty() && diff.rowsAdded() == 0
          && diff.rowsRemoved() == 0 && diff.rowsChanged() == 0;
      if (cells == null) {
        lines.add("cells: not compared one by one (rows added or removed and no key column to match them by)");
      } else if (sameRows && diff.key() == null && (cells.other > 0 || cells.numbers.maxAbs > 0)) {
        // Rows matched as whole rows are all there: the differences by position are rows that moved.
        lines.add("the same rows in a different order");
        maxAbs = Double.NaN;
        maxRel = Double.NaN;
        changed = -1;
        tolerated = 0;
      } else if (cells.changed == 0) {
        lines.add(structural ? "no cell changed in the columns both tables have"
            : cells.reordered ? "the same cells, rows in a different order"
            : "the same cells: the files differ only in how they are written (quoting, spacing, line endings)");
      } else {
        if (cells.reordered) {
          lines.add("rows are in a different order");
        }
        lines.add("cells: " + cells.changed + " changed in " + cells.changedRows + " row"
            + (cells.changedRows == 1 ? "" : "s") + " (" + cells.alignedBy + ", columns both tables have), "
            + (cells.changed - cells.other) + " numeric, " + cells.other + " not");
        if (cells.numbers.any()) {
          lines.add("largest numeric difference: " + cells.numbers.largest());
        }
        if (options.tolerance() > 0) {
          lines.add("tolerance " + number(options.tolerance()) + ": " + cells.numbers.tolerated
              + " numeric cells within it, " + cells.numbers.beyond + " beyond it, " + cells.other
              + " other cells changed");
          cells.beyondExamples.forEach(c -> lines.add("  beyond: " + c));
        }
      }
      return new Explanation(path, Kind.TABLE, false, lines, maxAbs, maxRel, changed, tolerated);
    }

    private static long size(Path file) {
      try {
        return Files.size(file);
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
    }
  }

  /** CSV or TSV rows, read as TableDiff's reader does (univocity, first record the header). */
  private static final class Reader implements AutoCloseable {
    private final Path file;
    private final CsvParser parser;
    private final List<String> names = new ArrayList<>();
    private String[] row;
    private long endLine;

    Reader(Path file, char delimiter) {
      this.file = file;
      CsvParserSettings settings = new CsvParserSettings();
      settings.getFormat().setDelimiter(delimiter);
      settings.getFormat().setLineSeparator("\n");
      settings.setLineSeparatorDetectionEnabled(true);
      settings.setMaxCharsPerColumn(1 << 20);
      settings.setMaxColumns(100_000);
      settings.setIgnoreLeadingWhitespaces(false);
      settings.setIgnoreTrailingWhitespaces(false);
      parser = new CsvParser(settings);
      parser.beginParsing(new InputStreamReader(open(file), StandardCharsets.UTF_8));
      String[] header = next();
      for (int i = 0; header != null && i < header.length; i++) {
        names.add(header[i] == null || header[i].isBlank() ? "column " + (i + 1) : header[i].strip());
      }
    }

    static InputStream open(Path file) {
      try {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")
            ? new GZIPInputStream(in, 1 << 16) : in;
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
    }

    int position(String name) {
      return names.indexOf(name);
    }

    int[] positions(List<String> columns) {
      return columns.stream().mapToInt(this::position).toArray();
    }

    String[] next() {
      try {
        row = parser.parseNext();
        endLine = parser.getContext().currentLine();
        return row;
      } catch (TextParsingException | IllegalStateException e) {
        throw LabenvException.badInput(file + " line " + (endLine + 1) + ": malformed row");
      }
    }

    /** The line where the last row starts: where it ended, less the line breaks inside its cells. */
    long line() {
      long n = 0;
      for (String cell : row) {
        if (cell != null) {
          n += cell.chars().filter(c -> c == '\n').count();
        }
      }
      return endLine - n;
    }

    @Override
    public void close() {
      parser.stopParsing();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // JSON

  /** Not JSON after all: the caller falls back to text. */
  private static final class JsonUnreadable extends Exception {
    JsonUnreadable(String message) {
      super(message, null, false, false);
    }
  }

  private static final class JsonValues {
    record Change(String kind, String path, JsonNode before, JsonNode after) {
      @Override
      public String toString() {
        return switch (kind) {
          case "added" -> "added " + path + ": " + shown(after.toString());
          case "removed" -> "removed " + path + ": " + shown(before.toString());
          default -> "changed " + path + ": " + shown(before.toString()) + " → " + shown(after.toString());
        };
      }
    }

    final Numbers numbers;
    final int maxExamples;
    long added;
    long removed;
    long changedValues;
    final List<Change> examples = new ArrayList<>();
    final List<Change> toleratedExamples = new ArrayList<>();

    JsonValues(Options options) {
      numbers = new Numbers(options.tolerance());
      maxExamples = options.maxExamples();
    }

    static Explanation explain(String path, Path expected, Path actual, Options options) throws JsonUnreadable {
      JsonNode a = read(expected, "a/" + path);
      JsonNode b = read(actual, "b/" + path);
      JsonValues values = new JsonValues(options);
      values.walk("", a, b);
      long differences = values.added + values.removed + values.changedValues;
      List<String> lines = new ArrayList<>();
      boolean within = options.tolerance() > 0 && differences > 0 && differences == values.numbers.tolerated;
      if (differences == 0) {
        lines.add("the same JSON value: the files differ only in formatting, key order or how numbers are written");
      } else if (within) {
        lines.add(differences + " number" + (differences == 1 ? " differs" : "s differ") + " only within tolerance "
            + number(options.tolerance()) + " (largest " + values.numbers.largest()
            + "); no other difference, not an exact match");
        values.toleratedExamples.forEach(c -> lines.add("  " + c));
      } else {
        lines.add(differences + " path" + (differences == 1 ? " differs" : "s differ") + ": " + values.changedValues
            + " changed, " + values.added + " added, " + values.removed + " removed");
        if (values.numbers.any()) {
          lines.add("largest numeric difference: " + values.numbers.largest());
        }
        if (options.tolerance() > 0) {
          lines.add("tolerance " + number(options.tolerance()) + ": " + values.numbers.tolerated
              + " numbers within it, " + (differences - values.numbers.tolerated) + " other differences");
        }
        values.examples.forEach(c -> lines.add("  " + c));
        long more = differences - values.numbers.tolerated - values.examples.size();
        if (more > 0) {
          lines.add("  … " + more + " more");
        }
      }
      return new Explanation(path, Kind.JSON, within, lines, values.numbers.maxAbs, values.numbers.maxRel,
          differences, values.numbers.tolerated);
    }

    static JsonNode read(Path file, String name) throws JsonUnreadable {
      try {
        if (Files.size(file) > JSON_LIMIT) {
          throw new JsonUnreadable(name + " is over " + (JSON_LIMIT >> 20) + " MiB");
        }
        JsonNode node = Json.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .readTree(Files.readAllBytes(file));
        if (node == null || node.isMissingNode()) {
          throw new JsonUnreadable(name + " is empty");
        }
        return node;
      } catch (JsonProcessingException e) {
        var at = e.getLocation();
        String where = at == null ? "" : " line " + at.getLineNr() + " column " + at.getColumnNr();
        String message = e.getOriginalMessage();
        int end = message.indexOf('\n');
        throw new JsonUnreadable(name + where + ": " + (end < 0 ? message : message.substring(0, end)));
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
    }

    void walk(String path, JsonNode a, JsonNode b) {
      if (a.isObject() && b.isObject()) {
        for (Map.Entry<String, JsonNode> field : a.properties()) {
          JsonNode other = b.get(field.getKey());
          String child = path + "/" + escape(field.getKey());
          if (other == null) {
            removed++;
            example(new Change("removed", child, field.getValue(), null));
          } else {
            walk(child, field.getValue(), other);
          }
        }
        for (Map.Entry<String, JsonNode> field : b.properties()) {
          if (!a.has(field.getKey())) {
            added++;
            example(new Change("added", path + "/" + escape(field.getKey()), null, field.getValue()));
          }
        }
      } else if (a.isArray() && b.isArray()) {
        int shared = Math.min(a.size(), b.size());
        for (int i = 0; i < shared; i++) {
          walk(path + "/" + i, a.get(i), b.get(i));
        }
        for (int i = shared; i < a.size(); i++) {
          removed++;
          example(new Change("removed", path + "/" + i, a.get(i), null));
        }
        for (int i = shared; i < b.size(); i++) {
          added++;
          example(new Change("added", path + "/" + i, null, b.get(i)));
        }
      } else if (a.isNumber() && b.isNumber()) {
        if (a.decimalValue().compareTo(b.decimalValue()) != 0) {
          changedValues++;
          Change change = new Change("changed", path.isEmpty() ? "/" : path, a, b);
          if (numbers.add(a.doubleValue(), b.doubleValue(), path.isEmpty() ? "/" : path)) {
            if (toleratedExamples.size() < maxExamples) {
              toleratedExamples.add(change);
            }
          } else {
            example(change);
          }
        }
      } else if (!a.equals(b)) {
        changedValues++;
        example(new Change("changed", path.isEmpty() ? "/" : path, a, b));
      }
    }

    private void example(Change change) {
      if (examples.size() < maxExamples) {
        examples.add(change);
      }
    }

    /** A key as a JSON pointer token (RFC 6901). */
    private static String escape(String key) {
      return key.replace("~", "~0").replace("/", "~1");
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Bytes

  /** Sizes, hashes and the first differing offset (-1 when the files are identical), in one pass over both. */
  private record Bytes(long sizeA, long sizeB, String sha256A, String sha256B, long firstDifference) {
    static Bytes compare(Path a, Path b) {
      try (InputStream x = Files.newInputStream(a); InputStream y = Files.newInputStream(b)) {
        MessageDigest hashA = MessageDigest.getInstance("SHA-256");
        MessageDigest hashB = MessageDigest.getInstance("SHA-256");
        byte[] bufA = new byte[1 << 16];
        byte[] bufB = new byte[1 << 16];
        long sizeA = 0;
        long sizeB = 0;
        long first = -1;
        int nA = 0;
        int nB = 0;
        while (true) {
          nA = x.readNBytes(bufA, 0, bufA.length);
          nB = y.readNBytes(bufB, 0, bufB.length);
          hashA.update(bufA, 0, nA);
          hashB.update(bufB, 0, nB);
          if (first < 0) {
            int mismatch = java.util.Arrays.mismatch(bufA, 0, nA, bufB, 0, nB);
            if (mismatch >= 0) {
              first = sizeA + mismatch;
            }
          }
          sizeA += nA;
          sizeB += nB;
          if (nA < bufA.length && nB < bufB.length) {
            break;
          }
        }
        return new Bytes(sizeA, sizeB, HexFormat.of().formatHex(hashA.digest()),
            HexFormat.of().formatHex(hashB.digest()), first);
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + a + " or " + b + ": " + e.getMessage(), e);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Text

  /**
   * The two files as text, when they are: UTF-8 without NUL bytes. Small ones are held as lines for a diff;
   * for larger ones only their start was checked.
   */
  private record Texts(Path fileA, Path fileB, boolean text, boolean diffable, List<String> a, List<String> b) {
    // Marks a last line without a line break, so that it differs from the same text with one (NUL is not text).
    static final String NO_NEWLINE = "\0";

    static Texts read(Path a, Path b, Bytes bytes) {
      if (bytes.sizeA() <= TEXT_LIMIT && bytes.sizeB() <= TEXT_LIMIT) {
        String x = decode(a);
        String y = decode(b);
        if (x == null || y == null) {
          return new Texts(a, b, false, false, null, null);
        }
        List<String> la = lines(x);
        List<String> lb = lines(y);
        boolean diffable = la.size() <= TEXT_LINES && lb.size() <= TEXT_LINES;
        return new Texts(a, b, true, diffable, diffable ? la : null, diffable ? lb : null);
      }
      return new Texts(a, b, startsAsText(a) && startsAsText(b), false, null, null);
    }

    boolean looksLikeJson() {
      for (List<String> side : List.of(a, b)) {
        String first = side.stream().map(String::strip).filter(s -> !s.isEmpty()).findFirst().orElse("");
        if (!first.startsWith("{") && !first.startsWith("[")) {
          return false;
        }
      }
      return true;
    }

    private static String decode(Path file) {
      try {
        byte[] data = Files.readAllBytes(file);
        for (byte x : data) {
          if (x == 0) {
            return null;
          }
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        return decoder.decode(ByteBuffer.wrap(data)).toString();
      } catch (CharacterCodingException e) {
        return null;
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
    }

    /** The first 64 KiB are UTF-8 (a character cut at the end allowed) without NUL. */
    static boolean startsAsText(Path file) {
      try (InputStream in = Files.newInputStream(file)) {
        byte[] data = in.readNBytes(1 << 16);
        for (byte x : data) {
          if (x == 0) {
            return false;
          }
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer buffer = ByteBuffer.wrap(data);
        return !decoder.decode(buffer, java.nio.CharBuffer.allocate(data.length), false).isError();
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
    }

    static List<String> lines(String text) {
      List<String> lines = new ArrayList<>();
      int start = 0;
      for (int i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        lines.add(text.substring(start, i));
        start = i + 1;
      }
      if (start < text.length()) {
        lines.add(text.substring(start) + NO_NEWLINE);
      }
      return lines;
    }

    Explanation explain(String path, String first, Bytes bytes) {
      List<String> out = new ArrayList<>();
      if (first != null) {
        out.add(first);
      }
      if (!diffable) {
        return large(path, out, bytes);
      }
      List<String> diff = new ArrayList<>();
      long[] counts = unified(path, a, b, diff);
      out.add("lines: " + a.size() + " → " + b.size() + ", " + counts[0] + " removed, " + counts[1] + " added");
      if (diff.size() > DIFF_OUTPUT_LINES) {
        int more = diff.size() - DIFF_OUTPUT_LINES;
        out.addAll(diff.subList(0, DIFF_OUTPUT_LINES));
        out.add("… " + more + " more lines");
      } else {
        out.addAll(diff);
      }
      return new Explanation(path, Kind.TEXT, false, out, Double.NaN, Double.NaN, counts[0] + counts[1], 0);
    }

    /** Too large to diff: line counts and the first line that differs, in one streaming pass over each. */
    private Explanation large(String path, List<String> out, Bytes bytes) {
      long linesA = 0;
      long linesB = 0;
      long first = -1;
      try (BufferedReader x = reader(fileA); BufferedReader y = reader(fileB)) {
        while (true) {
          String u = x.readLine();
          String v = y.readLine();
          linesA += u != null ? 1 : 0;
          linesB += v != null ? 1 : 0;
          if (first < 0 && !Objects.equals(u, v)) {
            first = Math.max(linesA, linesB);
          }
          if (u == null && v == null) {
            break;
          }
        }
      } catch (IOException | UncheckedIOException e) {
        throw LabenvException.failed("cannot read " + path + ": " + e.getMessage(), e);
      }
      out.add("lines: " + linesA + " → " + linesB + "; too large for a line diff (over " + (TEXT_LIMIT >> 20)
          + " MiB or " + TEXT_LINES + " lines)");
      out.add(first > 0 ? "first differing line: " + first
          : "the same lines: the files differ in line endings or the last line break");
      out.add("size: " + bytes.sizeA() + " → " + bytes.sizeB() + " bytes; sha256 " + bytes.sha256A() + " → "
          + bytes.sha256B());
      return new Explanation(path, Kind.TEXT, false, out, Double.NaN, Double.NaN, -1, 0);
    }

    private static BufferedReader reader(Path file) throws IOException {
      return new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8), 1 << 16);
    }
  }

  /**
   * The unified diff of {@code a} and {@code b} into {@code out} ({@code --- a/PATH}, {@code +++ b/PATH}, hunks
   * with {@value #CONTEXT} lines of context, GNU diff's ranges); returns {lines removed, lines added}.
   */
  static long[] unified(String path, List<String> a, List<String> b, List<String> out) {
    Map<String, Integer> ids = new HashMap<>();
    int[] x = a.stream().mapToInt(s -> ids.computeIfAbsent(s, k -> ids.size())).toArray();
    int[] y = b.stream().mapToInt(s -> ids.computeIfAbsent(s, k -> ids.size())).toArray();
    boolean[] removed = new boolean[x.length];
    boolean[] added = new boolean[y.length];
    new Myers(x, y, removed, added).diff(0, x.length, 0, y.length);
    // The edit script: ' ', '-', '+' with each op's position in a and b before it.
    int n = x.length + y.length;
    char[] ops = new char[n];
    int[] atA = new int[n];
    int[] atB = new int[n];
    int count = 0;
    long removedCount = 0;
    long addedCount = 0;
    for (int i = 0, j = 0; i < x.length || j < y.length; ) {
      atA[count] = i;
      atB[count] = j;
      if (i < x.length && removed[i]) {
        ops[count++] = '-';
        i++;
        removedCount++;
      } else if (j < y.length && added[j]) {
        ops[count++] = '+';
        j++;
        addedCount++;
      } else {
        ops[count++] = ' ';
        i++;
        j++;
      }
    }
    if (removedCount + addedCount == 0) {
      return new long[] {0, 0};
    }
    out.add("--- a/" + path);
    out.add("+++ b/" + path);
    int i = 0;
    while (i < count) {
      while (i < count && ops[i] == ' ') {
        i++;
      }
      if (i == count) {
        break;
      }
      int start = Math.max(0, i - CONTEXT);
      int j = i;
      int end;
      while (true) {
        while (j < count && ops[j] != ' ') {
          j++;
        }
        end = j;
        int k = j;
        while (k < count && ops[k] == ' ') {
          k++;
        }
        if (k < count && k - j <= 2 * CONTEXT) {
          j = k;
          continue;
        }
        break;
      }
      int stop = Math.min(count, end + CONTEXT);
      int linesA = 0;
      int linesB = 0;
      for (int k = start; k < stop; k++) {
        linesA += ops[k] != '+' ? 1 : 0;
        linesB += ops[k] != '-' ? 1 : 0;
      }
      out.add("@@ -" + range(atA[start], linesA) + " +" + range(atB[start], linesB) + " @@");
      for (int k = start; k < stop; k++) {
        String line = ops[k] == '+' ? b.get(atB[k]) : a.get(atA[k]);
        boolean noNewline = line.endsWith(Texts.NO_NEWLINE);
        out.add(ops[k] + (noNewline ? line.substring(0, line.length() - 1) : line));
        if (noNewline) {
          out.add("\\ No newline at end of file");
        }
      }
      i = stop;
    }
    return new long[] {removedCount, addedCount};
  }

  /** GNU diff's hunk range: {@code l,n}, {@code l} when n is 1, and the line before when n is 0. */
  private static String range(int start, int lines) {
    if (lines == 1) {
      return Integer.toString(start + 1);
    }
    return (lines == 0 ? start : start + 1) + "," + lines;
  }

  /**
   * Myers' O((N+M)D) difference algorithm in linear space (the middle-snake divide and conquer, Myers 1986,
   * section 4b): marks the lines of a removed and the lines of b added by a shortest edit script.
   */
  private static final class Myers {
    private final int[] a;
    private final int[] b;
    private final boolean[] removed;
    private final boolean[] added;
    private final int[] forward;
    private final int[] backward;
    private final int offset;

    Myers(int[] a, int[] b, boolean[] removed, boolean[] added) {
      this.a = a;
      this.b = b;
      this.removed = removed;
      this.added = added;
      offset = a.length + b.length + 1;
      forward = new int[2 * offset + 1];
      backward = new int[2 * offset + 1];
    }

    void diff(int aLo, int aHi, int bLo, int bHi) {
      while (aLo < aHi && bLo < bHi && a[aLo] == b[bLo]) {
        aLo++;
        bLo++;
      }
      while (aLo < aHi && bLo < bHi && a[aHi - 1] == b[bHi - 1]) {
        aHi--;
        bHi--;
      }
      if (aLo == aHi) {
        for (int j = bLo; j < bHi; j++) {
          added[j] = true;
        }
        return;
      }
      if (bLo == bHi) {
        for (int i = aLo; i < aHi; i++) {
          removed[i] = true;
        }
        return;
      }
      int[] snake = middleSnake(aLo, aHi, bLo, bHi);
      diff(aLo, snake[0], bLo, snake[1]);
      diff(snake[2], aHi, snake[3], bHi);
    }

    /**
     * The middle snake of an optimal path from (aLo, bLo) to (aHi, bHi): {x, y, u, v}, from (x, y) to (u, v),
     * with at least one edit on each side of it (the ends are trimmed of common lines, so D ≥ 2).
     */
    private int[] middleSnake(int aLo, int aHi, int bLo, int bHi) {
      int n = aHi - aLo;
      int m = bHi - bLo;
      int delta = n - m;
      boolean odd = (delta & 1) != 0;
      int max = (n + m + 1) / 2;
      // forward[k]: the furthest x on diagonal k = x - y from the start; backward[k]: the furthest distance
      // from the end on reverse diagonal k = (n - x) - (m - y).
      forward[offset + 1] = 0;
      backward[offset + 1] = 0;
      for (int d = 0; d <= max; d++) {
        for (int k = -d; k <= d; k += 2) {
          int x = k == -d || (k != d && forward[offset + k - 1] < forward[offset + k + 1])
              ? forward[offset + k + 1] : forward[offset + k - 1] + 1;
          int y = x - k;
          int x0 = x;
          int y0 = y;
          while (x < n && y < m && a[aLo + x] == b[bLo + y]) {
            x++;
            y++;
          }
          forward[offset + k] = x;
          int reverse = delta - k;
          if (odd && reverse >= -(d - 1) && reverse <= d - 1 && x + backward[offset + reverse] >= n) {
            return new int[] {aLo + x0, bLo + y0, aLo + x, bLo + y};
          }
        }
        for (int k = -d; k <= d; k += 2) {
          int x = k == -d || (k != d && backward[offset + k - 1] < backward[offset + k + 1])
              ? backward[offset + k + 1] : backward[offset + k - 1] + 1;
          int y = x - k;
          int x0 = x;
          int y0 = y;
          while (x < n && y < m && a[aHi - 1 - x] == b[bHi - 1 - y]) {
            x++;
            y++;
          }
          backward[offset + k] = x;
          int ahead = delta - k;
          if (!odd && ahead >= -d && ahead <= d && x + forward[offset + ahead] >= n) {
            return new int[] {aHi - x, bHi - y, aHi - x0, bHi - y0};
          }
        }
      }
      throw new IllegalStateException("no middle snake between " + n + " and " + m + " lines");
    }
  }
}
