package labenv.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import labenv.project.OutputDiff.Explanation;
import labenv.project.OutputDiff.Kind;
import labenv.project.OutputDiff.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDiffTest {
  @TempDir Path dir;

  private static final String TABLE = "id,x,label\n1,0.1,a\n2,0.2,b\n3,0.3,c\n";

  /** Writes the two sides under names without an extension, as stored blobs or temp files would be. */
  private Explanation explain(String path, String expected, String actual, double tolerance) throws IOException {
    return explain(path, expected.getBytes(StandardCharsets.UTF_8), actual.getBytes(StandardCharsets.UTF_8),
        tolerance);
  }

  private Explanation explain(String path, byte[] expected, byte[] actual, double tolerance) throws IOException {
    Path a = Files.write(dir.resolve("expected-" + System.nanoTime()), expected);
    Path b = Files.write(dir.resolve("actual-" + System.nanoTime()), actual);
    return OutputDiff.explain(path, a, b, new Options(tolerance, 5));
  }

  private static boolean has(Explanation e, String line) {
    return e.lines().contains(line);
  }

  @Test
  void aCsvCellChangedByRoundingIsADifferenceWithoutTolerance() throws IOException {
    var e = explain("out/t.csv", TABLE, TABLE.replace("0.3,c", "0.30000000000000004,c"), 0);
    assertEquals(Kind.TABLE, e.kind(), e::toString);
    assertFalse(e.withinTolerance(), e::toString);
    assertEquals(0.30000000000000004 - 0.3, e.maxAbsDiff(), 1e-30);
    assertEquals((0.30000000000000004 - 0.3) / 0.30000000000000004, e.maxRelDiff(), 1e-30);
    assertEquals(1, e.changed());
    assertEquals(0, e.tolerated());
    assertTrue(has(e, "largest numeric difference: abs 5.55e-17 (column x, line 4), rel 1.85e-16"), e::toString);
    assertTrue(has(e, "  changed id=3 (line 4): x 0.3 → 0.30000000000000004"), e::toString);
    assertTrue(has(e, "cells: 1 changed in 1 row (rows matched by id, columns both tables have), 1 numeric, 0 not"),
        e::toString);
  }

  @Test
  void aCsvCellChangedByRoundingIsWithinTolerance() throws IOException {
    var e = explain("out/t.csv", TABLE, TABLE.replace("0.3,c", "0.30000000000000004,c"), 1e-9);
    assertTrue(e.withinTolerance(), e::toString);
    assertEquals(1, e.tolerated());
    assertEquals("1 cell in 1 row differs only within tolerance 1e-9 (largest abs 5.55e-17 (column x, line 4), "
        + "rel 1.85e-16); no other difference, not an exact match", e.lines().get(0));
    assertEquals("  line 4, x: 0.3 → 0.30000000000000004", e.lines().get(1));
  }

  @Test
  void aCsvCellChangedBeyondTheToleranceIsReportedAsSuch() throws IOException {
    // One cell is noise, the other is not: not within tolerance, and the report tells which is which.
    String actual = TABLE.replace("0.3,c", "0.30000000000000004,c").replace("0.1,a", "0.11,a");
    var e = explain("out/t.csv", TABLE, actual, 1e-9);
    assertFalse(e.withinTolerance(), e::toString);
    assertEquals(2, e.changed());
    assertEquals(1, e.tolerated());
    assertEquals(0.11 - 0.1, e.maxAbsDiff(), 1e-15);
    assertTrue(has(e, "largest numeric difference: abs 0.01 (column x, line 2), rel 0.0909"), e::toString);
    assertTrue(has(e, "tolerance 1e-9: 1 numeric cells within it, 1 beyond it, 0 other cells changed"), e::toString);
    assertTrue(has(e, "  beyond: line 2, x: 0.1 → 0.11"), e::toString);
  }

  @Test
  void toleranceScalesWithLargeNumbers() throws IOException {
    // |a-b| = 0.5 is beyond 1e-6 absolutely, but within it relative to 1e6.
    String before = "a,b\nx,1000000\nx,2\n";
    String after = "a,b\nx,1000000.5\nx,2\n";
    var e = explain("big.tsv", before.replace(',', '\t'), after.replace(',', '\t'), 1e-6);
    assertTrue(e.withinTolerance(), e::toString);
    assertTrue(e.lines().get(0).startsWith("1 cell in 1 row differs only within tolerance 1e-6 (largest abs 0.5 "
        + "(column b, line 2), rel 5e-7)"), e::toString);
    var strict = explain("big.tsv", before.replace(',', '\t'), after.replace(',', '\t'), 1e-7);
    assertFalse(strict.withinTolerance(), strict::toString);
  }

  @Test
  void aTableWithoutKeyIsComparedByPositionAndReorderedRowsAreNamed() throws IOException {
    // Column a repeats a value: no key, rows match as whole rows; the noisy cell is found by position.
    String before = "a,v\nx,1.5\nx,2.5\ny,3.5\n";
    var noisy = explain("t.csv", before, before.replace("2.5", "2.5000000001"), 1e-6);
    assertTrue(noisy.withinTolerance(), noisy::toString);
    assertTrue(noisy.lines().get(0).contains("(column v, line 3)"), noisy::toString);
    var moved = explain("t.csv", before, "a,v\ny,3.5\nx,1.5\nx,2.5\n", 1e-6);
    assertFalse(moved.withinTolerance(), moved::toString);
    assertTrue(has(moved, "the same rows in a different order"), moved::toString);
    assertTrue(Double.isNaN(moved.maxAbsDiff()), moved::toString);
  }

  @Test
  void aCsvWithARowAddedAndAColumnRetypedIsNotNoiseWhateverTheTolerance() throws IOException {
    String before = "id,n,name\n1,1,a\n2,2,b\n";
    String after = "id,n,name\n1,1.5,a\n2,2,b\n3,3,c\n";
    var e = explain("t.csv", before, after, 1.0);
    assertFalse(e.withinTolerance(), e::toString);
    assertTrue(has(e, "rows: 2 → 3: 1 added, 0 removed, 1 changed (rows matched by id)"), e::toString);
    assertTrue(has(e, "columns: none added or removed; retyped: n integer → double"), e::toString);
    assertTrue(has(e, "  changed id=1 (line 2): n 1 → 1.5"), e::toString);
    assertTrue(has(e, "  added id=3 (line 4): id=3, n=3, name=c"), e::toString);
    assertEquals(0.5, e.maxAbsDiff());
    assertEquals(1, e.tolerated());
  }

  @Test
  void aColumnAddedIsNeverWithinTolerance() throws IOException {
    var e = explain("t.csv", TABLE, TABLE.replace("id,x,label\n", "id,x,label,z\n").replace("a\n", "a,1\n")
        .replace("b\n", "b,2\n").replace("c\n", "c,3\n"), 1e-6);
    assertFalse(e.withinTolerance(), e::toString);
    assertTrue(has(e, "columns: +z (integer)"), e::toString);
    assertTrue(has(e, "no cell changed in the columns both tables have"), e::toString);
  }

  @Test
  void jsonReportsChangedAddedAndRemovedPathsWithTheTolerance() throws IOException {
    String before = "{\"a\": 1, \"b\": {\"c\": [1, 2, 3]}, \"gone\": true, \"s\": \"x\", \"x/y\": 0}";
    String after = "{\"s\": \"y\", \"a\": 1.0, \"b\": {\"c\": [1, 2.0000000001, 3, 4]}, \"new\": null, \"x/y\": 7}";
    var e = explain("out/m.json", before, after, 1e-6);
    assertEquals(Kind.JSON, e.kind(), e::toString);
    assertFalse(e.withinTolerance(), e::toString);
    assertEquals(6, e.changed(), e::toString);
    assertEquals(1, e.tolerated(), e::toString);
    assertEquals("6 paths differ: 3 changed, 2 added, 1 removed", e.lines().get(0));
    assertTrue(has(e, "largest numeric difference: abs 7 (/x~1y), rel 1"), e::toString);
    assertTrue(has(e, "tolerance 1e-6: 1 numbers within it, 5 other differences"), e::toString);
    assertTrue(has(e, "  removed /gone: true"), e::toString);
    assertTrue(has(e, "  changed /s: \"x\" → \"y\""), e::toString);
    assertTrue(has(e, "  added /b/c/3: 4"), e::toString);
    assertTrue(has(e, "  added /new: null"), e::toString);
    assertTrue(has(e, "  changed /x~1y: 0 → 7"), e::toString);
    // 1 and 1.0 are the same number: no path /a.
    assertFalse(e.lines().stream().anyMatch(l -> l.contains(" /a:")), e::toString);
  }

  @Test
  void jsonNumericNoiseIsWithinToleranceOnlyWhenOneIsGiven() throws IOException {
    String before = "{\"fit\": {\"r2\": 0.912, \"n\": 100}}";
    String after = "{\"fit\": {\"r2\": 0.9120000000001, \"n\": 100}}";
    var exact = explain("fit.json", before, after, 0);
    assertFalse(exact.withinTolerance(), exact::toString);
    assertEquals("1 path differs: 1 changed, 0 added, 0 removed", exact.lines().get(0));
    assertTrue(has(exact, "  changed /fit/r2: 0.912 → 0.9120000000001"), exact::toString);
    var tolerant = explain("fit.json", before, after, 1e-9);
    assertTrue(tolerant.withinTolerance(), tolerant::toString);
    assertTrue(tolerant.lines().get(0).startsWith("1 number differs only within tolerance 1e-9 (largest abs 9.99e-14 "
        + "(/fit/r2), rel 1.1e-13); no other difference, not an exact match"), tolerant::toString);
    assertEquals(0.9120000000001 - 0.912, tolerant.maxAbsDiff(), 1e-20);
  }

  @Test
  void jsonThatDiffersOnlyInFormattingSaysSo() throws IOException {
    var e = explain("m.json", "{\"a\": [1, 2], \"b\": 3}\n", "{\"b\":3.0,\"a\":[1,2]}", 1e-6);
    assertFalse(e.withinTolerance(), e::toString);
    assertEquals(0, e.changed());
    assertEquals(List.of("the same JSON value: the files differ only in formatting, key order or how numbers are "
        + "written"), e.lines());
  }

  @Test
  void aTextFileGetsAUnifiedDiffLikeGnuDiff() throws IOException {
    String before = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\ntwelve\nthirteen\n"
        + "fourteen\n";
    String after = "zero\none\ntwo\nthree\nfour\nFIVE\nsix\nseven\neight\nnine\nten\neleven\ntwelve\nthirteen\n"
        + "fourteen";
    var e = explain("log/run.txt", before, after, 0);
    assertEquals(Kind.TEXT, e.kind());
    // The hunks as `diff -u` prints them for the same files.
    assertEquals(List.of(
        "lines: 14 → 15, 2 removed, 3 added",
        "--- a/log/run.txt",
        "+++ b/log/run.txt",
        "@@ -1,8 +1,9 @@",
        "+zero",
        " one",
        " two",
        " three",
        " four",
        "-five",
        "+FIVE",
        " six",
        " seven",
        " eight",
        "@@ -11,4 +12,4 @@",
        " eleven",
        " twelve",
        " thirteen",
        "-fourteen",
        "+fourteen",
        "\\ No newline at end of file"), e.lines());
    assertEquals(5, e.changed());
  }

  @Test
  void anInsertionIntoAnEmptyRangeUsesGnuRanges() throws IOException {
    var e = explain("a.txt", "", "new\n", 0);
    assertEquals(List.of("lines: 0 → 1, 0 removed, 1 added", "--- a/a.txt", "+++ b/a.txt", "@@ -0,0 +1 @@",
        "+new"), e.lines());
  }

  @Test
  void aLongDiffIsCutWithACount() throws IOException {
    StringBuilder before = new StringBuilder();
    StringBuilder after = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      before.append("line ").append(i).append('\n');
      after.append("line ").append(i).append(i % 2 == 0 ? " changed" : "").append('\n');
    }
    var e = explain("big.txt", before.toString(), after.toString(), 0);
    // 1 summary + 200 diff lines + the count; the whole diff is 2 headers and 1 hunk: 500 lines removed, 500
    // added, 500 kept between them.
    assertEquals(202, e.lines().size(), () -> String.valueOf(e.lines().size()));
    assertEquals("… " + (2 + 1 + 1500 - 200) + " more lines", e.lines().get(201));
    assertEquals(1000, e.changed());
  }

  @Test
  void theLineDiffIsMinimal() {
    // Myers' shortest edit script: removed = n - LCS and added = m - LCS, checked against the textbook LCS table.
    Random random = new Random(42);
    for (int round = 0; round < 300; round++) {
      List<String> a = randomLines(random);
      List<String> b = randomLines(random);
      long[] counts = OutputDiff.unified("f", a, b, new ArrayList<>());
      int lcs = lcs(a, b);
      assertEquals(a.size() - lcs, counts[0], () -> a + " / " + b);
      assertEquals(b.size() - lcs, counts[1], () -> a + " / " + b);
    }
  }

  @Test
  void theUnifiedDiffRebuildsTheNewFile() {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      List<String> a = randomLines(random);
      List<String> b = randomLines(random);
      List<String> out = new ArrayList<>();
      OutputDiff.unified("f", a, b, out);
      assertEquals(b, patch(a, out), () -> a + " / " + b + "\n" + String.join("\n", out));
    }
  }

  @Test
  void binaryFilesShowSizesHashesAndTheFirstDifferingOffset() throws IOException {
    byte[] before = new byte[100_000];
    new Random(1).nextBytes(before);
    before[0] = 0;
    byte[] after = before.clone();
    after[70_000] ^= 1;
    var e = explain("model.bin", before, after, 0);
    assertEquals(Kind.BINARY, e.kind());
    assertTrue(has(e, "size: 100000 → 100000 bytes"), e::toString);
    assertTrue(has(e, "first differing byte at offset 70000 (0x11170)"), e::toString);
    assertTrue(e.lines().stream().anyMatch(l -> l.matches("sha256: [0-9a-f]{64} → [0-9a-f]{64}")), e::toString);

    var longer = explain("model.bin", before, java.util.Arrays.copyOf(before, 100_001), 0);
    assertTrue(has(longer, "first differing byte at offset 100000 (0x186a0): the end of the shorter file"),
        longer::toString);
  }

  @Test
  void malformedJsonFallsBackToTextAndSaysSo() throws IOException {
    var e = explain("m.json", "{\"a\": 1,,}\n", "{\"a\": 2}\n", 0);
    assertEquals(Kind.TEXT, e.kind(), e::toString);
    assertTrue(e.lines().get(0).startsWith("not valid JSON (a/m.json line 1 column "), e::toString);
    assertTrue(e.lines().get(0).endsWith("): compared as text"), e::toString);
    assertTrue(has(e, "-{\"a\": 1,,}") && has(e, "+{\"a\": 2}"), e::toString);
  }

  @Test
  void malformedJsonThatIsNotTextFallsBackToBinary() throws IOException {
    var e = explain("m.json", new byte[] {'{', 0, 1}, new byte[] {'{', 0, 2}, 0);
    assertEquals(Kind.BINARY, e.kind(), e::toString);
    assertTrue(e.lines().get(0).startsWith("not valid JSON ("), e::toString);
    assertTrue(e.lines().get(0).endsWith("): compared as binary"), e::toString);
  }

  @Test
  void aMalformedCsvFallsBackToText() throws IOException {
    var e = explain("t.csv", "a,b\n1,2\n", "a,b\n1,2,3\n", 0);
    assertEquals(Kind.TEXT, e.kind(), e::toString);
    assertTrue(e.lines().get(0).startsWith("not a table labenv reads (b/t.csv line "), e::toString);
    assertTrue(e.lines().get(0).contains("3 fields where the header has 2"), e::toString);
    assertTrue(e.lines().get(0).endsWith("): compared as text"), e::toString);
  }

  @Test
  void jsonIsRecognisedByContentToo() throws IOException {
    var e = explain("metrics.out", "{\"loss\": 0.5}\n", "{\"loss\": 0.25}\n", 0);
    assertEquals(Kind.JSON, e.kind(), e::toString);
    assertTrue(has(e, "  changed /loss: 0.5 → 0.25"), e::toString);
  }

  @Test
  void identicalFilesAreNotWithinToleranceButTheSame() throws IOException {
    var e = explain("t.csv", TABLE, TABLE, 1e-6);
    assertFalse(e.withinTolerance());
    assertEquals(0, e.changed());
    assertTrue(e.lines().get(0).startsWith("no difference: both files are "), e::toString);
  }

  @Test
  void aNegativeToleranceIsBadInput() {
    var error = org.junit.jupiter.api.Assertions.assertThrows(labenv.LabenvException.class,
        () -> new Options(-1, 5));
    assertEquals(labenv.LabenvException.Kind.BAD_INPUT, error.kind());
  }

  private static List<String> randomLines(Random random) {
    int n = random.nextInt(12);
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      lines.add(String.valueOf((char) ('a' + random.nextInt(4))));
    }
    return lines;
  }

  private static int lcs(List<String> a, List<String> b) {
    int[][] t = new int[a.size() + 1][b.size() + 1];
    for (int i = a.size() - 1; i >= 0; i--) {
      for (int j = b.size() - 1; j >= 0; j--) {
        t[i][j] = a.get(i).equals(b.get(j)) ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
      }
    }
    return t[0][0];
  }

  /** Applies a unified diff's hunks to {@code a}, checking the context and removed lines against it. */
  private static List<String> patch(List<String> a, List<String> diff) {
    List<String> result = new ArrayList<>();
    int next = 0;
    for (int k = 2; k < diff.size(); k++) {
      String line = diff.get(k);
      if (line.startsWith("@@")) {
        String range = line.split(" ")[1].substring(1);
        int start = Integer.parseInt(range.split(",")[0]);
        int count = range.contains(",") ? Integer.parseInt(range.split(",")[1]) : 1;
        int from = count == 0 ? start : start - 1;
        while (next < from) {
          result.add(a.get(next++));
        }
      } else if (line.startsWith("+")) {
        result.add(line.substring(1));
      } else {
        assertEquals(a.get(next), line.substring(1), "context or removed line " + next);
        next++;
        if (line.startsWith(" ")) {
          result.add(line.substring(1));
        }
      }
    }
    while (next < a.size()) {
      result.add(a.get(next++));
    }
    return result;
  }
}
