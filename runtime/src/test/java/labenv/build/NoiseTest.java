package labenv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NoiseTest {
  @TempDir Path upper;

  /** A CPython 3.11 pyc header: magic, PEP 552 flags, then mtime and size (or a hash), and a little code. */
  private Path pyc(String path, int flags, long mtime) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0xa7).put((byte) 0x0d).put((byte) '\r').put((byte) '\n');
    b.putInt(flags).putInt((int) mtime).putInt(42).putInt(0xe3);
    Path p = upper.resolve(path);
    Files.createDirectories(p.getParent());
    Files.write(p, b.array());
    return p;
  }

  @Test
  void removesTimestampPycsNewerThanTheEpochAndKeepsTheRest() throws Exception {
    long epoch = 1_700_000_000L;
    pyc("app/__pycache__/made.cpython-311.pyc", 0, 1_795_346_965L); // source made by the step: the clock
    pyc("usr/lib/python3/__pycache__/packaged.cpython-311.pyc", 0, 1_600_000_000L); // a package's mtime
    pyc("usr/lib/python3/__pycache__/checked.cpython-311.pyc", 3, 1_795_346_965L); // hash-checked
    pyc("app/legacy.pyc", 0, 1_795_346_965L); // not in __pycache__: not Python 3's import system
    Files.writeString(upper.resolve("app/__pycache__/short.pyc"), "x");
    List<String> removed = Noise.normalize(upper, List.of(), epoch);
    assertEquals(List.of("app/__pycache__/made.cpython-311.pyc"), removed);
    assertFalse(Files.exists(upper.resolve("app/__pycache__/made.cpython-311.pyc")));
    assertTrue(Files.exists(upper.resolve("usr/lib/python3/__pycache__/packaged.cpython-311.pyc")));
    assertTrue(Files.exists(upper.resolve("usr/lib/python3/__pycache__/checked.cpython-311.pyc")));
    assertTrue(Files.exists(upper.resolve("app/legacy.pyc")));
  }

  @Test
  void atEpochZeroEveryTimestampPycIsStale() throws Exception {
    pyc("a/__pycache__/m.cpython-311.pyc", 0, 1);
    pyc("a/__pycache__/z.cpython-311.pyc", 0, 0);
    assertEquals(List.of(upper.resolve("a/__pycache__/m.cpython-311.pyc")), Noise.stalePycs(upper, 0));
  }

  @Test
  void theRunEnvironmentPinsTheEpochAndPythonsHashSeed() {
    assertEquals("{SOURCE_DATE_EPOCH=7, PYTHONHASHSEED=0}", Noise.runEnvironment(7).toString());
  }
}
