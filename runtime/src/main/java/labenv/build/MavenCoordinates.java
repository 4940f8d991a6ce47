package labenv.build;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import labenv.LabenvException;

/**
 * A Maven artifact's coordinates, written {@code group:artifact[:extension[:classifier]]:version} as Maven Resolver
 * and the Envfile's {@code MAVEN} instruction write them; the extension is {@code jar} when not given.
 */
public record MavenCoordinates(String groupId, String artifactId, String extension, String classifier,
    String version) implements Comparable<MavenCoordinates> {
  public MavenCoordinates {
    extension = extension == null || extension.isEmpty() ? "jar" : extension;
    classifier = classifier == null ? "" : classifier;
    for (String part : new String[] {groupId, artifactId, version}) {
      if (part == null || part.isEmpty()) {
        throw invalid(groupId + ":" + artifactId + ":" + version);
      }
    }
    for (String part : new String[] {groupId, artifactId, extension, classifier, version}) {
      // Each part becomes a directory or file name in the repository layout and in the image.
      if (part.contains("/") || part.contains(":") || part.equals(".") || part.equals("..")
          || part.chars().anyMatch(c -> c <= ' ' || c == '\\')) {
        throw invalid(groupId + ":" + artifactId + ":" + version);
      }
    }
  }

  /** Parses {@code g:a:v}, {@code g:a:ext:v} or {@code g:a:ext:classifier:v}; anything else is bad input. */
  @JsonCreator
  public static MavenCoordinates parse(String s) {
    if (s == null) {
      throw invalid("null");
    }
    String[] p = s.split(":", -1);
    return switch (p.length) {
      case 3 -> new MavenCoordinates(p[0], p[1], "jar", "", p[2]);
      case 4 -> new MavenCoordinates(p[0], p[1], p[2], "", p[3]);
      case 5 -> new MavenCoordinates(p[0], p[1], p[2], p[3], p[4]);
      default -> throw invalid(s);
    };
  }

  /** The same artifact whatever its version ({@code group:artifact[:extension[:classifier]]}): what a lock compares. */
  public String versionlessKey() {
    String s = groupId + ":" + artifactId;
    if (!classifier.isEmpty()) {
      return s + ":" + extension + ":" + classifier;
    }
    return extension.equals("jar") ? s : s + ":" + extension;
  }

  /** The file name in a Maven repository: {@code artifact-version[-classifier].extension}. */
  public String fileName() {
    return artifactId + "-" + version + (classifier.isEmpty() ? "" : "-" + classifier) + "." + extension;
  }

  /** The directory in a Maven repository: {@code group/as/path/artifact/version}. */
  public String directory() {
    return groupId.replace('.', '/') + "/" + artifactId + "/" + version;
  }

  @JsonValue
  @Override
  public String toString() {
    return versionlessKey() + ":" + version;
  }

  @Override
  public int compareTo(MavenCoordinates o) {
    return toString().compareTo(o.toString());
  }

  private static LabenvException invalid(String s) {
    return LabenvException.badInput("Maven coordinates \"" + s
        + "\": expected group:artifact:version (or group:artifact:extension[:classifier]:version)");
  }
}
