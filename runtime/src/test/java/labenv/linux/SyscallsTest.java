package labenv.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyscallsTest {
  @TempDir Path dir;

  @Test
  void lstatReadsWhatTheFileSystemHolds() throws Exception {
    Path f = dir.resolve("f");
    Files.write(f, new byte[1234]);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-x---"));
    Files.createSymbolicLink(dir.resolve("l"), Path.of("f"));
    int fd = Libc.open(Syscalls.cstr(dir.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
    try {
      Stat st = Syscalls.lstat(fd, "f".getBytes(StandardCharsets.UTF_8));
      assertTrue(st.isRegular());
      assertEquals(1234, st.size());
      assertEquals(0750, st.permissions());
      assertEquals(Files.getLastModifiedTime(f).toMillis() / 1000, st.mtimeSec());
      assertEquals(((Number) Files.getAttribute(f, "unix:ino")).longValue(), st.ino());
      Stat link = Syscalls.lstat(fd, "l".getBytes(StandardCharsets.UTF_8));
      assertTrue(link.isSymlink());
      assertArrayEquals("f".getBytes(StandardCharsets.UTF_8), Syscalls.readlinkat(fd, "l".getBytes(StandardCharsets.UTF_8)));
      ErrnoException e = assertThrows(ErrnoException.class, () -> Syscalls.lstat(fd, "missing".getBytes(StandardCharsets.UTF_8)));
      assertEquals("statx \"missing\": No such file or directory", e.getMessage());
    } finally {
      Syscalls.close(fd);
    }
  }

  @Test
  void namesThatAreNotUtf8AreShownEscaped() {
    assertEquals("caf\\xe9", Names.display(new byte[] {'c', 'a', 'f', (byte) 0xe9}));
    assertEquals("café", Names.display("café".getBytes(StandardCharsets.UTF_8)));
  }
}
