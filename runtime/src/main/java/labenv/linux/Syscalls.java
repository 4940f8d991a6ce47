package labenv.linux;

import com.sun.jna.LastErrorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The system calls labenv's file code uses, with errors as {@link ErrnoException} naming the call
 * and its target. Names are raw bytes (no trailing NUL); they are passed through unchanged.
 */
public final class Syscalls {
  private Syscalls() {}

  /** A NUL-terminated copy of {@code name}, as C wants it. */
  public static byte[] cstr(byte[] name) {
    return Arrays.copyOf(name, name.length + 1);
  }

  public static byte[] cstr(String s) {
    return cstr(s.getBytes(StandardCharsets.UTF_8));
  }

  /** How an error names a target: UTF-8 where it is, \xNN escapes where it is not. */
  public static String display(byte[] name) {
    return Names.display(name);
  }

  public static int openat(int dirfd, byte[] name, int flags, int mode) {
    try {
      return Libc.openat(dirfd, cstr(name), flags | Libc.O_CLOEXEC, mode);
    } catch (LastErrorException e) {
      throw new ErrnoException("openat", display(name), e.getErrorCode());
    }
  }

  /**
   * openat2(2): opens {@code name} below {@code dirfd} with the kernel enforcing {@code resolve}
   * (for example {@link Libc#RESOLVE_BENEATH}). Throws with errno EXDEV when the path would leave.
   */
  public static int openat2(int dirfd, byte[] name, int flags, int mode, long resolve) {
    long[] how = {(long) (flags | Libc.O_CLOEXEC), mode, resolve};
    try {
      return (int) Libc.syscall(Libc.SYS_OPENAT2, dirfd, cstr(name), how, 24);
    } catch (LastErrorException e) {
      throw new ErrnoException("openat2", display(name), e.getErrorCode());
    }
  }

  public static void close(int fd) {
    try {
      Libc.close(fd);
    } catch (LastErrorException e) {
      throw new ErrnoException("close", null, e.getErrorCode());
    }
  }

  /** lstat of {@code name} relative to {@code dirfd} (an empty name means dirfd itself). */
  public static Stat lstat(int dirfd, byte[] name) {
    byte[] buf = new byte[256];
    int flags = Libc.AT_SYMLINK_NOFOLLOW | (name.length == 0 ? Libc.AT_EMPTY_PATH : 0);
    try {
      Libc.statx(dirfd, cstr(name), flags, Libc.STATX_BASIC_STATS, buf);
    } catch (LastErrorException e) {
      throw new ErrnoException("statx", display(name), e.getErrorCode());
    }
    return parseStatx(buf);
  }

  /** Like {@link #lstat} but returns null when the name does not exist. */
  public static Stat lstatOrNull(int dirfd, byte[] name) {
    try {
      return lstat(dirfd, name);
    } catch (ErrnoException e) {
      if (e.errno() == Libc.ENOENT) {
        return null;
      }
      throw e;
    }
  }

  static Stat parseStatx(byte[] buf) {
    ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    int nlink = b.getInt(16);
    int uid = b.getInt(20);
    int gid = b.getInt(24);
    int mode = Short.toUnsignedInt(b.getShort(28));
    long ino = b.getLong(32);
    long size = b.getLong(40);
    long blocks = b.getLong(48);
    // statx_timestamp is {s64 tv_sec; u32 tv_nsec; s32 pad}: atime 64, btime 80, ctime 96, mtime 112.
    long mtimeSec = b.getLong(112);
    int mtimeNsec = b.getInt(120);
    int rdevMajor = b.getInt(128);
    int rdevMinor = b.getInt(132);
    int devMajor = b.getInt(136);
    int devMinor = b.getInt(140);
    return new Stat(mode, uid, gid, Integer.toUnsignedLong(nlink), ino, size, blocks, mtimeSec, mtimeNsec,
        rdevMajor, rdevMinor, devMajor, devMinor);
  }

  public static byte[] readlinkat(int dirfd, byte[] name) {
    int size = 256;
    while (true) {
      byte[] buf = new byte[size];
      long n;
      try {
        n = Libc.readlinkat(dirfd, cstr(name), buf, buf.length);
      } catch (LastErrorException e) {
        throw new ErrnoException("readlinkat", display(name), e.getErrorCode());
      }
      if (n < buf.length) {
        return Arrays.copyOf(buf, (int) n);
      }
      size *= 4;
    }
  }

  public static void fsync(int fd, String what) {
    try {
      Libc.fsync(fd);
    } catch (LastErrorException e) {
      throw new ErrnoException("fsync", what, e.getErrorCode());
    }
  }

  /** makedev(3) for glibc's encoding. */
  public static long makedev(int major, int minor) {
    long ma = Integer.toUnsignedLong(major);
    long mi = Integer.toUnsignedLong(minor);
    return ((ma & 0xfffff000L) << 32) | ((ma & 0xfffL) << 8) | ((mi & 0xffffff00L) << 12) | (mi & 0xffL);
  }

  public static boolean isRoot() {
    return Libc.geteuid() == 0;
  }
}
