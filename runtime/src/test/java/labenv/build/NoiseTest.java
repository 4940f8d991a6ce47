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

  @Test
  void removesLogsAndCachesKeepsWhiteoutsAndTheRest(@TempDir Path lower) throws Exception {
    for (String f : List.of("var/log/apt/history.log", "var/log/apt/term.log", "var/log/dpkg.log",
        "var/cache/apt/pkgcache.bin", "var/cache/ldconfig/aux-cache", "home/alice/.cache/pip/http/x",
        "root/.cache/pip/y", "var/lib/dpkg/status-old", "var/lib/dpkg/status", "usr/bin/tool",
        "home/alice/notes.txt")) {
      Path p = upper.resolve(f);
      Files.createDirectories(p.getParent());
      Files.writeString(p, f);
    }
    // A deletion of a lower layer's log is a real change: the whiteout (a 0:0 character device) stays.
    Path whiteout = upper.resolve("var/log/apt/eipp.log.xz");
    assertEquals(0, new ProcessBuilder("mknod", whiteout.toString(), "c", "0", "0").start().waitFor());
    Files.createDirectories(upper.resolve("proc"));
    Files.createDirectories(upper.resolve("dev"));
    Files.writeString(upper.resolve("dev/keep"), "not empty");
    Files.createDirectories(lower.resolve("etc"));
    Files.createFile(lower.resolve("etc/hosts"));
    Files.createDirectories(upper.resolve("etc"));
    Files.createFile(upper.resolve("etc/hosts")); // in a lower layer: the image's own, kept

    Noise.normalize(upper, List.of(lower), 0);

    for (String gone : List.of("var/log/apt/history.log", "var/log/apt/term.log", "var/log/dpkg.log",
        "var/cache/apt/pkgcache.bin", "var/cache/ldconfig/aux-cache", "home/alice/.cache/pip", "root/.cache/pip",
        "var/lib/dpkg/status-old", "proc")) {
      assertFalse(Files.exists(upper.resolve(gone)), gone);
    }
    for (String kept : List.of("var/lib/dpkg/status", "usr/bin/tool", "home/alice/notes.txt", "dev/keep",
        "etc/hosts", "var/log/apt/eipp.log.xz")) {
      assertTrue(Files.exists(upper.resolve(kept), java.nio.file.LinkOption.NOFOLLOW_LINKS), kept);
    }
  }
}
