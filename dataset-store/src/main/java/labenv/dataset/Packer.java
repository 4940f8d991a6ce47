package labenv.dataset;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import labenv.image.Digest;

/**
 * Packs small files: their bytes, concatenated in path order, are chunked as one stream, so that
 * 20,000 files of a few KiB become about a hundred blobs of about a MiB rather than 20,000 blobs (a
 * file and an inode each, which cost more to create and sync than to hash). Cuts are content-defined
 * in the stream too: an edited, added or removed small file changes the chunk or two around it, and
 * the rest of the stream chunks as before.
 *
 * <p>Each file becomes one or more pieces (a blob, an offset in it, a length): more than one when a
 * cut falls inside it. Not thread-safe.
 */
final class Packer {
  /** Files smaller than this are packed; larger ones are chunked on their own. */
  static final int PACK_LIMIT = 64 << 10;

  /** Stores a chunk of the stream; returns its digest. */
  @FunctionalInterface
  interface ChunkStore {
    Digest put(byte[] buf, int off, int len);
  }

  private static final class Member {
    final long begin;
    final long end;
    final List<Chunk> pieces = new ArrayList<>(2);
    final Consumer<List<Chunk>> done;

    Member(long begin, long end, Consumer<List<Chunk>> done) {
      this.begin = begin;
      this.end = end;
      this.done = done;
    }
  }

  private final Chunker chunker;
  private final ChunkStore store;
  private final byte[] buf;
  private final ArrayDeque<Member> open = new ArrayDeque<>();
  /** Blob sizes of the chunks made, by digest, in the order made. */
  private final java.util.LinkedHashMap<Digest, Long> chunks = new java.util.LinkedHashMap<>();
  private int start;
  private int end;
  /** Stream offset of {@code buf[start]}. */
  private long position;
  /** Bytes written to the stream so far. */
  private long written;
  private long expected;

  Packer(Chunker chunker, ChunkStore store) {
    this.chunker = chunker;
    this.store = store;
    this.buf = new byte[2 * chunker.maxSize()];
  }

  /**
   * Starts a file of {@code size} bytes (more than zero): the next {@code size} bytes written are its
   * content. {@code done} gets its pieces once the chunks that hold it are cut.
   */
  void file(long size, Consumer<List<Chunk>> done) {
    if (size <= 0 || written != expected) {
      throw new IllegalStateException("packer: file of " + size + " bytes after " + written + " of " + expected);
    }
    expected += size;
    open.add(new Member(written, written + size, done));
  }

  void write(byte[] b, int off, int len) {
    if (written + len > expected) {
      throw new IllegalStateException("packer: more bytes than the file has");
    }
    written += len;
    while (len > 0) {
      if (end == buf.length) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        start = 0;
      }
      int n = Math.min(len, buf.length - end);
      System.arraycopy(b, off, buf, end, n);
      end += n;
      off += n;
      len -= n;
      while (end - start >= chunker.maxSize()) {
        emit(chunker.cut(buf, start, end - start));
      }
    }
  }

  /** Cuts what is left; every file's pieces have been given once this returns. */
  void finish() {
    if (written != expected) {
      throw new IllegalStateException("packer: finished after " + written + " of " + expected + " bytes");
    }
    while (end > start) {
      emit(chunker.cut(buf, start, end - start));
    }
  }

  /** The chunks made so far and their sizes, in the order made. */
  java.util.Map<Digest, Long> chunks() {
    return chunks;
  }

  private void emit(int len) {
    Digest digest = store.put(buf, start, len);
    chunks.putIfAbsent(digest, (long) len);
    long cs = position;
    long ce = position + len;
    while (!open.isEmpty()) {
      Member m = open.peek();
      long s = Math.max(m.begin, cs);
      long e = Math.min(m.end, ce);
      if (e > s) {
        m.pieces.add(new Chunk(digest, e - s, s - cs));
      }
      if (m.end > ce) {
        break;
      }
      open.poll();
      m.done.accept(List.copyOf(m.pieces));
    }
    position = ce;
    start += len;
  }
}
