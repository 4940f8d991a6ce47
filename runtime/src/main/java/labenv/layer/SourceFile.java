package labenv.layer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.function.Supplier;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;

/**
 * One open regular file of the tree being packed: its metadata as of the open (fstat, xattrs by
 * descriptor) and its bytes. For a sparse file the holes (found with lseek SEEK_DATA/SEEK_HOLE)
 * come out as zeros without being read, so the tar entry is a plain file whose bytes do not depend
 * on how the host stored it. Reads go through one native buffer owned by the caller, with no
 * second open of the file.
 */
final class SourceFile implements ReadableByteChannel {
  private static final int ENXIO = 6;
  private static final int SEEK_END = 2;

  private final int fd;
  private final Stat stat;
  private final Supplier<String> where;
  private final Memory buffer;
  private final boolean sparse;
  private boolean open = true;
  private long position;
  private long dataStart = -1;
  private long holeStart = -1;

  /** Takes ownership of {@code fd}; {@code buffer} is borrowed for reads. */
  SourceFile(int fd, Supplier<String> where, Memory buffer) {
    this.fd = fd;
    this.where = where;
    this.buffer = buffer;
    try {
      this.stat = Syscalls.lstat(fd, new byte[0]);
    } catch (RuntimeException e) {
      Syscalls.close(fd);
      throw e;
    }
    this.sparse = stat.blocks() * 512 < stat.size();
  }

  Stat stat() {
    return stat;
  }

  SortedMap<String, byte[]> xattrs() {
    return Xattrs.ofFd(fd, where);
  }

  String where() {
    return where.get();
  }

  /** Back to the first byte, to read the content again. */
  void rewind() {
    seek(0, Libc.SEEK_SET, "lseek");
    position = 0;
    dataStart = -1;
    holeStart = -1;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (sparse) {
      if (dataStart < 0 || position >= holeStart) {
        locate();
      }
      if (position < dataStart) {
        int n = (int) Math.min(dst.remaining(), dataStart - position);
        zeros(dst, n);
        position += n;
        return n;
      }
    }
    long want = Math.min(dst.remaining(), buffer.size());
    if (sparse && holeStart != Long.MAX_VALUE) {
      want = Math.min(want, holeStart - position);
    }
    long n;
    while (true) {
      try {
        n = Libc.read(fd, buffer, want);
        break;
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINTR) {
          throw new IOException("read \"" + where.get() + "\": " + Libc.errorText(e.getErrorCode()));
        }
      }
    }
    if (n == 0) {
      return -1;
    }
    if (dst.hasArray()) {
      buffer.read(0, dst.array(), dst.arrayOffset() + dst.position(), (int) n);
      dst.position(dst.position() + (int) n);
    } else {
      dst.put(buffer.getByteBuffer(0, n));
    }
    position += n;
    return (int) n;
  }

  private static void zeros(ByteBuffer dst, int n) {
    if (dst.hasArray()) {
      int from = dst.arrayOffset() + dst.position();
      Arrays.fill(dst.array(), from, from + n, (byte) 0);
      dst.position(dst.position() + n);
    } else {
      for (int i = 0; i < n; i++) {
        dst.put((byte) 0);
      }
    }
  }

  /** Finds the data at or after the position and the hole that ends it, and moves the offset there. */
  private void locate() {
    long data;
    try {
      data = Libc.lseek(fd, position, Libc.SEEK_DATA);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != ENXIO) {
        throw new ErrnoException("lseek SEEK_DATA", where.get(), e.getErrorCode());
      }
      // No data after the position: zeros up to the end, then whatever is there by then (a file that grew).
      long end = seek(0, SEEK_END, "lseek SEEK_END");
      dataStart = Math.max(end, position);
      holeStart = Long.MAX_VALUE;
      seek(dataStart, Libc.SEEK_SET, "lseek");
      return;
    }
    dataStart = data;
    holeStart = seek(data, Libc.SEEK_HOLE, "lseek SEEK_HOLE");
    seek(data, Libc.SEEK_SET, "lseek");
  }

  private long seek(long offset, int whence, String call) {
    try {
      return Libc.lseek(fd, offset, whence);
    } catch (LastErrorException e) {
      throw new ErrnoException(call, where.get(), e.getErrorCode());
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    if (open) {
      open = false;
      Syscalls.close(fd);
    }
  }
}
