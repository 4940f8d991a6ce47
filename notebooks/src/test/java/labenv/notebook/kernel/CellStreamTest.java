package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CellStreamTest {
  @Test
  void aFlushInsideACharacterKeepsItsBytesForTheNextFlush() {
    byte[] text = "a\u00e9\u20ac\ud83d\ude00".getBytes(StandardCharsets.UTF_8); // 1, 2, 3 and 4 bytes
    assertEquals(text.length, CellStream.completeUtf8(text));
    // Cut anywhere inside the last character: everything before it is complete.
    for (int cut = text.length - 3; cut < text.length; cut++) {
      assertEquals(text.length - 4, CellStream.completeUtf8(Arrays.copyOf(text, cut)));
    }
    assertEquals(1, CellStream.completeUtf8(Arrays.copyOf(text, 2)));
    assertEquals(3, CellStream.completeUtf8(Arrays.copyOf(text, 3)));
    assertEquals(0, CellStream.completeUtf8(new byte[0]));
  }
}
