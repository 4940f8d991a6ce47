package labenv;

/**
 * {@code SOURCE_DATE_EPOCH} (reproducible-builds.org): the seconds since 1970 that stand for "now"
 * in everything labenv makes, so that output does not depend on when it was made. Default 0.
 */
public final class SourceDateEpoch {
  private SourceDateEpoch() {}

  public static final String VARIABLE = "SOURCE_DATE_EPOCH";

  /** The value of {@code s} (null or blank: 0); anything but a whole number of seconds is bad input. */
  public static long parse(String s) {
    if (s == null || s.isBlank()) {
      return 0;
    }
    try {
      long v = Long.parseLong(s.trim());
      if (v < 0) {
        throw LabenvException.badInput(VARIABLE + " \"" + s + "\" is negative");
      }
      return v;
    } catch (NumberFormatException e) {
      throw LabenvException.badInput(VARIABLE + " \"" + s + "\" is not a number of seconds");
    }
  }

  /** From this process's environment. */
  public static long fromEnvironment() {
    return parse(System.getenv(VARIABLE));
  }
}
