package labenv.dataset;

/**
 * One column of a table as {@code dataset show} describes it.
 *
 * @param name the column's name (the header's, or the JSON key)
 * @param type integer, long, double, boolean, date, time, datetime or text (see {@link TableSummary})
 * @param rows the table's rows
 * @param nulls the rows where this column is missing (empty, NA, N/A, NaN, null, * or, in JSON, absent or null)
 * @param min the smallest value, for numbers; else null (also when the column has no values)
 * @param max the largest value, for numbers; else null
 * @param mean the mean of the values present, for numbers (sum / count, summed in row order); else null
 * @param distinct how many distinct values, for text and booleans; else null
 * @param distinctEstimated true when {@code distinct} is a HyperLogLog estimate (about 0.8% error), which it is
 *     above {@value DistinctCount#EXACT_LIMIT} distinct values (fewer in wide tables) in a table summarised by
 *     streaming (files over 16 MiB)
 * @param earliest the earliest value in ISO-8601, for dates, times and datetimes; else null
 * @param latest the latest value in ISO-8601, for dates, times and datetimes; else null
 */
public record ColumnSummary(String name, String type, long rows, long nulls, Double min, Double max, Double mean,
    Long distinct, boolean distinctEstimated, String earliest, String latest) {}
