package labenv.layer;

import com.sun.jna.LastErrorException;
import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Names;
import labenv.linux.Stat;
import labenv.linux.Syscalls;

/**
 * An open directory of the tree being packed. Everything goes through the directory's file
 * descriptor with names as bytes (openat with O_NOFOLLOW, getdents64, statx, readlinkat, and the
 * xattr calls on "/proc/self/fd/FD/NAME"), so names that are not UTF-8 work and a symlink swapped
 * in mid-walk is never followed.
 */
final class SourceDirectory implements Closeable {
  private final int fd;
  private final String where;

  private SourceDirectory(int fd, String where) {
    this.fd = fd;
    this.where = where;
  }

  /** Opens the root of a tree (a symlink as the root itself is followed, as tar does). */
  static SourceDirectory open(java.nio.file.Path dir) {
    byte[] path = dir.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8);
    return new SourceDirectory(Syscalls.openat(Libc.AT_FDCWD, path, Libc.O_RDONLY | Libc.O_DIRECTORY, 0),
        dir.toString());
  }

  SourceDirectory openChild(byte[] name) {
    int child = Syscalls.openat(fd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
    return new SourceDirectory(child, where + "/" + Names.display(name));
  }

  /** The directory's own metadata. */
  Stat stat() {
    return Syscalls.lstat(fd, new byte[0]);
  }

  /** The names in the directory, without "." and "..", in no particular order. */
  List<byte[]> names() {
    List<byte[]> names = new ArrayList<>();
    byte[] buf = new byte[64 * 1024];
    ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    // getdents64 continues from the descriptor's offset; start from the top in case of a second listing.
    try {
      Libc.lseek(fd, 0, Libc.SEEK_SET);
    } catch (LastErrorException e) {
      throw new ErrnoException("lseek", where, e.getErrorCode());
    }
    while (true) {
      long n;
      try {
        n = Libc.getdents64(fd, buf, buf.length);
      } catch (LastErrorException e) {
        throw new ErrnoException("getdents64", where, e.getErrorCode());
      }
      if (n == 0) {
        return names;
      }
      int pos = 0;
      while (pos < n) {
        int reclen = Short.toUnsignedInt(bb.getShort(pos + 16));
        int start = pos + 19;
        int end = start;
        while (buf[end] != 0) {
          end++;
        }
        byte[] name = Arrays.copyOfRange(buf, start, end);
        if (!(name.length == 1 && name[0] == '.') && !(name.length == 2 && name[0] == '.' && name[1] == '.')) {
          names.add(name);
        }
        pos += reclen;
      }
    }
  }

  Stat lstat(byte[] name) {
    return Syscalls.lstat(fd, name);
  }

  byte[] readlink(byte[] name) {
    return Syscalls.readlinkat(fd, name);
  }

  /** All extended attributes of {@code name}, not following a symlink (for what is not opened). */
  SortedMap<String, byte[]> xattrs(byte[] name) {
    return Xattrs.ofPath(procPath(name), () -> where(name));
  }

  /** The directory's own extended attributes. */
  SortedMap<String, byte[]> xattrs() {
    return Xattrs.ofFd(fd, () -> where);
  }

  /**
   * Opens a regular file for reading, reading through {@code buffer}. O_NONBLOCK so that a fifo
   * swapped in after the listing cannot hang the walk; the caller checks the type of what it got.
   */
  SourceFile openFile(byte[] name, com.sun.jna.Memory buffer) {
    int file = Syscalls.openat(fd, name, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_NONBLOCK, 0);
    return new SourceFile(file, () -> where(name), buffer);
  }

  /** For messages: the directory as given plus the names below it, \xNN where not UTF-8. */
  String where(byte[] name) {
    return name.length == 0 ? where : where + "/" + Names.display(name);
  }

  private byte[] procPath(byte[] name) {
    byte[] prefix = ("/proc/self/fd/" + fd + "/").getBytes(StandardCharsets.US_ASCII);
    byte[] p = Arrays.copyOf(prefix, prefix.length + name.length);
    System.arraycopy(name, 0, p, prefix.length, name.length);
    return p;
  }

  @Override
  public void close() {
    Syscalls.close(fd);
  }
}
