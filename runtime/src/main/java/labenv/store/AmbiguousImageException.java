package labenv.store;

import java.util.List;
import labenv.LabenvException;

/** A digest prefix that matches more than one image. */
public final class AmbiguousImageException extends LabenvException {
  private static final long serialVersionUID = 1L;

  private final List<String> candidates;

  public AmbiguousImageException(String prefix, List<String> candidates) {
    super(Kind.BAD_INPUT, "image ID prefix \"" + prefix + "\" is ambiguous: it matches "
        + String.join(", ", candidates));
    this.candidates = List.copyOf(candidates);
  }

  /** The matching images, as {@code sha256:<12 hex> (name, name)}. */
  public List<String> candidates() {
    return candidates;
  }
}
