package labenv.dataset;

import com.univocity.parsers.common.TextParsingException;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import com.univocity.parsers.csv.UnescapedQuoteHandling;
import java.io.Reader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import labenv.LabenvException;

/** CSV or TSV through univocity (tablesaw's own CSV parser), streaming: the first record is the header. */
final class DelimitedSource implements TableSource {
  // A cell longer than this is an unclosed quote far more often than real data; bounding it also bounds memory.
  private static final int MAX_CELL_CHARS = 1 << 20;

  private final Path file;
  private final CsvParser parser;
  private final List<String> columns;
  private String[] row;
  private long endLine;

  DelimitedSource(Path file, Reader reader, char delimiter) {
    this.file = file;
    CsvParserSettings settings = new CsvParserSettings();
    settings.getFormat().setDelimiter(delimiter);
    settings.getFormat().setLineSeparator("\n");
    settings.setLineSeparatorDetectionEnabled(true);
    settings.setMaxCharsPerColumn(MAX_CELL_CHARS);
    settings.setMaxColumns(100_000);
    settings.setUnescapedQuoteHandling(UnescapedQuoteHandling.RAISE_ERROR);
    settings.setErrorContentLength(40);
    settings.setIgnoreLeadingWhitespaces(false);
    settings.setIgnoreTrailingWhitespaces(false);
    parser = new CsvParser(settings);
    parser.beginParsing(reader);
    String[] header = parse();
    columns = header == null ? List.of() : names(header);
  }

  @Override
  public List<String> columns() {
    return columns;
  }

  @Override
  public String[] next() {
    String[] row = parse();
    if (row == null) {
      return null;
    }
    if (row.length != columns.size()) {
      throw LabenvException.badInput(file + " line " + line() + ": " + row.length + " fields where the header has "
          + columns.size() + " (an unclosed quote or a stray delimiter?)");
    }
    if (newlines(row) > 0 && unclosedQuote(parser.getContext().currentParsedContent())) {
      throw LabenvException.badInput(file + " line " + line() + ": a quote opened on this line is never closed");
    }
    return row;
  }

  /** Computed from where the record ended, less the line breaks inside its cells: only errors need it. */
  @Override
  public long line() {
    return row == null ? endLine + 1 : endLine - newlines(row);
  }

  private static int newlines(String[] row) {
    int n = 0;
    for (String cell : row) {
      if (cell != null) {
        for (int i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) {
          n++;
        }
      }
    }
    return n;
  }

  /**
   * A quote left open swallows the rest of the file into one cell, which univocity accepts at the end of input.
   * Quotes in a well-formed record pair up (an escaped quote is two), so an odd count means one never closed.
   */
  private static boolean unclosedQuote(String record) {
    if (record == null) {
      return false;
    }
    int quotes = 0;
    for (int i = record.indexOf('"'); i >= 0; i = record.indexOf('"', i + 1)) {
      quotes++;
    }
    return quotes % 2 == 1;
  }

  @Override
  public void close() {
    parser.stopParsing();
  }

  private String[] parse() {
    try {
      row = parser.parseNext();
      endLine = parser.getContext().currentLine();
      return row;
    } catch (TextParsingException e) {
      throw LabenvException.badInput(file + " line " + (e.getLineIndex() + 1) + ": malformed "
          + (columns == null ? "header" : "row") + " (" + firstLine(e.getMessage()) + ")");
    } catch (IllegalStateException e) {
      throw TableSource.readFailure(file, endLine + 1, e);
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int end = message.indexOf('\n');
    String first = (end < 0 ? message : message.substring(0, end)).trim();
    return first.endsWith(".") ? first.substring(0, first.length() - 1) : first;
  }

  private List<String> names(String[] header) {
    List<String> names = new ArrayList<>(header.length);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < header.length; i++) {
      String name = header[i] == null || header[i].isBlank() ? "column " + (i + 1) : header[i].strip();
      if (!seen.add(name)) {
        throw LabenvException.badInput(file + " line 1: column name '" + name + "' appears twice in the header");
      }
      names.add(name);
    }
    return List.copyOf(names);
  }
}
