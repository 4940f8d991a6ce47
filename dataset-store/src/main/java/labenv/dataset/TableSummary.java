package labenv.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import tech.tablesaw.api.DateColumn;
import tech.tablesaw.api.DateTimeColumn;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.TimeColumn;
import tech.tablesaw.columns.Column;

/**
 * A table file as {@code dataset show} describes it: its format, rows, and a summary per column.
 *
 * <p>Formats, by extension: {@code .csv}, {@code .tsv}/{@code .tab} (first line the header), {@code .jsonl}/
 * {@code .ndjson} (one object per line; columns are the keys in order of first appearance), each also
 * gzip-compressed ({@code .csv.gz}...). Parquet is not read: the only tablesaw reader on Maven Central pulls
 * in Hadoop (about 60 MiB in 120 jars).
 *
 * <p>Types are tablesaw's detection over every row: the first of datetime, time, date, boolean, integer, long,
 * double, text that reads every non-missing cell of the column.
 *
 * <p>Memory: a file up to {@value #IN_MEMORY_LIMIT} bytes is read into tablesaw columns and summarised by them;
 * a larger one in a streaming pass over its rows, in bounded memory: distinct counts are exact up to
 * {@value DistinctCount#EXACT_LIMIT} values per text column (fewer in tables of over 20 columns: 2,000,000 over
 * the table, about 40 MiB), then a 16 KiB HyperLogLog estimate per column. A column whose
 * type turns out wider than its first rows said (an integer column with "1.5" on row 2,000,000) costs the
 * streaming path one more pass.
 */
public record TableSummary(String format, long rows, List<ColumnSummary> columns) {
  /** Files up to this size are summarised in memory by tablesaw, larger ones by streaming. */
  static final long IN_MEMORY_LIMIT = 16L << 20;
  /** Rows read to guess the types before the streaming pass, so that most files need one pass. */
  private static final long SAMPLE_ROWS = 10_000;

  public TableSummary {
    columns = List.copyOf(columns);
  }

  /** The column named {@code name}, or null. */
  public ColumnSummary column(String name) {
    for (ColumnSummary c : columns) {
      if (c.name().equals(name)) {
        return c;
      }
    }
    return null;
  }

  /**
   * The summary of {@code file}, or null when it is not a table labenv reads (by extension).
   *
   * @throws LabenvException bad input naming the file and line for a malformed table
   */
  public static TableSummary of(Path file) {
    return of(file, IN_MEMORY_LIMIT);
  }

  static TableSummary of(Path file, long inMemoryLimit) {
    TableFormat format = TableFormat.of(file);
    if (format == null) {
      return null;
    }
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such file");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
    return size <= inMemoryLimit ? inMemory(file, format) : streaming(file, format);
  }

  /** The final type of each column (in the order the file shows them): a full pass, twice if a type widens. */
  static int[] types(Path file, TableFormat format) {
    int[] types = guess(file, format);
    while (true) {
      Pass pass = pass(file, format, types, Long.MAX_VALUE);
      if (!pass.retyped()) {
        return pass.types();
      }
      types = pass.types();
    }
  }

  static TableSummary streaming(Path file, TableFormat format) {
    int[] types = guess(file, format);
    while (true) {
      Pass pass = pass(file, format, types, Long.MAX_VALUE);
      if (!pass.retyped()) {
        return pass.summary(format);
      }
      types = pass.types();
    }
  }

  private static int[] guess(Path file, TableFormat format) {
    return pass(file, format, new int[0], SAMPLE_ROWS).types();
  }

  private record Pass(long rows, List<ColumnStats> columns) {
    boolean retyped() {
      return columns.stream().anyMatch(ColumnStats::retyped);
    }

    int[] types() {
      return columns.stream().mapToInt(ColumnStats::type).toArray();
    }

    TableSummary summary(TableFormat format) {
      return new TableSummary(format.label(), rows, columns.stream().map(c -> c.summary(rows)).toList());
    }
  }

  private static Pass pass(Path file, TableFormat format, int[] types, long maxRows) {
    List<ColumnStats> stats = new ArrayList<>();
    long rows = 0;
    try (TableSource source = TableSource.open(file, format)) {
      String[] row;
      while (rows < maxRows && (row = source.next()) != null) {
        List<String> columns = source.columns();
        while (stats.size() < columns.size()) {
          int i = stats.size();
          stats.add(new ColumnStats(columns.get(i), i < types.length ? types[i] : -1,
              DistinctCount.limit(columns.size())));
        }
        for (int i = 0; i < row.length; i++) {
          stats.get(i).add(row[i]);
        }
        rows++;
      }
      // A header with no rows still names its columns.
      List<String> columns = source.columns();
      while (stats.size() < columns.size()) {
        int i = stats.size();
        stats.add(new ColumnStats(columns.get(i), i < types.length ? types[i] : -1,
              DistinctCount.limit(columns.size())));
      }
    }
    return new Pass(rows, stats);
  }

  /** tablesaw's own columns and statistics; files small enough to hold whole. */
  static TableSummary inMemory(Path file, TableFormat format) {
    int[] types = types(file, format);
    List<Column<?>> columns = new ArrayList<>();
    long rows = 0;
    try (TableSource source = TableSource.open(file, format)) {
      for (int i = 0; i < source.columns().size(); i++) {
        columns.add(ColumnTypes.columnType(types[i]).create(source.columns().get(i)));
      }
      String[] row;
      while ((row = source.next()) != null) {
        for (int i = 0; i < columns.size(); i++) {
          String cell = i < row.length ? row[i] : null;
          if (ColumnTypes.missing(cell)) {
            columns.get(i).appendMissing();
          } else {
            columns.get(i).appendCell(cell, ColumnTypes.parser(types[i]));
          }
        }
        // JSON lines: a column first seen now was missing in every row before.
        for (int i = columns.size(); i < source.columns().size(); i++) {
          Column<?> column = ColumnTypes.columnType(types[i]).create(source.columns().get(i));
          for (long r = 0; r < rows; r++) {
            column.appendMissing();
          }
          column.appendCell(row[i], ColumnTypes.parser(types[i]));
          columns.add(column);
        }
        rows++;
      }
    }
    List<ColumnSummary> summaries = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      summaries.add(summary(columns.get(i), types[i], rows));
    }
    return new TableSummary(format.label(), rows, summaries);
  }

  private static ColumnSummary summary(Column<?> column, int type, long rows) {
    long nulls = column.countMissing();
    long values = rows - nulls;
    String name = ColumnTypes.name(type);
    if (column instanceof NumericColumn<?> numbers) {
      boolean any = values > 0;
      return new ColumnSummary(column.name(), name, rows, nulls, any ? numbers.min() : null,
          any ? numbers.max() : null, any ? numbers.sum() / values : null, null, false, null, null);
    }
    if (ColumnTypes.temporal(type)) {
      Object earliest = null;
      Object latest = null;
      if (values > 0) {
        if (column instanceof DateColumn dates) {
          earliest = dates.min();
          latest = dates.max();
        } else if (column instanceof DateTimeColumn dateTimes) {
          earliest = dateTimes.min();
          latest = dateTimes.max();
        } else if (column instanceof TimeColumn times) {
          earliest = times.min();
          latest = times.max();
        }
      }
      return new ColumnSummary(column.name(), name, rows, nulls, null, null, null, null, false,
          earliest == null ? null : earliest.toString(), latest == null ? null : latest.toString());
    }
    return new ColumnSummary(column.name(), name, rows, nulls, null, null, null,
        (long) column.removeMissing().countUnique(), false, null, null);
  }
}
