package labenv.archive;

import java.util.ArrayDeque;
import java.util.Deque;

/** Names of entries in the outer archive, compared after lexical cleaning. */
final class ArchivePaths {
  private ArchivePaths() {}

  /**
   * {@code ./a//b/../c/} becomes {@code a/c}. A name that climbs above the root keeps pointing at
   * the root: archive names are map keys here, never filesystem paths, so there is nothing to escape to.
   */
  static String clean(String name) {
    Deque<String> parts = new ArrayDeque<>();
    for (String p : name.split("/")) {
      if (p.isEmpty() || p.equals(".")) {
        continue;
      }
      if (p.equals("..")) {
        parts.pollLast();
      } else {
        parts.addLast(p);
      }
    }
    return String.join("/", parts);
  }

  /** The name a symlink at {@code linkName} pointing to {@code target} resolves to. */
  static String resolveSymlink(String linkName, String target) {
    if (target.startsWith("/")) {
      return clean(target);
    }
    String parent = linkName.contains("/") ? linkName.substring(0, linkName.lastIndexOf('/')) : "";
    return clean(parent.isEmpty() ? target : parent + "/" + target);
  }
}
