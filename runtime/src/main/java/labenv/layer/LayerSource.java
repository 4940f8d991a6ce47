package labenv.layer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One layer of a stack to unpack: a name for messages (usually the layer's digest) and a way to open its blob,
 * compressed or not ({@link Decompression} tells).
 */
public record LayerSource(String name, Opener opener) {

  /** Opens the blob; called once, the stream is closed after the layer is applied. */
  @FunctionalInterface
  public interface Opener {
    InputStream open() throws IOException;
  }

  public LayerSource {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(opener, "opener");
  }

  public static LayerSource ofFile(String name, Path blob) {
    return new LayerSource(name, () -> Files.newInputStream(blob));
  }

  public InputStream open() throws IOException {
    return opener.open();
  }
}
