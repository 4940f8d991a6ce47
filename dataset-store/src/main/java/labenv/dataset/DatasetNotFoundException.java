package labenv.dataset;

import labenv.LabenvException;

/** No dataset has this name, tag, digest or digest prefix. */
public final class DatasetNotFoundException extends LabenvException {
  private static final long serialVersionUID = 1L;

  public DatasetNotFoundException(String ref) {
    super(Kind.FAILED, "dataset \"" + ref + "\" not found (labenv dataset ls lists them)");
  }
}
