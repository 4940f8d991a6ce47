package labenv.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import labenv.LabenvException;

/**
 * An OCI image layout on disk, read in place. Only the blobs an image refers to are copied, each
 * into staging with its digest checked, so a layout that changes under us cannot slip bad bytes in.
 */
final class LayoutDirectory implements BlobSource {
  private final Path root;
  private final Staging staging;
  private final Map<String, StagedBlob> copied = new HashMap<>();

  LayoutDirectory(Path root, Staging staging) {
    this.root = root;
    this.staging = staging;
  }

  @Override
  public StagedBlob file(String name) {
    String clean = ArchivePaths.clean(name);
    StagedBlob done = copied.get(clean);
    if (done != null) {
      return done;
    }
    Path p = root.resolve(clean);
    if (!Files.isRegularFile(p) || !p.normalize().startsWith(root.normalize())) {
      return null;
    }
    try (InputStream in = Files.newInputStream(p)) {
      StagedBlob b = staging.stage(new SourceInput(in, clean));
      copied.put(clean, b);
      return b;
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  static boolean isLayout(Path dir) {
    return Files.isDirectory(dir) && (Files.exists(dir.resolve("index.json"), LinkOption.NOFOLLOW_LINKS)
        || Files.exists(dir.resolve("oci-layout"), LinkOption.NOFOLLOW_LINKS));
  }

  /** Read errors of a layout file are failures that name the file. */
  private static final class SourceInput extends InputStream {
    private final InputStream in;
    private final String name;

    SourceInput(InputStream in, String name) {
      this.in = in;
      this.name = name;
    }

    @Override
    public int read() {
      byte[] b = new byte[1];
      return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      try {
        return in.read(b, off, len);
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + name + ": " + e.getMessage(), e);
      }
    }
  }
}
