package labenv.archive;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What streaming an archive left behind: each regular file staged under its (cleaned) name, and
 * the links between names (podman's docker-archive links {@code <id>/layer.tar} to
 * {@code ../<diffid>.tar}). Names are only keys here; nothing is ever created at these paths.
 */
final class ArchiveContents implements BlobSource {
  private static final Pattern BLOB_NAME = Pattern.compile("blobs/([a-z0-9]+)/([a-f0-9]+)");
  private static final int MAX_LINK_DEPTH = 40;

  private final Map<String, StagedBlob> files = new HashMap<>();
  private final Map<String, String> links = new HashMap<>();
  private final List<String> order = new ArrayList<>();

  void addFile(String name, StagedBlob blob) {
    links.remove(name);
    if (files.put(name, blob) == null) {
      order.add(name);
    }
  }

  void addLink(String name, String target) {
    files.remove(name);
    links.put(name, target);
  }

  boolean isEmpty() {
    return files.isEmpty();
  }

  /** The staged file at {@code name}, following links inside the archive; null when there is none. */
  @Override
  public StagedBlob file(String name) {
    String n = ArchivePaths.clean(name);
    for (int i = 0; i < MAX_LINK_DEPTH && n != null; i++) {
      StagedBlob f = files.get(n);
      if (f != null) {
        return f;
      }
      n = links.get(n);
    }
    return null;
  }

  /**
   * Fails on the first {@code blobs/ALG/HEX} file whose bytes do not hash to its name, so a corrupt
   * archive is refused even where the corrupt blob is not part of any image.
   */
  void checkBlobNames() {
    for (String name : order) {
      Matcher m = BLOB_NAME.matcher(name);
      StagedBlob f = files.get(name);
      if (f == null || !m.matches()) {
        continue;
      }
      if (!m.group(1).equals("sha256")) {
        continue; // only sha256 is verified; such a blob is refused where an image refers to it
      }
      if (!m.group(2).equals(f.digest().hex())) {
        throw new InvalidArchiveException("blob sha256:" + m.group(2) + ": digest mismatch (got " + f.digest() + ")");
      }
    }
  }
}
