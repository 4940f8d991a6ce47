package labenv.dataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/** The file part of {@code dataset diff}: which paths two dataset versions add, remove or change. */
public final class DatasetDiff {
  private DatasetDiff() {}

  /**
   * One path that differs between two versions.
   *
   * @param kind added, removed or changed
   * @param sizeA its size in the first version, or -1 when not there (or not known)
   * @param sizeB its size in the second version, or -1 when not there (or not known)
   */
  public record FileChange(String path, String kind, long sizeA, long sizeB) {}

  /** The paths added, removed and changed (by digest), sorted by path; sizes unknown (-1). */
  public static List<FileChange> files(Map<String, String> aPathToDigest, Map<String, String> bPathToDigest) {
    return files(aPathToDigest, bPathToDigest, Map.of(), Map.of());
  }

  /** As {@link #files(Map, Map)}, with each version's sizes by path. */
  public static List<FileChange> files(Map<String, String> aPathToDigest, Map<String, String> bPathToDigest,
      Map<String, Long> aPathToSize, Map<String, Long> bPathToSize) {
    TreeSet<String> paths = new TreeSet<>(aPathToDigest.keySet());
    paths.addAll(bPathToDigest.keySet());
    List<FileChange> changes = new ArrayList<>();
    for (String path : paths) {
      String a = aPathToDigest.get(path);
      String b = bPathToDigest.get(path);
      String kind = a == null ? "added" : b == null ? "removed" : Objects.equals(a, b) ? null : "changed";
      if (kind != null) {
        changes.add(new FileChange(path, kind, a == null ? -1 : aPathToSize.getOrDefault(path, -1L),
            b == null ? -1 : bPathToSize.getOrDefault(path, -1L)));
      }
    }
    return List.copyOf(changes);
  }

  /** For people: a count line ({@code files: 1 added, 0 removed, 2 changed}), then one line per path. */
  public static String describe(List<FileChange> changes) {
    long added = changes.stream().filter(c -> c.kind().equals("added")).count();
    long removed = changes.stream().filter(c -> c.kind().equals("removed")).count();
    StringBuilder out = new StringBuilder("files: " + added + " added, " + removed + " removed, "
        + (changes.size() - added - removed) + " changed\n");
    for (FileChange c : changes) {
      out.append(switch (c.kind()) {
        case "added" -> "  + ";
        case "removed" -> "  - ";
        default -> "  ~ ";
      }).append(c.path());
      if (c.kind().equals("changed") && c.sizeA() >= 0 && c.sizeB() >= 0) {
        out.append(" (").append(c.sizeA()).append(" → ").append(c.sizeB()).append(" bytes)");
      } else if (c.kind().equals("added") && c.sizeB() >= 0) {
        out.append(" (").append(c.sizeB()).append(" bytes)");
      } else if (c.kind().equals("removed") && c.sizeA() >= 0) {
        out.append(" (").append(c.sizeA()).append(" bytes)");
      }
      out.append('\n');
    }
    return out.toString();
  }
}
