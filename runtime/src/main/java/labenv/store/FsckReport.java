package labenv.store;

import java.util.List;

/**
 * What {@code fsck} found.
 *
 * @param problems one line each, naming the object: damage that makes an image unusable
 * @param notes things worth knowing that are not damage (leftover temporary files, unreferenced blobs)
 * @param blobsChecked how many blobs were re-hashed
 * @param bytesChecked how many bytes that was
 */
public record FsckReport(List<String> problems, List<String> notes, int blobsChecked, long bytesChecked) {
  public FsckReport {
    problems = List.copyOf(problems);
    notes = List.copyOf(notes);
  }

  /** True when there are no problems (notes do not count). */
  public boolean ok() {
    return problems.isEmpty();
  }
}
