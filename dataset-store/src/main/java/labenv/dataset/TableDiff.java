package labenv.dataset;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import it.unimi.dsi.fastutil.longs.Long2IntOpenHashMap;
import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import it.unimi.dsi.fastutil.longs.Long2ObjectLinkedOpenHashMap;
import it.unimi.dsi.fastutil.longs.Long2ObjectMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * How one table differs from another: the columns added, removed and retyped, and the rows added, removed and
 * changed, with a few examples of each, for {@code dataset diff}.
 *
 * <p>Rows are compared on the columns both tables have, cell by cell as values: 3 and 3.0 are equal, "T" and
 * "true" in a boolean column too (see {@link ColumnTypes#canonical}); a row that differs only in an added
 * column is not changed.
 *
 * <p>Matching rows: by a key column when one is evident, else by whole-row content. The key is the first
 * column, among those both tables have, that is named like a key (id, key, uuid, pk, or ending in _id, -id,
 * " id", Id, ID, _key, Key; in the first table's order), else the first column of the first table; and that
 * has a value in every row and no value twice, in both tables. With no such column, rows are matched as
 * whole rows (a multiset): an edited row then counts as one removed and one added, and {@code rowsChanged} is 0.
 *
 * <p>Memory: neither table is held. One pass over each table builds a map from 64-bit key hashes to 64-bit
 * row hashes (about 40 bytes per key: tens of millions of rows fit in a default heap), and a second pass over
 * the first table picks the examples. 64-bit hashes can collide: at 10^7 rows the chance that two different
 * keys or rows look equal is about one in 10^5 per comparison, small next to a diff's purpose.
 *
 * @param key the key column the rows were matched by, or null when matched by whole rows
 * @param before the first table's summary (types, rows); {@code after} the second's
 */
public record TableDiff(List<String> columnsAdded, List<String> columnsRemoved, List<Retyped> columnsRetyped,
    long rowsAdded, long rowsRemoved, long rowsChanged, List<RowExample> examples, String key,
    TableSummary before, TableSummary after) {

  /** A column both tables have, with a different type in each. */
  public record Retyped(String column, String before, String after) {}

  /**
   * One row that was added, removed or changed.
   *
   * @param kind added, removed or changed
   * @param key the row's key cell, or null when rows are matched by content
   * @param line the row's line in the second table (added, changed) or the first (removed)
   * @param cells every cell of an added or removed row; the cells that differ of a changed one
   */
  public record RowExample(String kind, String key, long line, List<CellChange> cells) {}

  /** A cell's value before and after; null when missing, or when the row or column is not on that side. */
  public record CellChange(String column, String before, String after) {}

  /** Examples kept of each kind. */
  static final int EXAMPLES = 5;

  private static final Pattern KEY_NAME =
      Pattern.compile("(?i:id|key|uuid|pk)|.*(?i:[_\\- ](id|key))|.*[a-z](Id|ID|Key)");
  private static final HashFunction HASH = Hashing.farmHashFingerprint64();
  // Values of the key map that are not row hashes: a key of the first table found in the second, a key only
  // in the second. A row hash equal to one of them is moved aside (see rowHash).
  private static final long MATCHED = Long.MIN_VALUE;
  private static final long ADDED = Long.MIN_VALUE + 1;

  public TableDiff {
    columnsAdded = List.copyOf(columnsAdded);
    columnsRemoved = List.copyOf(columnsRemoved);
    columnsRetyped = List.copyOf(columnsRetyped);
    examples = List.copyOf(examples);
  }

  /**
   * Compares the table in {@code a} (before) with the one in {@code b} (after).
   *
   * @throws LabenvException bad input when either is not a table labenv reads, or is malformed
   */
  public static TableDiff compare(Path a, Path b) {
    Side before = Side.of(a);
    Side after = Side.of(b);
    List<String> added = after.names().stream().filter(n -> !before.names().contains(n)).toList();
    List<String> removed = before.names().stream().filter(n -> !after.names().contains(n)).toList();
    List<String> shared = before.names().stream().filter(after.names()::contains).toList();
    List<Retyped> retyped = new ArrayList<>();
    for (String name : shared) {
      String from = before.summary.column(name).type();
      String to = after.summary.column(name).type();
      if (!from.equals(to)) {
        retyped.add(new Retyped(name, from, to));
      }
    }
    Rows rows = null;
    String key = null;
    for (String candidate : keyCandidates(before, after, shared)) {
      rows = byKey(before, after, shared, candidate);
      if (rows != null) {
        key = candidate;
        break;
      }
    }
    if (rows == null) {
      rows = byContent(before, after, shared);
    }
    return new TableDiff(added, removed, retyped, rows.added, rows.removed, rows.changed, rows.examples(), key,
        before.summary, after.summary);
  }

  /** Key columns to try, best first (see the class comment). */
  static List<String> keyCandidates(Side before, Side after, List<String> shared) {
    Set<String> candidates = new LinkedHashSet<>();
    for (String name : shared) {
      if (KEY_NAME.matcher(name).matches()) {
        candidates.add(name);
      }
    }
    if (!before.names().isEmpty() && shared.contains(before.names().get(0))) {
      candidates.add(before.names().get(0));
    }
    // A column with a missing cell, or fewer distinct values than rows, cannot be a key: skip it without a pass.
    candidates.removeIf(name -> !possibleKey(before.summary, name) || !possibleKey(after.summary, name));
    return List.copyOf(candidates);
  }

  private static boolean possibleKey(TableSummary table, String name) {
    ColumnSummary column = table.column(name);
    return column.nulls() == 0
        && (column.distinct() == null || column.distinctEstimated() || column.distinct() == table.rows());
  }

  /** Rows matched by {@code key}; null when a key is missing or repeated after all (then try another). */
  private static Rows byKey(Side before, Side after, List<String> shared, String key) {
    Long2LongOpenHashMap rows = new Long2LongOpenHashMap((int) Math.min(before.summary.rows(), 1 << 28));
    int keyA = before.position(key);
    int keyB = after.position(key);
    int[] sharedA = before.positions(shared);
    int[] sharedB = after.positions(shared);
    try (TableSource source = before.open()) {
      for (String[] row; (row = source.next()) != null; ) {
        long k = before.cellHash(row, keyA);
        if (rows.containsKey(k)) {
          return null;
        }
        rows.put(k, before.rowHash(row, sharedA));
      }
    }
    Rows result = new Rows();
    Long2ObjectMap<RowExample> changedAfter = new Long2ObjectLinkedOpenHashMap<>();
    try (TableSource source = after.open()) {
      for (String[] row; (row = source.next()) != null; ) {
        long k = after.cellHash(row, keyB);
        if (!rows.containsKey(k)) {
          rows.put(k, ADDED);
          result.added++;
          if (result.addedExamples.size() < EXAMPLES) {
            result.addedExamples.add(after.example("added", cell(row, keyB), source.line(), row, false));
          }
          continue;
        }
        long seen = rows.get(k);
        if (seen == MATCHED || seen == ADDED) {
          return null;
        }
        if (seen != after.rowHash(row, sharedB)) {
          result.changed++;
          if (changedAfter.size() < EXAMPLES) {
            changedAfter.put(k, after.example("changed", cell(row, keyB), source.line(), row, false));
          }
        }
        rows.put(k, MATCHED);
      }
    }
    for (long value : rows.values()) {
      if (value != MATCHED && value != ADDED) {
        result.removed++;
      }
    }
    if (result.removed == 0 && changedAfter.isEmpty()) {
      return result;
    }
    Long2ObjectMap<RowExample> changedBefore = new Long2ObjectLinkedOpenHashMap<>();
    try (TableSource source = before.open()) {
      for (String[] row; (row = source.next()) != null; ) {
        long k = before.cellHash(row, keyA);
        long value = rows.get(k);
        if (value != MATCHED && value != ADDED && result.removedExamples.size() < EXAMPLES) {
          result.removedExamples.add(before.example("removed", cell(row, keyA), source.line(), row, true));
        } else if (changedAfter.containsKey(k)) {
          changedBefore.put(k, before.example("changed", cell(row, keyA), source.line(), row, true));
        }
      }
    }
    for (Long2ObjectMap.Entry<RowExample> entry : changedAfter.long2ObjectEntrySet()) {
      result.changedExamples.add(changed(entry.getValue(), changedBefore.get(entry.getLongKey()), before, after,
          shared));
    }
    return result;
  }

  /** Rows matched as whole rows: a multiset of row hashes. */
  private static Rows byContent(Side before, Side after, List<String> shared) {
    Long2IntOpenHashMap counts = new Long2IntOpenHashMap();
    int[] sharedA = before.positions(shared);
    int[] sharedB = after.positions(shared);
    try (TableSource source = before.open()) {
      for (String[] row; (row = source.next()) != null; ) {
        counts.addTo(before.rowHash(row, sharedA), 1);
      }
    }
    Rows result = new Rows();
    try (TableSource source = after.open()) {
      for (String[] row; (row = source.next()) != null; ) {
        long h = after.rowHash(row, sharedB);
        if (counts.get(h) > 0) {
          counts.addTo(h, -1);
        } else {
          result.added++;
          if (result.addedExamples.size() < EXAMPLES) {
            result.addedExamples.add(after.example("added", null, source.line(), row, false));
          }
        }
      }
    }
    for (int count : counts.values()) {
      result.removed += count;
    }
    if (result.removed > 0) {
      try (TableSource source = before.open()) {
        for (String[] row; (row = source.next()) != null && result.removedExamples.size() < EXAMPLES; ) {
          long h = before.rowHash(row, sharedA);
          if (counts.get(h) > 0) {
            counts.addTo(h, -1);
            result.removedExamples.add(before.example("removed", null, source.line(), row, true));
          }
        }
      }
    }
    return result;
  }

  /** The changed cells of a row, from its two examples (every cell, before and after). */
  private static RowExample changed(RowExample after, RowExample before, Side a, Side b, List<String> shared) {
    List<CellChange> cells = new ArrayList<>();
    for (String name : shared) {
      String was = value(before, name);
      String is = value(after, name);
      int typeA = ColumnTypes.named(a.summary.column(name).type());
      int typeB = ColumnTypes.named(b.summary.column(name).type());
      if (!Objects.equals(ColumnTypes.canonical(typeA, was), ColumnTypes.canonical(typeB, is))) {
        cells.add(new CellChange(name, was, is));
      }
    }
    return new RowExample("changed", after.key(), after.line(), cells);
  }

  private static String value(RowExample example, String column) {
    for (CellChange cell : example.cells()) {
      if (cell.column().equals(column)) {
        return cell.before() != null ? cell.before() : cell.after();
      }
    }
    return null;
  }

  private static String cell(String[] row, int position) {
    return position < row.length ? row[position] : null;
  }

  /**
   * For people: {@code rows: 3 added, 1 removed, 2 changed (matched by id)}, {@code columns: +score (double),
   * -old; retyped: age integer → double}, then up to {@code examples} rows of each kind with their cells.
   */
  public String describe(int examples) {
    StringBuilder out = new StringBuilder();
    out.append("rows: ").append(before.rows()).append(" → ").append(after.rows()).append(": ")
        .append(rowsAdded).append(" added, ").append(rowsRemoved).append(" removed, ");
    if (key != null) {
      out.append(rowsChanged).append(" changed (rows matched by ").append(key).append(")\n");
    } else {
      out.append("(no key column: rows matched as a whole, an edited row counts as removed and added)\n");
    }
    out.append("columns: ");
    List<String> parts = new ArrayList<>();
    columnsAdded.forEach(c -> parts.add("+" + c + " (" + after.column(c).type() + ")"));
    columnsRemoved.forEach(c -> parts.add("-" + c));
    out.append(parts.isEmpty() ? "none added or removed" : String.join(", ", parts));
    if (!columnsRetyped.isEmpty()) {
      out.append("; retyped: ");
      out.append(String.join(", ",
          columnsRetyped.stream().map(r -> r.column() + " " + r.before() + " → " + r.after()).toList()));
    }
    out.append('\n');
    for (String kind : List.of("changed", "added", "removed")) {
      this.examples.stream().filter(e -> e.kind().equals(kind)).limit(examples).forEach(e -> {
        out.append("  ").append(kind).append(' ');
        out.append(e.key() != null ? key + "=" + shown(e.key()) : "row").append(" (line ").append(e.line())
            .append("): ");
        out.append(String.join(", ", e.cells().stream().map(c -> kind.equals("changed")
            ? c.column() + " " + shown(c.before()) + " → " + shown(c.after())
            : c.column() + "=" + shown(kind.equals("added") ? c.after() : c.before())).toList()));
        out.append('\n');
      });
    }
    return out.toString();
  }

  private static String shown(String value) {
    if (value == null) {
      return "(missing)";
    }
    String flat = value.replace("\n", "\\n");
    return flat.length() > 40 ? flat.substring(0, 39) + "…" : flat;
  }

  private static final class Rows {
    long added;
    long removed;
    long changed;
    final List<RowExample> addedExamples = new ArrayList<>();
    final List<RowExample> removedExamples = new ArrayList<>();
    final List<RowExample> changedExamples = new ArrayList<>();

    List<RowExample> examples() {
      List<RowExample> all = new ArrayList<>(changedExamples);
      all.addAll(addedExamples);
      all.addAll(removedExamples);
      return all;
    }
  }

  /** One of the two tables: where it is, how to read it, its columns' names and types by position. */
  record Side(Path file, TableFormat format, TableSummary summary, List<String> names, int[] types) {
    static Side of(Path file) {
      TableSummary summary = TableSummary.of(file);
      if (summary == null) {
        throw LabenvException.badInput(file + ": not a table labenv compares (csv, tsv, jsonl, optionally .gz)");
      }
      return new Side(file, TableFormat.of(file), summary,
          summary.columns().stream().map(ColumnSummary::name).toList(),
          summary.columns().stream().mapToInt(c -> ColumnTypes.named(c.type())).toArray());
    }

    int position(String name) {
      return names.indexOf(name);
    }

    int[] positions(List<String> columns) {
      return columns.stream().mapToInt(this::position).toArray();
    }

    TableSource open() {
      return TableSource.open(file, format);
    }

    long cellHash(String[] row, int position) {
      String value = ColumnTypes.canonical(types[position], cell(row, position));
      return HASH.hashUnencodedChars(value == null ? "" : value).asLong();
    }

    /** The hash of the row's values at {@code positions} (the shared columns, in the first table's order). */
    long rowHash(String[] row, int[] positions) {
      Hasher hasher = HASH.newHasher();
      for (int position : positions) {
        String value = ColumnTypes.canonical(types[position], cell(row, position));
        if (value == null) {
          hasher.putInt(-1);
        } else {
          hasher.putInt(value.length()).putUnencodedChars(value);
        }
      }
      long hash = hasher.hash().asLong();
      return hash == MATCHED || hash == ADDED ? hash + 2 : hash;
    }

    RowExample example(String kind, String key, long line, String[] row, boolean isBefore) {
      List<CellChange> cells = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        String value = cell(row, i);
        cells.add(isBefore ? new CellChange(names.get(i), value, null) : new CellChange(names.get(i), null, value));
      }
      return new RowExample(kind, key, line, cells);
    }
  }
}
