package labenv.notebook.kernel;

import io.github.spencerpark.jupyter.kernel.history.HistoryEntry;
import io.github.spencerpark.jupyter.kernel.history.HistoryManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The cells this kernel ran, for Jupyter's history requests (a console's up arrow, %history in other kernels). In
 * memory: one session, numbered {@value #SESSION}, that ends with the kernel.
 */
final class CellHistory implements HistoryManager {
  static final int SESSION = 1;

  private record Cell(int count, String input, String output) {}

  private final List<Cell> cells = new ArrayList<>();

  /** Records a cell that was run with store_history; {@code output} is its value's text, or empty. */
  synchronized void add(int count, String input, String output) {
    cells.add(new Cell(count, input, output));
  }

  @Override
  public synchronized List<HistoryEntry> lookupTail(int length, Set<ResultFlag> flags) {
    int from = length <= 0 ? 0 : Math.max(0, cells.size() - length);
    return entries(cells.subList(from, cells.size()), flags);
  }

  /**
   * Cells {@code start} (inclusive) to {@code stop} (exclusive) by execution count; {@code session} is this one as
   * {@value #SESSION} or as 0 (Jupyter's "the current session").
   */
  @Override
  public synchronized List<HistoryEntry> lookupRange(int session, int start, int stop, Set<ResultFlag> flags) {
    if (session != SESSION && session != 0) {
      return List.of();
    }
    return entries(cells.stream().filter(c -> c.count() >= start && c.count() < stop).toList(), flags);
  }

  /** The last {@code length} cells (all if not positive) whose input matches the sqlite-style glob. */
  @Override
  public synchronized List<HistoryEntry> search(String pattern, int length, Set<ResultFlag> flags) {
    Pattern glob = glob(pattern == null ? "*" : pattern);
    List<Cell> matching = cells.stream().filter(c -> glob.matcher(c.input()).matches()).toList();
    if (flags.contains(ResultFlag.UNIQUE)) {
      // The latest of equal inputs, in the order of those latest ones.
      Map<String, Cell> latest = new LinkedHashMap<>();
      for (Cell cell : matching) {
        latest.remove(cell.input());
        latest.put(cell.input(), cell);
      }
      matching = List.copyOf(latest.values());
    }
    int from = length <= 0 ? 0 : Math.max(0, matching.size() - length);
    return entries(matching.subList(from, matching.size()), flags);
  }

  private static List<HistoryEntry> entries(List<Cell> cells, Set<ResultFlag> flags) {
    boolean output = flags.contains(ResultFlag.INCLUDE_OUTPUT);
    return cells.stream()
        .map(c -> output ? new HistoryEntry(SESSION, c.count(), c.input(), c.output())
            : new HistoryEntry(SESSION, c.count(), c.input()))
        .toList();
  }

  /** sqlite's GLOB, as IPython's history uses: *, ?, [abc], [a-z], [^abc]; case-sensitive. */
  static Pattern glob(String glob) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        case '[' -> {
          int close = glob.indexOf(']', i + 2);
          if (close < 0) {
            regex.append("\\[");
          } else {
            String set = glob.substring(i + 1, close);
            regex.append('[').append(set.startsWith("^") ? "^" + quoteSet(set.substring(1)) : quoteSet(set))
                .append(']');
            i = close;
          }
        }
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }

  private static String quoteSet(String set) {
    StringBuilder out = new StringBuilder();
    for (char c : set.toCharArray()) {
      out.append(c == '-' || Character.isLetterOrDigit(c) ? String.valueOf(c) : "\\" + c);
    }
    return out.toString();
  }
}
