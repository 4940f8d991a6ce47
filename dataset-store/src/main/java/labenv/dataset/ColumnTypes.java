package labenv.dataset;

import java.time.LocalDate;
import java.time.YearMonth;
import java.util.List;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.columns.AbstractColumnParser;
import tech.tablesaw.columns.booleans.BooleanColumnType;
import tech.tablesaw.columns.dates.DateColumnType;
import tech.tablesaw.columns.datetimes.DateTimeColumnType;
import tech.tablesaw.columns.numbers.DoubleColumnType;
import tech.tablesaw.columns.numbers.IntColumnType;
import tech.tablesaw.columns.numbers.LongColumnType;
import tech.tablesaw.columns.strings.StringColumnType;
import tech.tablesaw.columns.times.TimeColumnType;

/**
 * The column types labenv detects: tablesaw's default detection list, in its order, with its parsers.
 * A column's type is the first in the list whose parser reads every non-missing cell (tablesaw's rule);
 * a column with no values at all is text. Missing cells are tablesaw's: empty, NA, N/A, NaN, null, *.
 */
final class ColumnTypes {
  static final int DATETIME = 0;
  static final int TIME = 1;
  static final int DATE = 2;
  static final int BOOLEAN = 3;
  static final int INTEGER = 4;
  static final int LONG = 5;
  static final int DOUBLE = 6;
  static final int TEXT = 7;

  private static final List<ColumnType> TYPES = List.of(ColumnType.LOCAL_DATE_TIME, ColumnType.LOCAL_TIME,
      ColumnType.LOCAL_DATE, ColumnType.BOOLEAN, ColumnType.INTEGER, ColumnType.LONG, ColumnType.DOUBLE,
      ColumnType.STRING);
  private static final List<AbstractColumnParser<?>> PARSERS = List.of(DateTimeColumnType.DEFAULT_PARSER,
      TimeColumnType.DEFAULT_PARSER, DateColumnType.DEFAULT_PARSER, BooleanColumnType.DEFAULT_PARSER,
      IntColumnType.DEFAULT_PARSER, LongColumnType.DEFAULT_PARSER, DoubleColumnType.DEFAULT_PARSER,
      StringColumnType.DEFAULT_PARSER);
  private static final List<String> NAMES =
      List.of("datetime", "time", "date", "boolean", "integer", "long", "double", "text");

  private ColumnTypes() {}

  static boolean missing(String cell) {
    return PARSERS.get(TEXT).isMissing(cell);
  }

  /** The first type at or after {@code from} whose parser reads {@code cell} (text reads anything). */
  static int firstReading(int from, String cell) {
    for (int t = from; t < TEXT; t++) {
      if (PARSERS.get(t).canParse(cell)) {
        return t;
      }
    }
    return TEXT;
  }

  static boolean reads(int type, String cell) {
    return type == TEXT || (type == DATE && isoDate(cell) != null) || PARSERS.get(type).canParse(cell);
  }

  /** A date, time or datetime cell's value (tablesaw's parser tries many patterns: ISO dates go first). */
  static Object temporal(int type, String cell) {
    Object date = type == DATE ? isoDate(cell) : null;
    return date != null ? date : PARSERS.get(type).parse(cell);
  }

  /** {@code yyyy-MM-dd} read by hand: tablesaw reads the same date, ten times slower. Null when not one. */
  private static LocalDate isoDate(String cell) {
    if (cell.length() != 10 || cell.charAt(4) != '-' || cell.charAt(7) != '-') {
      return null;
    }
    int year = digits(cell, 0, 4);
    int month = digits(cell, 5, 7);
    int day = digits(cell, 8, 10);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > YearMonth.of(year, month).lengthOfMonth()) {
      return null;
    }
    return LocalDate.of(year, month, day);
  }

  private static int digits(String s, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  static AbstractColumnParser<?> parser(int type) {
    return PARSERS.get(type);
  }

  static ColumnType columnType(int type) {
    return TYPES.get(type);
  }

  /** The type's name as people read it: integer, long, double, boolean, date, time, datetime, text. */
  static String name(int type) {
    return NAMES.get(type);
  }

  /** The type named {@code name} (as {@link #name} writes it). */
  static int named(String name) {
    int type = NAMES.indexOf(name);
    if (type < 0) {
      throw new IllegalArgumentException("no column type " + name);
    }
    return type;
  }

  static boolean numeric(int type) {
    return type == INTEGER || type == LONG || type == DOUBLE;
  }

  static boolean temporal(int type) {
    return type == DATETIME || type == TIME || type == DATE;
  }

  /**
   * The cell as a value, written one way whatever the type or the file wrote: numbers without a trailing
   * ".0" (so 3 and 3.0 are equal when a column turns from integer to double), booleans as true/false,
   * dates in ISO-8601; text as it is. Null for a missing cell.
   */
  static String canonical(int type, String cell) {
    if (missing(cell)) {
      return null;
    }
    if (type == INTEGER) {
      return Integer.toString(PARSERS.get(type).parseInt(cell));
    }
    if (type == LONG) {
      return Long.toString(PARSERS.get(type).parseLong(cell));
    }
    if (type == DOUBLE) {
      double d = PARSERS.get(type).parseDouble(cell);
      return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
    if (type == TEXT) {
      return cell;
    }
    return String.valueOf(temporal(type) ? temporal(type, cell) : PARSERS.get(type).parse(cell));
  }
}
