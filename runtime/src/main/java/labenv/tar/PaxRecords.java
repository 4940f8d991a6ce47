package labenv.tar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import labenv.linux.Names;

/**
 * The records of a PAX extended header ({@code "%d %s=%s\n"}, POSIX.1-2001). Keys are UTF-8 text; values stay
 * bytes, because path and linkpath values need not be UTF-8 (hdrcharset=BINARY) and must not be altered.
 * Order is kept: GNU sparse 0.0 repeats its offset and numbytes keys.
 */
final class PaxRecords {
  private PaxRecords() {}

  record Record(String key, byte[] value) {}

  /** Parses {@code data}; throws {@link IllegalArgumentException} with what is malformed. */
  static List<Record> parse(byte[] data) {
    List<Record> out = new ArrayList<>();
    int pos = 0;
    while (pos < data.length) {
      int space = pos;
      while (space < data.length && data[space] >= '0' && data[space] <= '9') {
        space++;
      }
      if (space == pos || space - pos > 9 || space >= data.length || data[space] != ' ') {
        throw new IllegalArgumentException("malformed PAX record at offset " + pos + " (no length)");
      }
      int length = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
      int end = pos + length;
      if (length < 5 || end > data.length || end <= space + 1 || data[end - 1] != '\n') {
        throw new IllegalArgumentException("malformed PAX record at offset " + pos + " (length " + length + ")");
      }
      int eq = space + 1;
      while (eq < end - 1 && data[eq] != '=') {
        eq++;
      }
      if (eq == space + 1 || eq >= end - 1 && data[eq] != '=') {
        throw new IllegalArgumentException("malformed PAX record at offset " + pos + " (no key=value)");
      }
      String key = Names.decodeStrict(Arrays.copyOfRange(data, space + 1, eq));
      if (key == null) {
        throw new IllegalArgumentException("malformed PAX record at offset " + pos + " (key is not UTF-8)");
      }
      out.add(new Record(key, Arrays.copyOfRange(data, eq + 1, end - 1)));
      pos = end;
    }
    return out;
  }
}
