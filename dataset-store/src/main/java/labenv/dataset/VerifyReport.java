package labenv.dataset;

import java.util.List;
import labenv.image.Digest;

/** {@code dataset verify}: one check per version; {@link #ok()} when nothing was wrong anywhere. */
public record VerifyReport(List<Check> versions) {
  /**
   * One version: how many chunks were re-hashed, the chunks that are missing or damaged, the files
   * those chunks belong to, the files of its assembled tree that differ from the version (empty
   * when it has no tree), and a problem with the version itself (its manifest or config), or null.
   */
  public record Check(DatasetVersion version, int chunksChecked, List<Digest> badChunks, List<String> damagedFiles,
      boolean treeChecked, List<String> badTreeFiles, String problem) {
    public boolean ok() {
      return badChunks.isEmpty() && badTreeFiles.isEmpty() && problem == null;
    }
  }

  public VerifyReport {
    versions = List.copyOf(versions);
  }

  public boolean ok() {
    return versions.stream().allMatch(Check::ok);
  }
}
