package labenv.image;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;
import labenv.LabenvException;

/** A content digest, {@code sha256:<64 hex>}. Only sha256 is produced; sha512 is parsed but not verified. */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
  private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
  private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

  public Digest {
    if (algorithm.equals("sha256") ? !SHA256.matcher(hex).matches()
        : algorithm.equals("sha512") ? !SHA512.matcher(hex).matches() : true) {
      throw new InvalidDigestException(algorithm + ":" + hex);
    }
  }

  /** Parses {@code sha256:HEX}; throws {@link InvalidDigestException} (bad input) otherwise. */
  @JsonCreator
  public static Digest parse(String s) {
    if (s == null) {
      throw new InvalidDigestException("null");
    }
    int colon = s.indexOf(':');
    if (colon <= 0) {
      throw new InvalidDigestException(s);
    }
    return new Digest(s.substring(0, colon), s.substring(colon + 1));
  }

  /** True when {@code s} parses as a digest. */
  public static boolean isDigest(String s) {
    try {
      parse(s);
      return true;
    } catch (InvalidDigestException e) {
      return false;
    }
  }

  public static Digest sha256(byte[] hash) {
    return new Digest("sha256", HexFormat.of().formatHex(hash));
  }

  /** The sha256 digest of {@code data}. */
  public static Digest of(byte[] data) {
    return sha256(newSha256().digest(data));
  }

  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first 12 hex digits, as {@code docker images} shows IDs. */
  public String shortHex() {
    return hex.substring(0, 12);
  }

  @JsonValue
  @Override
  public String toString() {
    return algorithm + ":" + hex;
  }

  @Override
  public int compareTo(Digest o) {
    return toString().compareTo(o.toString());
  }

  /** A string that is not a valid digest. */
  public static final class InvalidDigestException extends LabenvException {
    private static final long serialVersionUID = 1L;

    InvalidDigestException(String s) {
      super(Kind.BAD_INPUT, "invalid digest " + quote(s) + " (want sha256:<64 lowercase hex digits>)");
    }

    private static String quote(String s) {
      return "\"" + (s.length() > 80 ? s.substring(0, 80) + "…" : s) + "\"";
    }
  }
}
