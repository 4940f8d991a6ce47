package labenv.dataset;

/**
 * One column's summary accumulated cell by cell in one streaming pass. The column's type can only move
 * later in {@link ColumnTypes}'s list: when a cell does not read as the current type, the type moves on to
 * the first that reads it, and if values were already counted under the old type the pass must be run again
 * with the new type ({@link #retyped()}), since those values were never checked against it.
 */
final class ColumnStats {
  private final String name;
  private int type;
  private boolean retyped;
  private long values;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private Comparable<Object> earliest;
  private Comparable<Object> latest;
  private DistinctCount distinct;
  private final int distinctLimit;

  /** {@code type} is the type a previous pass settled on, or -1 to start from the first cell. */
  ColumnStats(String name, int type, int distinctLimit) {
    this.name = name;
    this.type = type;
    this.distinctLimit = distinctLimit;
  }

  int type() {
    return type < 0 ? ColumnTypes.TEXT : type;
  }

  boolean retyped() {
    return retyped;
  }

  @SuppressWarnings("unchecked")
  void add(String cell) {
    if (ColumnTypes.missing(cell)) {
      return;
    }
    if (type < 0 || !ColumnTypes.reads(type, cell)) {
      type = ColumnTypes.firstReading(Math.max(type, 0), cell);
      retyped |= values > 0;
    }
    values++;
    if (retyped) {
      return;
    }
    if (ColumnTypes.numeric(type)) {
      double d = ColumnTypes.parser(type).parseDouble(cell);
      sum += d;
      min = Math.min(min, d);
      max = Math.max(max, d);
    } else if (ColumnTypes.temporal(type)) {
      Comparable<Object> value = (Comparable<Object>) ColumnTypes.temporal(type, cell);
      if (earliest == null || value.compareTo(earliest) < 0) {
        earliest = value;
      }
      if (latest == null || value.compareTo(latest) > 0) {
        latest = value;
      }
    } else {
      if (distinct == null) {
        distinct = new DistinctCount(distinctLimit);
      }
      distinct.add(ColumnTypes.canonical(type, cell));
    }
  }

  ColumnSummary summary(long rows) {
    int t = type();
    boolean numeric = ColumnTypes.numeric(t);
    boolean temporal = ColumnTypes.temporal(t);
    boolean counted = !numeric && !temporal;
    return new ColumnSummary(name, ColumnTypes.name(t), rows, rows - values,
        numeric && values > 0 ? min : null,
        numeric && values > 0 ? max : null,
        numeric && values > 0 ? sum / values : null,
        counted ? (distinct == null ? 0L : distinct.count()) : null,
        counted && distinct != null && !distinct.exact(),
        earliest == null ? null : earliest.toString(),
        latest == null ? null : latest.toString());
  }
}
