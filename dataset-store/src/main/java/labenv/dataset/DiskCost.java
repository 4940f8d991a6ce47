package labenv.dataset;

/**
 * What a version costs on disk: bytes of chunks (plus its config and manifest) no other named
 * version uses, which removing it and pruning would free; bytes of chunks it shares with other named
 * versions; and the bytes of its assembled tree, -1 when it has none.
 */
public record DiskCost(long uniqueBytes, long sharedBytes, long treeBytes) {
  public boolean assembled() {
    return treeBytes >= 0;
  }
}
