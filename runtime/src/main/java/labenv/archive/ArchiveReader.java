package labenv.archive;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import labenv.LabenvException;
import labenv.io.ObservingInputStream;
import labenv.layer.Decompression;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Streams an image archive (a tar, possibly compressed as a whole) once, staging every regular file.
 *
 * <p>The outer archive is read with commons-compress rather than labenv's layer {@code TarReader}:
 * its names are only keys for finding blobs and JSON files, never paths on disk, so none of the
 * layer rules (whiteouts, ownership, hostile paths) apply, while commons-compress copes with every
 * producer's dialect (GNU, PAX, the symlinks podman writes into docker-archives).
 *
 * <p>Errors are told apart by where they happen: a failing read of the file itself is a failed
 * operation; a decoder that chokes while the file read fine means the archive is corrupt, and one
 * that chokes because the file ended means it is truncated.
 */
final class ArchiveReader {
  private static final int BLOCK = 512;

  private final Path file;
  private final RawInput raw;
  private final EndWatch watch;
  private final TarArchiveInputStream tar;
  private String current;

  private ArchiveReader(Path file, RawInput raw, InputStream decoded) {
    this.file = file;
    this.raw = raw;
    // No read-ahead buffer here: a decoder error must surface while the entry it belongs to is read,
    // so that the message names the right entry. The decoders buffer their compressed input themselves.
    this.watch = new EndWatch(decoded);
    this.tar = new TarArchiveInputStream(watch);
  }

  /** Reads the whole archive at {@code file} into {@code staging}. */
  static ArchiveContents read(Path file, Staging staging, labenv.Progress progress) {
    InputStream fileIn;
    try {
      progress.start("load", Files.size(file));
      fileIn = labenv.Progress.counting(Files.newInputStream(file), progress);
    } catch (java.nio.file.NoSuchFileException e) {
      throw LabenvException.failed("no such file or directory");
    } catch (IOException e) {
      throw LabenvException.failed("cannot open " + file + ": " + e.getMessage(), e);
    }
    RawInput raw = new RawInput(new BufferedInputStream(fileIn, 256 * 1024));
    try (raw) {
      InputStream decoded;
      try {
        decoded = Decompression.open(raw);
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + file + ": " + e.getMessage(), e);
      }
      return new ArchiveReader(file, raw, decoded).readAll(staging);
    } catch (IOException e) {
      throw LabenvException.failed("cannot close " + file + ": " + e.getMessage(), e);
    }
  }

  private ArchiveContents readAll(Staging staging) {
    ArchiveContents contents = new ArchiveContents();
    int entries = 0;
    while (true) {
      long headerAt = roundUp(watch.position());
      watch.watch(headerAt);
      TarArchiveEntry e;
      try {
        e = tar.getNextEntry();
      } catch (IOException | LabenvException ex) {
        if (entries == 0 && !raw.failed() && !raw.atEof()) {
          throw new InvalidArchiveException("not an image archive (not a tar file: " + oneLine(ex) + ")", ex);
        }
        throw classify(ex, current == null ? "at the start" : "after entry \"" + current + "\"");
      }
      if (e == null) {
        if (!watch.sawZeroBlock()) {
          if (entries == 0) {
            throw new InvalidArchiveException(watch.position() == 0 ? "not an image archive (empty file)"
                : "not an image archive (not a tar file)");
          }
          throw new InvalidArchiveException("truncated archive after entry \"" + current + "\"");
        }
        return contents;
      }
      entries++;
      current = e.getName();
      String name = ArchivePaths.clean(e.getName());
      if (e.isSymbolicLink()) {
        contents.addLink(name, ArchivePaths.resolveSymlink(name, e.getLinkName()));
      } else if (e.isLink()) {
        contents.addLink(name, ArchivePaths.clean(e.getLinkName()));
      } else if (e.isFile() && !name.isEmpty()) {
        contents.addFile(name, staging.stage(new EntryContent()));
      }
      // Directories, devices and the like carry nothing an image needs.
      drain();
    }
  }

  private void drain() {
    try {
      tar.transferTo(OutputStream.nullOutputStream());
    } catch (IOException | LabenvException ex) {
      throw classify(ex, "at entry \"" + current + "\"");
    }
  }

  /** The current entry's bytes; read errors become one-line failures naming the entry. */
  private final class EntryContent extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] b = new byte[1];
      return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      try {
        return tar.read(b, off, len);
      } catch (IOException | LabenvException ex) {
        throw classify(ex, "at entry \"" + current + "\"");
      }
    }
  }

  /**
   * Decoder errors arrive as IOExceptions (the tar reader) or as BAD_INPUT (labenv's decompression);
   * either way the raw file tells what they mean.
   */
  private LabenvException classify(Exception e, String where) {
    if (e instanceof LabenvException le && le.kind() == LabenvException.Kind.FAILED) {
      return le;
    }
    if (raw.failed()) {
      return LabenvException.failed("cannot read " + file + ": " + raw.failure().getMessage(), e);
    }
    if (raw.atEof()) {
      return new InvalidArchiveException("truncated archive " + where, e);
    }
    return new InvalidArchiveException("corrupt archive " + where + ": " + oneLine(e), e);
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static long roundUp(long n) {
    return (n + BLOCK - 1) / BLOCK * BLOCK;
  }

  /** The file's bytes; remembers whether reading the file itself failed, and whether it ended. */
  private static final class RawInput extends FilterInputStream {
    private IOException failure;
    private boolean eof;

    RawInput(InputStream in) {
      super(in);
    }

    boolean failed() {
      return failure != null;
    }

    IOException failure() {
      return failure;
    }

    boolean atEof() {
      return eof;
    }

    @Override
    public int read() throws IOException {
      try {
        int b = super.read();
        eof |= b < 0;
        return b;
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        int n = super.read(b, off, len);
        eof |= n < 0;
        return n;
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }

    @Override
    public long skip(long n) throws IOException {
      try {
        return super.skip(n);
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }
  }

  /**
   * Counts the decoded tar bytes and checks the 512-byte block where the next header should start.
   * A tar ends with zero blocks; a stream that simply stops at an entry boundary is truncated, and
   * commons-compress alone would take it for a complete archive.
   */
  private static final class EndWatch extends ObservingInputStream {
    private long position;
    private long watchAt = -1;
    private int watchedBytes;
    private boolean watchedAllZero;

    EndWatch(InputStream in) {
      super(in);
    }

    long position() {
      return position;
    }

    void watch(long offset) {
      watchAt = offset;
      watchedBytes = 0;
      watchedAllZero = true;
    }

    boolean sawZeroBlock() {
      return watchedBytes == BLOCK && watchedAllZero;
    }

    @Override
    protected void observe(byte[] b, int off, int n) {
      long start = position;
      position += n;
      if (watchAt < 0 || position <= watchAt || start >= watchAt + BLOCK) {
        return;
      }
      int from = (int) Math.max(0, watchAt - start);
      int to = (int) Math.min(n, watchAt + BLOCK - start);
      for (int i = from; i < to; i++) {
        if (b[off + i] != 0) {
          watchedAllZero = false;
        }
      }
      watchedBytes += to - from;
    }
  }
}
