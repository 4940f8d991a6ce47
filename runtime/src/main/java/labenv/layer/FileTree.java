package labenv.layer;

import com.sun.jna.LastErrorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;

/**
 * Listing and removing trees through directory fds, by name bytes: never follows a symlink, never builds a path
 * string (names need not be UTF-8), works below directories whose modes deny us access when we own them.
 */
public final class FileTree {
  private FileTree() {}

  private static final byte[] DOT = {'.'};

  /** The names in the directory {@code dirfd} (which may be an O_PATH fd), without "." and "..". */
  public static List<byte[]> list(int dirfd) {
    int fd = Syscalls.openat(dirfd, DOT, Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
    try {
      List<byte[]> names = new ArrayList<>();
      byte[] buf = new byte[64 * 1024];
      while (true) {
        long n;
        try {
          n = Libc.getdents64(fd, buf, buf.length);
        } catch (LastErrorException e) {
          throw new ErrnoException("getdents64", null, e.getErrorCode());
        }
        if (n == 0) {
          return names;
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, (int) n).order(ByteOrder.nativeOrder());
        int pos = 0;
        while (pos < n) {
          int reclen = Short.toUnsignedInt(b.getShort(pos + 16));
          int start = pos + 19;
          int end = start;
          while (end < pos + reclen && buf[end] != 0) {
            end++;
          }
          byte[] name = Arrays.copyOfRange(buf, start, end);
          if (!isDotOrDotDot(name)) {
            names.add(name);
          }
          pos += reclen;
        }
      }
    } finally {
      Syscalls.close(fd);
    }
  }

  static boolean isDotOrDotDot(byte[] name) {
    return name.length == 1 && name[0] == '.' || name.length == 2 && name[0] == '.' && name[1] == '.';
  }

  /**
   * Removes {@code name} in {@code dirfd} and, for a directory, everything below it. Without root, directories are
   * first made writable and searchable by us (we own them: we unpacked them), as {@code rm -rf} can't.
   */
  public static void remove(int dirfd, byte[] name, boolean root) {
    Stat st = Syscalls.lstatOrNull(dirfd, name);
    if (st == null) {
      return;
    }
    if (!st.isDirectory()) {
      unlinkat(dirfd, name, 0);
      return;
    }
    if (!root && (st.permissions() & 0700) != 0700) {
      try {
        Libc.fchmodat(dirfd, Syscalls.cstr(name), st.permissions() | 0700, Libc.AT_SYMLINK_NOFOLLOW);
      } catch (LastErrorException e) {
        throw new ErrnoException("fchmodat", Syscalls.display(name), e.getErrorCode());
      }
    }
    int fd = Syscalls.openat(dirfd, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
    try {
      for (byte[] child : list(fd)) {
        remove(fd, child, root);
      }
    } finally {
      Syscalls.close(fd);
    }
    unlinkat(dirfd, name, Libc.AT_REMOVEDIR);
  }

  static void unlinkat(int dirfd, byte[] name, int flags) {
    try {
      Libc.unlinkat(dirfd, Syscalls.cstr(name), flags);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != Libc.ENOENT) {
        throw new ErrnoException("unlinkat", Syscalls.display(name), e.getErrorCode());
      }
    }
  }
}
