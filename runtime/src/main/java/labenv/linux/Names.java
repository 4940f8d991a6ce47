package labenv.linux;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** File names as the kernel keeps them: bytes, usually but not always UTF-8. */
public final class Names {
  private Names() {}

  /** True when {@code name} is valid UTF-8. */
  public static boolean isUtf8(byte[] name) {
    return decodeStrict(name) != null;
  }

  /** The UTF-8 text of {@code name}, or null when it is not valid UTF-8. */
  public static String decodeStrict(byte[] name) {
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer cb = d.decode(ByteBuffer.wrap(name));
      return cb.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** For messages: UTF-8 text, with each byte that is not part of valid UTF-8 (and each control byte) as \xNN. */
  public static String display(byte[] name) {
    String s = decodeStrict(name);
    if (s != null && s.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
      return s;
    }
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < name.length) {
      int b = name[i] & 0xff;
      int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
      if (len > 1 && i + len <= name.length) {
        String seq = decodeStrict(java.util.Arrays.copyOfRange(name, i, i + len));
        if (seq != null) {
          sb.append(seq);
          i += len;
          continue;
        }
      }
      if (b >= 0x20 && b < 0x7f) {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b));
      }
      i++;
    }
    return sb.toString();
  }
}
