package labenv.build;

import java.util.List;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.ImageReference;

/**
 * The base images labenv can make without a registry ({@code labenv bootstrap}), and what to tell a user whose
 * {@code FROM} names an image that is not in the store.
 */
public final class BaseImages {
  private BaseImages() {}

  /** Debian codenames mmdebstrap finds on deb.debian.org (older ones moved to the archive). */
  public static final List<String> DEBIAN_SUITES = List.of("bullseye", "bookworm", "trixie", "forky", "sid");

  /** Names that stand for a different release as time goes on: a base image named so would not be reproducible. */
  private static final List<String> MOVING_SUITES = List.of("latest", "stable", "testing", "unstable",
      "oldstable", "oldoldstable", "experimental");

  private static final Pattern CODENAME = Pattern.compile("[a-z][a-z0-9-]*");

  /** What {@code labenv bootstrap} makes. */
  public sealed interface Target permits Debian, Busybox {
    /** The name the image gets when none is asked for. */
    String defaultName();
  }

  /** A Debian root made by mmdebstrap from a mirror. */
  public record Debian(String suite) implements Target {
    @Override
    public String defaultName() {
      return "debian:" + suite;
    }
  }

  /** A root holding the host's static busybox and its applets. */
  public record Busybox() implements Target {
    @Override
    public String defaultName() {
      return "busybox:latest";
    }
  }

  /**
   * {@code debian:CODENAME} or {@code busybox}; anything else is bad input naming what can be made. Any codename is
   * taken (a new release needs no new labenv; the mirror says whether it exists), names that move are not.
   */
  public static Target parse(String target) {
    String t = target == null ? "" : target.trim();
    if (t.equals("busybox") || t.equals("busybox:latest")) {
      return new Busybox();
    }
    if (t.startsWith("debian:")) {
      String suite = t.substring("debian:".length());
      if (MOVING_SUITES.contains(suite)) {
        throw LabenvException.badInput("debian:" + suite + " names a different release as time goes on: "
            + "bootstrap a codename (" + String.join(", ", DEBIAN_SUITES) + ")");
      }
      if (!CODENAME.matcher(suite).matches()) {
        throw LabenvException.badInput("\"" + suite + "\" is not a Debian codename (such as "
            + String.join(", ", DEBIAN_SUITES) + ")");
      }
      return new Debian(suite);
    }
    if (t.equals("debian")) {
      throw LabenvException.badInput("debian needs a codename: debian:bookworm, or one of "
          + String.join(", ", DEBIAN_SUITES));
    }
    throw LabenvException.badInput("cannot bootstrap \"" + target + "\": labenv bootstrap makes debian:CODENAME ("
        + String.join(", ", DEBIAN_SUITES) + ") and busybox; get other images with labenv pull or labenv load");
  }

  /**
   * One line telling how to get {@code ref} into the store, for a {@code FROM} that names an image it does not
   * have: {@code labenv bootstrap} where labenv can make the image, and always {@code labenv pull} (a registry)
   * and {@code labenv load} (an archive).
   */
  public static String howToGet(String ref) {
    String shown = ref;
    String repository = null;
    String tag = null;
    try {
      ImageReference r = ImageReference.parse(ref);
      shown = r.digest() == null ? r.familiarName() : ref;
      repository = r.familiarRepository();
      tag = r.tag();
    } catch (LabenvException e) {
      // not a reference at all: the generic advice still applies
    }
    String generic = "labenv pull " + shown + " (from a registry) or labenv load FILE (from an archive)";
    if (tag == null) {
      // a digest pins bytes that only a registry or an archive can be trusted to give back
      return "run: " + generic;
    }
    if ("busybox".equals(repository)) {
      return "run: labenv bootstrap busybox" + (shown.equals("busybox:latest") ? "" : " -t " + shown)
          + " (from this host's static busybox), or " + generic;
    }
    if ("debian".equals(repository)) {
      boolean codename = tag != null && !MOVING_SUITES.contains(tag) && CODENAME.matcher(tag).matches();
      String suite = codename ? tag : "bookworm";
      String bootstrap = "labenv bootstrap debian:" + suite + (codename ? "" : " -t " + shown);
      return "run: " + bootstrap + " (with mmdebstrap, from a Debian mirror), or " + generic;
    }
    return "run: " + generic;
  }
}
