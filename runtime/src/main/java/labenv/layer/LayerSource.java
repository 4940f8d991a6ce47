package labenv.layer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import labenv.image.Digest;

/**
 * One layer of a stack to unpack: a name for messages (usually the layer's digest), a way to open its blob,
 * compressed or not ({@link Decompression} tells), and the diff ID its uncompressed tar must hash to (or null).
 */
public record LayerSource(String name, Opener opener, Digest diffId) {

  /** Opens the blob; called once, the stream is closed after the layer is applied. */
  @FunctionalInterface
  public interface Opener {
    InputStream open() throws IOException;
  }

  public LayerSource {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(opener, "opener");
  }

  /** A layer whose uncompressed content is not checked against a diff ID. */
  public LayerSource(String name, Opener opener) {
    this(name, opener, null);
  }

  public static LayerSource ofFile(String name, Path blob) {
    return new LayerSource(name, () -> Files.newInputStream(blob));
  }

  public InputStream open() throws IOException {
    return opener.open();
  }
}
