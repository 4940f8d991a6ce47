package labenv.store;

import labenv.LabenvException;

/** No image has this name, digest or digest prefix. */
public final class ImageNotFoundException extends LabenvException {
  private static final long serialVersionUID = 1L;

  public ImageNotFoundException(String ref) {
    super(Kind.FAILED, "image \"" + ref + "\" not found");
  }
}
