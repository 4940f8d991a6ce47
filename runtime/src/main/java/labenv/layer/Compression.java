package labenv.layer;

import java.io.IOException;
import java.io.OutputStream;
import labenv.LabenvException;
import labenv.image.MediaTypes;

/** How a layer's tar stream is compressed, with the OCI media type that says so. */
public enum Compression {
  NONE(MediaTypes.OCI_LAYER, 0),
  GZIP(MediaTypes.OCI_LAYER_GZIP, 6),
  ZSTD(MediaTypes.OCI_LAYER_ZSTD, 3);

  private final String mediaType;
  private final int defaultLevel;

  Compression(String mediaType, int defaultLevel) {
    this.mediaType = mediaType;
    this.defaultLevel = defaultLevel;
  }

  /** The OCI layer media type for this compression. */
  public String mediaType() {
    return mediaType;
  }

  /** gzip 6 (gzip's and pigz's default), zstd 3 (the zstd CLI's default). */
  public int defaultLevel() {
    return defaultLevel;
  }

  /**
   * A stream that compresses into {@code out} and closes it on close. The bytes depend on the
   * input and the level only, never on {@code threads} (at least 1).
   */
  public OutputStream compress(OutputStream out, int level, int threads) {
    try {
      return switch (this) {
        case NONE -> new java.io.FilterOutputStream(out) {
          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
          }
        };
        case GZIP -> new ParallelGzipOutputStream(out, level, threads);
        case ZSTD -> new ZstdLayerOutputStream(out, level, threads);
      };
    } catch (IOException e) {
      throw LabenvException.failed(name().toLowerCase() + ": cannot start the compressor: " + e.getMessage(), e);
    }
  }

  /** Stops a stream made by {@link #compress} without finishing it (its output is incomplete). */
  public static void abort(OutputStream compressing) {
    if (compressing instanceof ParallelGzipOutputStream gz) {
      gz.abort();
    } else if (compressing instanceof ZstdLayerOutputStream zs) {
      zs.abort();
    }
  }
}
