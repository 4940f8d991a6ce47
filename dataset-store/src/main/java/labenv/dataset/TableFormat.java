package labenv.dataset;

import java.nio.file.Path;
import java.util.Locale;

/** The table formats labenv summarises and compares, told apart by the file's extension. */
enum TableFormat {
  CSV("csv"),
  TSV("tsv"),
  JSON_LINES("jsonl");

  private final String label;

  TableFormat(String label) {
    this.label = label;
  }

  /** The format's short name as {@code dataset show} prints it ({@code csv}, {@code tsv}, {@code jsonl}). */
  String label() {
    return label;
  }

  /** The format of {@code file}, or null when it is not a table labenv reads. A {@code .gz} suffix is allowed. */
  static TableFormat of(Path file) {
    String name = stripGzip(file.getFileName().toString().toLowerCase(Locale.ROOT));
    if (name.endsWith(".csv")) {
      return CSV;
    }
    if (name.endsWith(".tsv") || name.endsWith(".tab")) {
      return TSV;
    }
    if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
      return JSON_LINES;
    }
    return null;
  }

  static boolean gzipped(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
  }

  private static String stripGzip(String name) {
    return name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
  }
}
