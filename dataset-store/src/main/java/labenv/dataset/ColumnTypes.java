package labenv.dataset;

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
    return type == TEXT || PARSERS.get(type).canParse(cell);
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
    return String.valueOf(PARSERS.get(type).parse(cell));
  }
}
