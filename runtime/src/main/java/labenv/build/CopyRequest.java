package labenv.build;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One COPY or ADD, with everything the builder resolved.
 *
 * @param add ADD (local tar archives are extracted) rather than COPY
 * @param sources as written, variables expanded; {@code <<NAME} names a heredoc
 * @param destination absolute (resolved against WORKDIR), keeping a trailing '/' that says "a directory"
 * @param uid the --chown user id, null without --chown (then files are 0:0, and ADD keeps an archive's owners)
 * @param gid the --chown group id, null without --chown
 * @param mode the --chmod permission bits, null to keep the sources' modes
 * @param heredocs the heredoc bodies by name, for sources {@code <<NAME}
 * @param sourceDateEpoch the time every copied file, directory and symlink gets
 */
public record CopyRequest(boolean add, List<String> sources, String destination, Integer uid, Integer gid,
    Integer mode, Map<String, String> heredocs, long sourceDateEpoch) {
  public CopyRequest {
    sources = List.copyOf(sources);
    Objects.requireNonNull(destination);
    if (!destination.startsWith("/")) {
      throw new IllegalArgumentException("COPY destination must be absolute: " + destination);
    }
    if ((uid == null) != (gid == null)) {
      throw new IllegalArgumentException("--chown gives both a uid and a gid, or neither");
    }
    if (mode != null && (mode < 0 || mode > 07777)) {
      throw new IllegalArgumentException("mode out of range: " + Integer.toOctalString(mode));
    }
    heredocs = heredocs == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(heredocs));
  }

  /** A plain COPY of {@code sources} to {@code destination}: no --chown, no --chmod, no heredocs. */
  public static CopyRequest copy(List<String> sources, String destination, long sourceDateEpoch) {
    return new CopyRequest(false, sources, destination, null, null, null, Map.of(), sourceDateEpoch);
  }

  /** The instruction's name for messages. */
  String verb() {
    return add ? "ADD" : "COPY";
  }

  /** The uid files get. */
  int ownerUid() {
    return uid == null ? 0 : uid;
  }

  int ownerGid() {
    return gid == null ? 0 : gid;
  }
}
