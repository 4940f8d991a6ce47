package labenv.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.dataset.DatasetDiff.FileChange;
import labenv.dataset.TableDiff.CellChange;
import labenv.dataset.TableDiff.Retyped;
import labenv.dataset.TableDiff.RowExample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableDiffTest {
  @TempDir Path dir;

  @Test
  void rowsMatchedByIdAreAddedRemovedAndChangedWithExamples() throws IOException {
    Path a = write("a.csv", """
        name,id,age,old
        ann,1,34,x
        bob,2,41,y
        cat,3,29,z
        dan,4,50,w
        """);
    Path b = write("b.jsonl", """
        {"name": "ann", "id": 1, "age": 34.0, "score": 0.5}
        {"name": "rob", "id": 2, "age": 42.5, "score": 0.7}
        {"name": "dan", "id": 4, "age": 50, "score": 0.1}
        {"name": "eve", "id": 5, "age": 22, "score": 0.9}
        """);
    TableDiff d = TableDiff.compare(a, b);
    assertEquals("id", d.key());
    assertEquals(List.of("score"), d.columnsAdded());
    assertEquals(List.of("old"), d.columnsRemoved());
    assertEquals(List.of(new Retyped("age", "integer", "double")), d.columnsRetyped());
    assertEquals(1, d.rowsAdded());
    assertEquals(1, d.rowsRemoved());
    // ann's age 34 -> 34.0 is the same value; ann and dan are unchanged, bob is not.
    assertEquals(1, d.rowsChanged());
    assertEquals(List.of(
        new RowExample("changed", "2", 2, List.of(new CellChange("name", "bob", "rob"),
            new CellChange("age", "41", "42.5"))),
        new RowExample("added", "5", 4, List.of(new CellChange("name", null, "eve"), new CellChange("id", null, "5"),
            new CellChange("age", null, "22"), new CellChange("score", null, "0.9"))),
        new RowExample("removed", "3", 4, List.of(new CellChange("name", "cat", null),
            new CellChange("id", "3", null), new CellChange("age", "29", null), new CellChange("old", "z", null)))),
        d.examples());
    assertEquals("""
        rows: 4 → 4: 1 added, 1 removed, 1 changed (rows matched by id)
        columns: +score (double), -old; retyped: age integer → double
          changed id=2 (line 2): name bob → rob, age 41 → 42.5
          added id=5 (line 4): name=eve, id=5, age=22, score=0.9
          removed id=3 (line 4): name=cat, id=3, age=29, old=z
        """, d.describe(5));
  }

  @Test
  void theFirstColumnIsTheKeyWhenUniqueAndNoColumnIsNamedLikeOne() throws IOException {
    Path a = write("a.tsv", "code\tcity\nA1\tOslo\nB2\tLima\n");
    // Lines count from the header's: B2 is on line 2.
    Path b = write("b.tsv", "code\tcity\nB2\tPune\nA1\tOslo\n");
    TableDiff d = TableDiff.compare(a, b);
    assertEquals("code", d.key());
    assertEquals(0, d.rowsAdded());
    assertEquals(0, d.rowsRemoved());
    assertEquals(1, d.rowsChanged());
    assertEquals(List.of(new RowExample("changed", "B2", 2, List.of(new CellChange("city", "Lima", "Pune")))),
        d.examples());
  }

  @Test
  void withoutAUniqueKeyRowsAreMatchedWholeAndAnEditIsRemovedPlusAdded() throws IOException {
    Path a = write("a.csv", "city,n\nOslo,1\nOslo,2\nLima,3\nLima,3\n");
    Path b = write("b.csv", "city,n\nOslo,1\nOslo,5\nLima,3\nLima,3\nLima,3\n");
    TableDiff d = TableDiff.compare(a, b);
    assertNull(d.key());
    assertEquals(2, d.rowsAdded());
    assertEquals(1, d.rowsRemoved());
    assertEquals(0, d.rowsChanged());
    assertEquals(List.of(
        new RowExample("added", null, 3, List.of(new CellChange("city", null, "Oslo"), new CellChange("n", null, "5"))),
        new RowExample("added", null, 6, List.of(new CellChange("city", null, "Lima"), new CellChange("n", null, "3"))),
        new RowExample("removed", null, 3, List.of(new CellChange("city", "Oslo", null), new CellChange("n", "2", null)))),
        d.examples());
    assertTrue(d.describe(5).startsWith("rows: 4 → 5: 2 added, 1 removed, (no key column: rows matched as a whole,"),
        d.describe(5));
  }

  @Test
  void aKeyWithARepeatedValueInTheSecondTableIsNotUsed() throws IOException {
    Path a = write("a.csv", "id,v\n1,a\n2,b\n");
    Path b = write("b.csv", "id,v\n1,a\n1,b\n");
    TableDiff d = TableDiff.compare(a, b);
    assertNull(d.key());
    assertEquals(1, d.rowsAdded());
    assertEquals(1, d.rowsRemoved());
  }

  @Test
  void identicalTablesHaveNoDifferences() throws IOException {
    String text = "id,when,ok\n1,2024-01-01,true\n2,,false\n";
    TableDiff d = TableDiff.compare(write("a.csv", text), write("b.csv", text.replace("true", "T")));
    assertEquals(new TableDiff(List.of(), List.of(), List.of(), 0, 0, 0, List.of(), "id", d.before(), d.after()), d);
    assertEquals("rows: 2 → 2: 0 added, 0 removed, 0 changed (rows matched by id)\ncolumns: none added or removed\n",
        d.describe(5));
  }

  @Test
  void aLargerTableDiffsByKeyWithoutHoldingIt() throws IOException {
    Path a = dir.resolve("a.csv");
    Path b = dir.resolve("b.csv");
    try (Writer wa = Files.newBufferedWriter(a); Writer wb = Files.newBufferedWriter(b)) {
      wa.write("user_id,amount\n");
      wb.write("user_id,amount\n");
      for (int i = 0; i < 200_000; i++) {
        wa.write(i + "," + (i % 100) + "\n");
        if (i % 1000 != 7) { // 200 removed
          wb.write(i + "," + (i % 5000 == 0 ? "x" : String.valueOf(i % 100)) + "\n"); // 40 changed, retyped to text
        }
      }
      for (int i = 0; i < 30; i++) {
        wb.write((1_000_000 + i) + ",1\n");
      }
    }
    TableDiff d = TableDiff.compare(a, b);
    assertEquals("user_id", d.key());
    assertEquals(List.of(new Retyped("amount", "integer", "text")), d.columnsRetyped());
    assertEquals(30, d.rowsAdded());
    assertEquals(200, d.rowsRemoved());
    assertEquals(40, d.rowsChanged());
    assertEquals(15, d.examples().size());
    assertEquals(new RowExample("changed", "0", 2, List.of(new CellChange("amount", "0", "x"))), d.examples().get(0));
  }

  @Test
  void aFileThatIsNotATableIsBadInput() throws IOException {
    Path a = write("a.csv", "id\n1\n");
    Path txt = write("b.txt", "id\n1\n");
    LabenvException e = assertThrows(LabenvException.class, () -> TableDiff.compare(a, txt));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith(txt + ": not a table"), e.getMessage());
  }

  @Test
  void filesAddedRemovedAndChangedAreSortedByPath() {
    List<FileChange> changes = DatasetDiff.files(
        Map.of("b.csv", "sha256:1", "a.csv", "sha256:2", "same.txt", "sha256:3"),
        Map.of("c.csv", "sha256:4", "a.csv", "sha256:5", "same.txt", "sha256:3"),
        Map.of("a.csv", 10L, "b.csv", 20L), Map.of("a.csv", 12L, "c.csv", 30L));
    assertEquals(List.of(new FileChange("a.csv", "changed", 10, 12), new FileChange("b.csv", "removed", 20, -1),
        new FileChange("c.csv", "added", -1, 30)), changes);
    assertEquals("files: 1 added, 1 removed, 1 changed\n  ~ a.csv (10 → 12 bytes)\n  - b.csv (20 bytes)\n"
        + "  + c.csv (30 bytes)\n", DatasetDiff.describe(changes));
    assertEquals(List.of(), DatasetDiff.files(Map.of("x", "d"), Map.of("x", "d")));
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }
}
