package labenv.layer;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Supplier;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;

/** Reads all extended attributes of a file, by descriptor (cheap) or by path (for what cannot be opened). */
final class Xattrs {
  private Xattrs() {}

  private interface Calls {
    long list(byte[] buf, long size);

    long get(byte[] key, byte[] buf, long size);
  }

  /** Of an open file or directory. */
  static SortedMap<String, byte[]> ofFd(int fd, Supplier<String> where) {
    return read(new Calls() {
      @Override
      public long list(byte[] buf, long size) {
        return Libc.flistxattr(fd, buf, size);
      }

      @Override
      public long get(byte[] key, byte[] buf, long size) {
        return Libc.fgetxattr(fd, key, buf, size);
      }
    }, "flistxattr", "fgetxattr", where);
  }

  /** Of a path, not following a final symlink. */
  static SortedMap<String, byte[]> ofPath(byte[] path, Supplier<String> where) {
    byte[] cpath = Syscalls.cstr(path);
    return read(new Calls() {
      @Override
      public long list(byte[] buf, long size) {
        return Libc.llistxattr(cpath, buf, size);
      }

      @Override
      public long get(byte[] key, byte[] buf, long size) {
        return Libc.lgetxattr(cpath, key, buf, size);
      }
    }, "llistxattr", "lgetxattr", where);
  }

  private static SortedMap<String, byte[]> read(Calls calls, String listCall, String getCall, Supplier<String> where) {
    SortedMap<String, byte[]> out = new TreeMap<>();
    byte[] list = list(calls, listCall, where);
    int start = 0;
    for (int i = 0; i < list.length; i++) {
      if (list[i] == 0) {
        if (i > start) {
          byte[] key = Arrays.copyOfRange(list, start, i);
          byte[] value = get(calls, Syscalls.cstr(key), getCall, where);
          if (value != null) {
            out.put(new String(key, StandardCharsets.UTF_8), value);
          }
        }
        start = i + 1;
      }
    }
    return out;
  }

  private static byte[] list(Calls calls, String call, Supplier<String> where) {
    while (true) {
      try {
        long size = calls.list(null, 0);
        if (size == 0) {
          return new byte[0];
        }
        byte[] buf = new byte[(int) size];
        long n = calls.list(buf, buf.length);
        return Arrays.copyOf(buf, (int) n);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == Libc.EOPNOTSUPP) {
          return new byte[0];
        }
        if (e.getErrorCode() != Libc.ERANGE) {
          throw new ErrnoException(call, where.get(), e.getErrorCode());
        }
      }
    }
  }

  private static byte[] get(Calls calls, byte[] ckey, String call, Supplier<String> where) {
    while (true) {
      try {
        long size = calls.get(ckey, null, 0);
        byte[] buf = new byte[(int) size];
        long n = size == 0 ? 0 : calls.get(ckey, buf, buf.length);
        return Arrays.copyOf(buf, (int) n);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == Libc.ENODATA) {
          return null;
        }
        if (e.getErrorCode() != Libc.ERANGE) {
          String key = new String(ckey, 0, ckey.length - 1, StandardCharsets.UTF_8);
          throw new ErrnoException(call + " " + key, where.get(), e.getErrorCode());
        }
      }
    }
  }
}
