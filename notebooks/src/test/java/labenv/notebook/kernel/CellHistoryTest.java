package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spencerpark.jupyter.kernel.history.HistoryEntry;
import io.github.spencerpark.jupyter.kernel.history.HistoryManager.ResultFlag;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CellHistoryTest {
  private static final Set<ResultFlag> NONE = EnumSet.noneOf(ResultFlag.class);

  private static CellHistory history() {
    CellHistory history = new CellHistory();
    history.add(1, "int x = 1;", "");
    history.add(2, "x + 1", "2");
    history.add(4, "x + 1", "2");
    history.add(5, "Table t = Table.create(\"t\");", "");
    return history;
  }

  private static List<Integer> counts(List<HistoryEntry> entries) {
    return entries.stream().map(HistoryEntry::getCellNumber).toList();
  }

  @Test
  void tailIsTheLastCellsInOrder() {
    assertEquals(List.of(4, 5), counts(history().lookupTail(2, NONE)));
    assertEquals(List.of(1, 2, 4, 5), counts(history().lookupTail(0, NONE)));
    HistoryEntry last = history().lookupTail(1, EnumSet.of(ResultFlag.INCLUDE_OUTPUT)).get(0);
    assertEquals(CellHistory.SESSION, last.getSession());
    assertTrue(last.hasOutput());
    assertFalse(history().lookupTail(1, NONE).get(0).hasOutput());
  }

  @Test
  void rangeIsByExecutionCountInThisSessionOnly() {
    assertEquals(List.of(2, 4), counts(history().lookupRange(CellHistory.SESSION, 2, 5, NONE)));
    assertEquals(List.of(2, 4), counts(history().lookupRange(0, 2, 5, NONE)));
    assertEquals(List.of(), counts(history().lookupRange(7, 2, 5, NONE)));
  }

  @Test
  void searchIsAGlobOverTheWholeInput() {
    assertEquals(List.of(2, 4), counts(history().search("x ? 1", 0, NONE)));
    assertEquals(List.of(4), counts(history().search("x*", 1, NONE)));
    assertEquals(List.of(4), counts(history().search("x*", 0, EnumSet.of(ResultFlag.UNIQUE))));
    assertEquals(List.of(5), counts(history().search("*[T]able*", 0, NONE)));
    assertEquals(List.of(1, 2, 4), counts(history().search("[^T]*", 0, NONE)));
    assertEquals(List.of(), counts(history().search("x", 0, NONE)));
  }

  @Test
  void globCharactersOutsideTheWildcardsAreLiteral() {
    assertTrue(CellHistory.glob("a.b(c)+").matcher("a.b(c)+").matches());
    assertFalse(CellHistory.glob("a.b").matcher("axb").matches());
  }
}
