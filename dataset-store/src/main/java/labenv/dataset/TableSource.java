package labenv.dataset;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import labenv.LabenvException;

/**
 * The rows of a table file, one at a time, as text cells: the one place that knows file formats.
 * Everything above works on cells, so a summary or a diff costs the same memory whatever the file's size.
 */
interface TableSource extends Closeable {

  /** The column names seen so far, in order of first appearance (JSON lines may add columns as rows go by). */
  List<String> columns();

  /**
   * The next row's cells, aligned with {@link #columns()}; a row may have fewer cells than there are columns
   * (the rest are missing), and null cells are missing. Null at the end of the table.
   */
  String[] next();

  /** The line in the file where the row last returned by {@link #next()} starts (1-based). */
  long line();

  @Override
  void close();

  static TableSource open(Path file, TableFormat format) {
    BufferedReader reader = reader(file);
    return switch (format) {
      case CSV -> new DelimitedSource(file, reader, ',');
      case TSV -> new DelimitedSource(file, reader, '\t');
      case JSON_LINES -> new JsonLinesSource(file, reader);
    };
  }

  private static BufferedReader reader(Path file) {
    try {
      InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
      if (TableFormat.gzipped(file)) {
        in = new GZIPInputStream(in, 1 << 16);
      }
      return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such file");
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** A read failure mid-table, named with the file and line. */
  static LabenvException readFailure(Path file, long line, Exception e) {
    Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
    return LabenvException.failed("cannot read " + file + " at line " + line + ": " + cause.getMessage(), e);
  }
}
