package labenv.dataset;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import labenv.image.Digest;

/**
 * A piece of a file as stored: {@code size} bytes of the blob {@code digest}, from {@code offset}.
 * A chunk of a large file is a whole blob (no offset: 0). Small files are packed: their bytes are
 * concatenated and the stream is chunked as one file, so a small file is a piece of a shared blob
 * (at an offset, and sometimes two pieces, when a cut falls inside it).
 */
@JsonPropertyOrder({"digest", "size", "offset"})
public record Chunk(Digest digest, long size, Long offset) {
  public Chunk {
    offset = offset == null || offset == 0 ? null : offset;
  }

  /** A whole blob. */
  public Chunk(Digest digest, long size) {
    this(digest, size, null);
  }

  /** Where the piece starts in its blob. */
  public long start() {
    return offset == null ? 0 : offset;
  }
}
