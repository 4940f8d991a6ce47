package labenv.layer;

import labenv.LabenvException;
import labenv.tar.TarPath;

/**
 * A layer entry that would write outside the root, or that the applier refuses to create (a device node without
 * root, say). Bad input: {@code layer sha256:ab12…: entry "../../etc/passwd": path leaves the root}.
 */
public final class UnsafeArchiveEntryException extends LabenvException {
  private static final long serialVersionUID = 1L;
  private final String layer;
  private final transient TarPath entry;

  public UnsafeArchiveEntryException(String layer, TarPath entry, String reason) {
    super(Kind.BAD_INPUT, "layer " + layer + ": entry \"" + entry + "\": " + reason);
    this.layer = layer;
    this.entry = entry;
  }

  /** The layer, as the caller named it (usually its digest). */
  public String layer() {
    return layer;
  }

  /** The entry's name as it stands in the archive. */
  public TarPath entry() {
    return entry;
  }
}
