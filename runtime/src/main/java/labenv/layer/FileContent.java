package labenv.layer;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;

/**
 * The bytes of one open regular file, {@code size} of them. For a sparse file the holes (found
 * with lseek SEEK_DATA/SEEK_HOLE) come out as zeros without being read, so the tar entry is a
 * plain file whose bytes do not depend on how the host stored it. Reads past {@code size} see the
 * file as it is now, so a file that grew shows up as more bytes.
 */
final class FileContent implements ReadableByteChannel {
  private static final int ENXIO = 6;

  private final int fd;
  private final FileChannel channel;
  private final boolean sparse;
  private final String where;
  private long position;
  /** Start of the current hole, or Long.MAX_VALUE when not yet known. */
  private long holeStart = -1;
  private long dataStart = -1;

  /** Takes ownership of {@code fd}. */
  FileContent(int fd, boolean sparse, String where) throws IOException {
    this.fd = fd;
    this.where = where;
    this.sparse = sparse;
    try {
      // The descriptor's path under /proc is ASCII whatever the file's name is.
      this.channel = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
    } catch (IOException | RuntimeException e) {
      Syscalls.close(fd);
      throw e;
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (!sparse) {
      int n = channel.read(dst, position);
      if (n > 0) {
        position += n;
      }
      return n;
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (position >= holeStart || dataStart < 0) {
      locate();
    }
    if (position < dataStart) {
      int n = (int) Math.min(dst.remaining(), dataStart - position);
      if (dst.hasArray()) {
        java.util.Arrays.fill(dst.array(), dst.arrayOffset() + dst.position(),
            dst.arrayOffset() + dst.position() + n, (byte) 0);
        dst.position(dst.position() + n);
      } else {
        for (int i = 0; i < n; i++) {
          dst.put((byte) 0);
        }
      }
      position += n;
      return n;
    }
    int limit = dst.limit();
    if (holeStart != Long.MAX_VALUE && dst.remaining() > holeStart - position) {
      dst.limit(dst.position() + (int) (holeStart - position));
    }
    try {
      int n = channel.read(dst, position);
      if (n > 0) {
        position += n;
      }
      return n;
    } finally {
      dst.limit(limit);
    }
  }

  /** Finds the data region at or after the position and the hole that ends it. */
  private void locate() {
    long data;
    try {
      data = Libc.lseek(fd, position, Libc.SEEK_DATA);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != ENXIO) {
        throw new ErrnoException("lseek SEEK_DATA", where, e.getErrorCode());
      }
      // No data after the position: a hole up to the end; reads at the end see what is there now.
      long end = currentSize();
      dataStart = Math.max(end, position);
      holeStart = Long.MAX_VALUE;
      return;
    }
    dataStart = data;
    try {
      holeStart = Libc.lseek(fd, data, Libc.SEEK_HOLE);
    } catch (LastErrorException e) {
      throw new ErrnoException("lseek SEEK_HOLE", where, e.getErrorCode());
    }
    if (holeStart <= position) {
      holeStart = Long.MAX_VALUE;
    }
  }

  private long currentSize() {
    try {
      return channel.size();
    } catch (IOException e) {
      return position;
    }
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      Syscalls.close(fd);
    }
  }
}
