package labenv.image;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * An image name in Docker's grammar, {@code [registry[:port]/]path[:tag][@digest]}, normalised the
 * way Docker normalises it: {@code busybox} is {@code docker.io/library/busybox:latest}.
 *
 * <p>The rules follow github.com/distribution/reference ({@code ParseNormalizedNamed} followed by
 * {@code TagNameOnly}), so a name Docker accepts is accepted here and means the same image.
 *
 * @param registry the registry host and optional port, {@code docker.io} by default
 * @param path the repository path inside the registry, {@code library/busybox}
 * @param tag the tag; {@code latest} when neither a tag nor a digest was given, null when only a
 *     digest was
 * @param digest the digest, or null
 */
public record ImageReference(String registry, String path, String tag, Digest digest) {
  public static final String DEFAULT_REGISTRY = "docker.io";
  public static final String DEFAULT_TAG = "latest";
  /** Docker's limit on the repository path. */
  public static final int MAX_PATH_LENGTH = 255;

  private static final String LEGACY_DEFAULT_REGISTRY = "index.docker.io";
  private static final String OFFICIAL_PREFIX = "library/";

  // The productions of distribution/reference's regexp.go, kept in its words.
  private static final String ALPHANUMERIC = "[a-z0-9]+";
  private static final String SEPARATOR = "(?:[._]|__|[-]+)";
  private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
  private static final String DOMAIN_NAME = DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*";
  private static final String IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
  private static final String DOMAIN_AND_PORT = "(?:" + DOMAIN_NAME + "|" + IPV6 + ")(?::[0-9]+)?";
  private static final String PATH_COMPONENT = ALPHANUMERIC + "(?:" + SEPARATOR + ALPHANUMERIC + ")*";
  private static final String REMOTE_NAME = PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*";
  private static final String TAG = "[\\w][\\w.-]{0,127}";
  private static final String DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

  private static final Pattern REFERENCE = Pattern.compile(
      "(" + "(?:" + DOMAIN_AND_PORT + "/)?" + REMOTE_NAME + ")(?::(" + TAG + "))?(?:@(" + DIGEST + "))?");
  private static final Pattern NAME = Pattern.compile("(?:(" + DOMAIN_AND_PORT + ")/)?(" + REMOTE_NAME + ")");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-f0-9]{64}");
  private static final Pattern TAG_ONLY = Pattern.compile(TAG);

  public ImageReference {
    if (registry == null || registry.isEmpty() || path == null || path.isEmpty()) {
      throw new IllegalArgumentException("an image reference needs a registry and a path");
    }
  }

  /**
   * Parses and normalises a reference as users type it ({@code busybox}, {@code busybox:1.36},
   * {@code localhost:5000/team/app@sha256:…}). Throws {@link InvalidReferenceException} saying why
   * the name is not valid.
   */
  public static ImageReference parse(String s) {
    if (s == null || s.isEmpty()) {
      throw new InvalidReferenceException("\"\"", "a reference must have at least one name component");
    }
    if (IDENTIFIER.matcher(s).matches()) {
      throw new InvalidReferenceException(s, "a 64-digit hexadecimal string is an image ID, not a name");
    }
    String[] split = splitRegistry(s);
    String registry = split[0];
    String remainder = split[1];
    int colon = remainder.indexOf(':');
    String remote = colon >= 0 ? remainder.substring(0, colon) : remainder;
    int at = remote.indexOf('@');
    remote = at >= 0 ? remote.substring(0, at) : remote;
    if (!remote.toLowerCase(Locale.ROOT).equals(remote)) {
      throw new InvalidReferenceException(s, "repository name \"" + nameOf(s) + "\" must be lowercase");
    }
    String full = registry + "/" + remainder;
    Matcher m = REFERENCE.matcher(full);
    if (!m.matches()) {
      throw new InvalidReferenceException(s, whyInvalid(s));
    }
    Matcher name = NAME.matcher(m.group(1));
    if (!name.matches() || name.group(1) == null) {
      throw new InvalidReferenceException(s, "invalid reference format");
    }
    String path = name.group(2);
    if (path.length() > MAX_PATH_LENGTH) {
      throw new InvalidReferenceException(s,
          "repository name must not be more than " + MAX_PATH_LENGTH + " characters");
    }
    String tag = m.group(2);
    Digest digest = null;
    if (m.group(3) != null) {
      try {
        digest = Digest.parse(m.group(3));
      } catch (Digest.InvalidDigestException e) {
        throw new InvalidReferenceException(s, e.getMessage());
      }
    }
    if (tag == null && digest == null) {
      tag = DEFAULT_TAG;
    }
    return new ImageReference(name.group(1), path, tag, digest);
  }

  /** True when {@code s} is a valid reference. */
  public static boolean isValid(String s) {
    try {
      parse(s);
      return true;
    } catch (InvalidReferenceException e) {
      return false;
    }
  }

  /** Docker's splitDockerDomain: what before the first slash counts as a registry. */
  private static String[] splitRegistry(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      return new String[] {DEFAULT_REGISTRY, OFFICIAL_PREFIX + s};
    }
    String first = s.substring(0, slash);
    String rest = s.substring(slash + 1);
    String registry;
    String remote;
    if (first.equals("localhost")) {
      registry = first;
      remote = rest;
    } else if (first.equals(LEGACY_DEFAULT_REGISTRY)) {
      registry = DEFAULT_REGISTRY;
      remote = rest;
    } else if (first.contains(".") || first.contains(":")
        || !first.toLowerCase(Locale.ROOT).equals(first)) {
      // Something with a dot or a port looks like a host; uppercase is not allowed in a path, so
      // Docker takes an uppercase first component to be a host name too.
      registry = first;
      remote = rest;
    } else {
      registry = DEFAULT_REGISTRY;
      remote = s;
    }
    if (registry.equals(DEFAULT_REGISTRY) && !remote.contains("/")) {
      remote = OFFICIAL_PREFIX + remote;
    }
    return new String[] {registry, remote};
  }

  /** The name part of {@code s} as the user typed it: without tag and digest. */
  private static String nameOf(String s) {
    int at = s.indexOf('@');
    String beforeDigest = at >= 0 ? s.substring(0, at) : s;
    int colon = beforeDigest.lastIndexOf(':');
    return colon > beforeDigest.lastIndexOf('/') ? beforeDigest.substring(0, colon) : beforeDigest;
  }

  /** A more precise reason than "invalid reference format" for the common mistakes. */
  private static String whyInvalid(String s) {
    int at = s.indexOf('@');
    String beforeDigest = at >= 0 ? s.substring(0, at) : s;
    String digestPart = at >= 0 ? s.substring(at + 1) : null;
    String name = nameOf(s);
    String tag = name.length() < beforeDigest.length() ? beforeDigest.substring(name.length() + 1) : null;
    if (name.isEmpty() || name.endsWith("/")) {
      return "a reference must have a repository name";
    }
    if (!NAME.matcher(name).matches()) {
      return "invalid repository name \"" + name
          + "\" (lowercase letters and digits, separated by '.', '_', '__', '-' or '/')";
    }
    if (tag != null && !TAG_ONLY.matcher(tag).matches()) {
      return tag.length() > 128
          ? "tag must not be more than 128 characters"
          : "invalid tag \"" + tag + "\" (letters, digits, '_', '.', '-'; not starting with '.' or '-')";
    }
    if (digestPart != null) {
      return "invalid digest \"" + digestPart + "\"";
    }
    return "invalid reference format";
  }

  /** The repository with its registry, {@code docker.io/library/busybox}. */
  public String repository() {
    return registry + "/" + path;
  }

  /** The repository as Docker shows it: {@code busybox}, {@code user/app}, {@code localhost:5000/x}. */
  public String familiarRepository() {
    if (registry.equals(DEFAULT_REGISTRY)) {
      if (path.startsWith(OFFICIAL_PREFIX) && path.indexOf('/', OFFICIAL_PREFIX.length()) < 0) {
        return path.substring(OFFICIAL_PREFIX.length());
      }
      return path;
    }
    return repository();
  }

  /** The whole reference as Docker shows it: {@code busybox:latest}, {@code localhost:5000/x:1}. */
  public String familiarName() {
    return familiarRepository() + suffix();
  }

  /** This reference with {@code newTag} and no digest. */
  public ImageReference withTag(String newTag) {
    if (newTag == null || !TAG_ONLY.matcher(newTag).matches()) {
      throw new InvalidReferenceException(familiarRepository() + ":" + newTag, "invalid tag \"" + newTag + "\"");
    }
    return new ImageReference(registry, path, newTag, null);
  }

  /** This reference with {@code newDigest} (the tag, if any, kept). */
  public ImageReference withDigest(Digest newDigest) {
    return new ImageReference(registry, path, tag, newDigest);
  }

  private String suffix() {
    return (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
  }

  /** The fully qualified form, {@code docker.io/library/busybox:latest}. */
  @Override
  public String toString() {
    return repository() + suffix();
  }

  /** A string that is not a valid image reference. */
  public static final class InvalidReferenceException extends LabenvException {
    private static final long serialVersionUID = 1L;

    InvalidReferenceException(String input, String why) {
      super(Kind.BAD_INPUT, "invalid reference " + quote(input) + ": " + why);
    }

    private static String quote(String s) {
      if (s.startsWith("\"")) {
        return s;
      }
      return "\"" + (s.length() > 100 ? s.substring(0, 100) + "…" : s) + "\"";
    }
  }
}
