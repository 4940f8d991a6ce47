package labenv.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.attribute.FileTime;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * The outer tar of an archive labenv writes, with every header field fixed so that saving the same
 * images twice gives the same bytes: mtime 0, owner 0:0 with no names, modes 0644 and 0755. Names
 * are short ASCII ({@code blobs/sha256/<hex>}), so plain ustar headers suffice; sizes of 8 GiB and
 * more use the base-256 form that GNU tar, Go's archive/tar and commons-compress all read, which
 * needs no PAX header (whose own header would carry the writing user's name).
 */
final class OuterTar implements AutoCloseable {
  private static final FileTime EPOCH = FileTime.fromMillis(0);

  private final TarArchiveOutputStream tar;

  OuterTar(OutputStream out) {
    this.tar = new TarArchiveOutputStream(out, "UTF-8");
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_ERROR);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
  }

  void directory(String name) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR);
    fix(e, 040755);
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
  }

  void file(String name, byte[] content) throws IOException {
    file(name, content.length, new java.io.ByteArrayInputStream(content));
  }

  /** Writes {@code size} bytes of {@code content}; a source that is shorter or longer fails. */
  void file(String name, long size, InputStream content) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
    fix(e, 0100644);
    e.setSize(size);
    tar.putArchiveEntry(e);
    byte[] buf = new byte[256 * 1024];
    long left = size;
    while (left > 0) {
      int n = content.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new IOException(name + ": source ended " + left + " bytes early");
      }
      tar.write(buf, 0, n);
      left -= n;
    }
    if (content.read() >= 0) {
      throw new IOException(name + ": source is longer than " + size + " bytes");
    }
    tar.closeArchiveEntry();
  }

  private static void fix(TarArchiveEntry e, int mode) {
    e.setMode(mode);
    e.setUserId(0L);
    e.setGroupId(0L);
    e.setUserName("");
    e.setGroupName("");
    e.setLastModifiedTime(EPOCH);
  }

  void finish() throws IOException {
    tar.finish();
  }

  @Override
  public void close() throws IOException {
    tar.close();
  }
}
