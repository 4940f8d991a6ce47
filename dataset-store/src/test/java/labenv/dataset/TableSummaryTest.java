package labenv.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableSummaryTest {
  @TempDir Path dir;

  private static final String PEOPLE = """
      id,name,age,score,joined,active
      1,ann,34,1.5,2024-01-02,true
      2,bob,,2.5,2023-12-31,false
      3,ann,41,NA,2024-03-04,true
      """;

  @Test
  void csvColumnsHaveTypesNullsAndStatistics() throws IOException {
    TableSummary s = TableSummary.of(write("people.csv", PEOPLE));
    assertEquals("csv", s.format());
    assertEquals(3, s.rows());
    assertEquals(List.of("id", "name", "age", "score", "joined", "active"),
        s.columns().stream().map(ColumnSummary::name).toList());
    assertEquals(new ColumnSummary("id", "integer", 3, 0, 1.0, 3.0, 2.0, null, false, null, null), s.column("id"));
    assertEquals(new ColumnSummary("name", "text", 3, 0, null, null, null, 2L, false, null, null), s.column("name"));
    assertEquals(new ColumnSummary("age", "integer", 3, 1, 34.0, 41.0, 37.5, null, false, null, null),
        s.column("age"));
    assertEquals(new ColumnSummary("score", "double", 3, 1, 1.5, 2.5, 2.0, null, false, null, null),
        s.column("score"));
    assertEquals(new ColumnSummary("joined", "date", 3, 0, null, null, null, null, false, "2023-12-31", "2024-03-04"),
        s.column("joined"));
    assertEquals(new ColumnSummary("active", "boolean", 3, 0, null, null, null, 2L, false, null, null),
        s.column("active"));
  }

  @Test
  void streamingGivesTheSameSummaryAsTablesaw() throws IOException {
    Path file = write("people.csv", PEOPLE);
    assertEquals(TableSummary.inMemory(file, TableFormat.CSV), TableSummary.streaming(file, TableFormat.CSV));
  }

  @Test
  void tsvWithQuotedCellsAndLongs() throws IOException {
    Path file = write("t.tsv", "when\tcount\tnote\n"
        + "2024-01-02T10:00:00\t5000000000\t\"a\ttab\"\n"
        + "2024-01-01T09:30:00\t-1\tplain\n");
    TableSummary s = TableSummary.of(file);
    assertEquals("tsv", s.format());
    assertEquals(2, s.rows());
    assertEquals("datetime", s.column("when").type());
    assertEquals("2024-01-01T09:30", s.column("when").earliest());
    assertEquals("long", s.column("count").type());
    assertEquals(5_000_000_000.0, s.column("count").max());
    assertEquals(2L, s.column("note").distinct());
    assertEquals(s, TableSummary.streaming(file, TableFormat.TSV));
  }

  @Test
  void jsonLinesColumnsAreKeysInOrderOfFirstAppearance() throws IOException {
    Path file = write("events.jsonl", """
        {"id": 1, "kind": "click", "value": 0.5}

        {"id": 2, "kind": "view", "value": null, "meta": {"x": 1}}
        {"id": 3, "kind": "click", "value": 2}
        """);
    TableSummary s = TableSummary.of(file);
    assertEquals("jsonl", s.format());
    assertEquals(3, s.rows());
    assertEquals(List.of("id", "kind", "value", "meta"), s.columns().stream().map(ColumnSummary::name).toList());
    assertEquals(new ColumnSummary("value", "double", 3, 1, 0.5, 2.0, 1.25, null, false, null, null),
        s.column("value"));
    assertEquals(new ColumnSummary("meta", "text", 3, 2, null, null, null, 1L, false, null, null), s.column("meta"));
    assertEquals(2L, s.column("kind").distinct());
    assertEquals(s, TableSummary.streaming(file, TableFormat.JSON_LINES));
  }

  @Test
  void gzippedCsvIsReadAndOtherFilesAreNotTables() throws IOException {
    Path gz = dir.resolve("people.csv.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(PEOPLE.getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(TableSummary.of(write("people.csv", PEOPLE)), TableSummary.of(gz));
    assertNull(TableSummary.of(write("notes.txt", PEOPLE)));
  }

  @Test
  void headerOnlyAndEmptyFiles() throws IOException {
    TableSummary s = TableSummary.of(write("h.csv", "a,b\n"));
    assertEquals(0, s.rows());
    assertEquals(new ColumnSummary("a", "text", 0, 0, null, null, null, 0L, false, null, null), s.column("a"));
    assertEquals(new TableSummary("csv", 0, List.of()), TableSummary.of(write("e.csv", "")));
  }

  @Test
  void aRowWithTooManyFieldsNamesItsLine() throws IOException {
    // The quoted cell spans lines 2-3, so the bad row is on line 5.
    Path file = write("bad.csv", "a,b\n\"x\ny\",1\n2,3\n4,5,6\n");
    LabenvException e = assertThrows(LabenvException.class, () -> TableSummary.of(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertEquals(file + " line 5: 3 fields where the header has 2 (an unclosed quote or a stray delimiter?)",
        e.getMessage());
    e = assertThrows(LabenvException.class, () -> TableSummary.streaming(file, TableFormat.CSV));
    assertTrue(e.getMessage().startsWith(file + " line 5: "), e.getMessage());
  }

  @Test
  void anUnclosedQuoteIsMalformed() throws IOException {
    Path file = write("bad.csv", "a,b\n1,2\n3,\"oops\n5,6\n7,8\n");
    LabenvException e = assertThrows(LabenvException.class, () -> TableSummary.of(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(file + " line 3: "), e.getMessage());
  }

  @Test
  void badJsonLinesNameTheirLine() throws IOException {
    Path file = write("bad.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,\n");
    LabenvException e = assertThrows(LabenvException.class, () -> TableSummary.of(file));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(file + " line 3: not JSON"), e.getMessage());
    Path array = write("array.jsonl", "{\"a\": 1}\n[1, 2]\n");
    e = assertThrows(LabenvException.class, () -> TableSummary.of(array));
    assertEquals(array + " line 2: a JSON array where JSON lines need one object per line", e.getMessage());
  }

  @Test
  void aTypeThatWidensAfterTheSampleIsFoundByAnotherPass() throws IOException {
    StringBuilder csv = new StringBuilder("n,flag\n");
    for (int i = 0; i < 20_000; i++) {
      csv.append(i).append(",true\n");
    }
    csv.append("1.5,maybe\n");
    Path file = write("wide.csv", csv.toString());
    TableSummary s = TableSummary.streaming(file, TableFormat.CSV);
    assertEquals("double", s.column("n").type());
    assertEquals(20_000 * 19_999 / 2.0 + 1.5, s.column("n").mean() * 20_001, 1e-6);
    assertEquals(new ColumnSummary("flag", "text", 20_001, 0, null, null, null, 2L, false, null, null),
        s.column("flag"));
    assertEquals(s, TableSummary.inMemory(file, TableFormat.CSV));
  }

  @Test
  void streamingAndTablesawAgreeOnALargerTable() throws IOException {
    Path file = dir.resolve("large.csv");
    Random random = new Random(42);
    String[] cities = {"Oslo", "Lima", "Pune", "Kyiv", "Baku", "Rome", "Nuuk"};
    try (Writer out = Files.newBufferedWriter(file)) {
      out.write("id,user,city,amount,day,ok\n");
      for (int i = 0; i < 200_000; i++) {
        out.write(i + ",u" + (i * 7919L % 1_000_003) + "," + (i % 13 == 0 ? "" : cities[random.nextInt(7)]) + ","
            + (i % 17 == 0 ? "NA" : String.format("%.2f", random.nextGaussian() * 100)) + ","
            + "2024-0" + (1 + i % 9) + "-1" + (i % 10) + "," + (random.nextBoolean() ? "T" : "F") + "\n");
      }
    }
    TableSummary streamed = TableSummary.streaming(file, TableFormat.CSV);
    TableSummary held = TableSummary.inMemory(file, TableFormat.CSV);
    assertEquals(200_000, streamed.rows());
    for (ColumnSummary c : held.columns()) {
      if (!c.name().equals("user")) {
        assertEquals(c, streamed.column(c.name()));
      }
    }
    assertEquals(200_000L, held.column("user").distinct());
    assertFalse(held.column("user").distinctEstimated());
    // 200,000 distinct users is past the exact limit of the streaming count: an estimate within 3%.
    assertTrue(streamed.column("user").distinctEstimated());
    assertEquals(200_000, streamed.column("user").distinct(), 6_000);
    assertEquals(7L, streamed.column("city").distinct());
    assertEquals(200_000 / 13 + 1, streamed.column("city").nulls());
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }
}
