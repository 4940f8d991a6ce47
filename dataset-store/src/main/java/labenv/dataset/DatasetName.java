package labenv.dataset;

import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.ImageReference;

/**
 * A dataset's name and tag, {@code NAME:TAG}. Names follow the OCI distribution grammar for
 * repositories (lowercase {@code [a-z0-9]} runs joined by {@code .}, {@code _}, {@code __} or
 * {@code -}, optionally in {@code /} segments), stricter than "any {@code [a-z0-9._-]}", so that a
 * dataset name survives save/load and a registry push unchanged; tags are
 * {@code [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}}. Kept in Docker's familiar form, as image names are.
 */
public record DatasetName(String name, String tag) {
  public static final String LATEST = "latest";
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  /** Parses {@code NAME[:TAG]}; without a tag, {@code defaultTag} (may be null: then the tag stays null). */
  public static DatasetName parse(String ref, String defaultTag) {
    if (ref == null || ref.isEmpty() || ref.contains("@")) {
      throw invalid(ref, "want NAME[:TAG]");
    }
    int slash = ref.lastIndexOf('/');
    int colon = ref.lastIndexOf(':');
    String tag = colon > slash ? ref.substring(colon + 1) : null;
    String name = colon > slash ? ref.substring(0, colon) : ref;
    if (tag != null && !TAG.matcher(tag).matches()) {
      throw invalid(ref, "a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with . or -");
    }
    ImageReference parsed;
    try {
      parsed = ImageReference.parse(name + ":" + LATEST);
    } catch (ImageReference.InvalidReferenceException e) {
      throw invalid(ref, "a name is lowercase letters and digits, joined by . _ or -, in / separated segments");
    }
    return new DatasetName(parsed.familiarRepository(), tag != null ? tag : defaultTag);
  }

  /** True when {@code tag} is a valid tag. */
  public static boolean isTag(String tag) {
    return tag != null && TAG.matcher(tag).matches();
  }

  public DatasetName withTag(String newTag) {
    return new DatasetName(name, newTag);
  }

  private static LabenvException invalid(String ref, String why) {
    return LabenvException.badInput("invalid dataset name \"" + ref + "\": " + why);
  }

  @Override
  public String toString() {
    return tag == null ? name : name + ":" + tag;
  }
}
