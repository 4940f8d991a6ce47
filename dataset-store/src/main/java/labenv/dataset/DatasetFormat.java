package labenv.dataset;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.Manifest;
import labenv.image.MediaTypes;

/**
 * How a dataset version is an OCI artifact: an image manifest with {@link #ARTIFACT_TYPE}, whose
 * config ({@link #CONFIG_MEDIA_TYPE}) lists the files, and whose layers are the version's distinct
 * chunks ({@link #CHUNK_MEDIA_TYPE}), so that any OCI tool that copies the manifest copies the data.
 * The version's digest is the manifest's.
 */
public final class DatasetFormat {
  private DatasetFormat() {}

  public static final String ARTIFACT_TYPE = "application/vnd.labenv.dataset.v1";
  public static final String CONFIG_MEDIA_TYPE = "application/vnd.labenv.dataset.config.v1+json";
  public static final String CHUNK_MEDIA_TYPE = "application/vnd.labenv.dataset.chunk.v1";
  /** The OCI empty descriptor ({@code {}}), the one layer of a dataset without data (image-spec 1.1). */
  public static final Descriptor EMPTY = Descriptor.of(MediaTypes.OCI_EMPTY,
      Digest.parse("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"), 2);
  static final byte[] EMPTY_BYTES = "{}".getBytes(StandardCharsets.UTF_8);

  /** True for an index.json entry or descriptor that stands for a dataset version. */
  public static boolean isDataset(Descriptor d) {
    return ARTIFACT_TYPE.equals(d.artifactType());
  }

  /** The manifest of a version: the config and each distinct chunk once, in the order files first use them. */
  static Manifest manifest(Descriptor config, List<Descriptor> chunks) {
    List<Descriptor> layers = chunks.isEmpty() ? List.of(EMPTY) : chunks;
    return new Manifest(2, MediaTypes.OCI_MANIFEST, ARTIFACT_TYPE, config, layers, null, null);
  }

  /**
   * Checks what a version from elsewhere (a loaded archive) could get wrong before its files are
   * written anywhere: paths relative, normalised, unique and sorted; parents listed as directories
   * before their children; symlinks relative and inside the dataset; each file's chunks adding up
   * to its size. Throws bad input naming the version and the entry.
   */
  static void check(DatasetConfig config, String what) {
    Set<String> dirs = new HashSet<>();
    dirs.add("");
    byte[] previous = null;
    for (DatasetFile f : config.files()) {
      String p = f.path();
      String problem = pathProblem(p);
      if (problem == null && f.type() == null) {
        problem = "no type";
      }
      byte[] bytes = p == null ? null : p.getBytes(StandardCharsets.UTF_8);
      if (problem == null && previous != null && java.util.Arrays.compareUnsigned(previous, bytes) >= 0) {
        problem = "not sorted after the previous entry, or listed twice";
      }
      if (problem == null) {
        int slash = p.lastIndexOf('/');
        if (!dirs.contains(slash < 0 ? "" : p.substring(0, slash))) {
          problem = "its directory is not listed before it";
        }
      }
      if (problem == null) {
        problem = switch (f.type()) {
          case DIR -> {
            dirs.add(p);
            yield null;
          }
          case SYMLINK -> symlinkProblem(p, f.target());
          case FILE -> fileProblem(f);
        };
      }
      if (problem != null) {
        throw LabenvException.badInput(what + ": entry \"" + p + "\": " + problem);
      }
      previous = bytes;
    }
  }

  private static String fileProblem(DatasetFile f) {
    if (f.digest() == null || f.size() < 0) {
      return "a file needs a digest and a size";
    }
    long sum = 0;
    for (Chunk c : f.chunks()) {
      if (c.digest() == null || c.size() <= 0 || !c.digest().algorithm().equals("sha256")) {
        return "a chunk needs a sha256 digest and a positive size";
      }
      if (c.start() < 0) {
        return "a chunk at a negative offset";
      }
      sum += c.size();
    }
    return sum == f.size() ? null : "its chunks add up to " + sum + " bytes, not its size " + f.size();
  }

  /** Why {@code p} is not a clean relative path, or null. */
  static String pathProblem(String p) {
    if (p == null || p.isEmpty()) {
      return "empty path";
    }
    if (p.indexOf('\0') >= 0) {
      return "NUL in path";
    }
    for (String seg : p.split("/", -1)) {
      if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
        return "not a clean relative path";
      }
    }
    return null;
  }

  /**
   * Why a symlink at {@code path} to {@code target} would not stay inside the dataset, or null. Read
   * lexically, as the kernel resolves it inside a bind mount of the tree whose own parents are out
   * of reach: absolute targets, and {@code ..} that climbs above the root, are refused.
   */
  static String symlinkProblem(String path, String target) {
    if (target == null || target.isEmpty()) {
      return "a symlink with an empty target";
    }
    if (target.startsWith("/")) {
      return "symlink to absolute path \"" + target + "\" (it would point outside the dataset)";
    }
    List<String> at = new ArrayList<>(List.of(path.split("/")));
    at.remove(at.size() - 1);
    for (String seg : target.split("/")) {
      if (seg.isEmpty() || seg.equals(".")) {
        continue;
      }
      if (seg.equals("..")) {
        if (at.isEmpty()) {
          return "symlink to \"" + target + "\" leaves the dataset";
        }
        at.remove(at.size() - 1);
      } else {
        at.add(seg);
      }
    }
    return null;
  }
}
