package labenv.project;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.image.Json;

/** The files of output directories, hashed: what a receipt records and verify compares. */
public final class OutputHashes {
  private OutputHashes() {}

  /**
   * Every regular file below {@code base/DIR} for each of {@code dirs}, as paths relative to {@code base}
   * ({@code /}-separated), sorted by their bytes, with size and sha256. Symlinks are recorded as files
   * holding their target (they are not followed).
   */
  public static List<Receipt.OutputFile> hash(Path base, List<String> dirs) {
    List<Receipt.OutputFile> out = new ArrayList<>();
    for (String dir : dirs) {
      Path root = base.resolve(dir);
      if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      try {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            String rel = base.relativize(file).toString();
            if (attrs.isRegularFile()) {
              out.add(new Receipt.OutputFile(rel, attrs.size(), sha256(file)));
            } else if (attrs.isSymbolicLink()) {
              byte[] target = Files.readSymbolicLink(file).toString().getBytes(StandardCharsets.UTF_8);
              out.add(new Receipt.OutputFile(rel, target.length,
                  HexFormat.of().formatHex(Digest.newSha256().digest(target))));
            }
            return FileVisitResult.CONTINUE;
          }
        });
      } catch (IOException e) {
        throw LabenvException.failed("cannot read the outputs in " + root + ": " + e.getMessage(), e);
      }
    }
    out.sort(Comparator.comparing(f -> f.path().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
    return out;
  }

  /** The receipt's root digest: sha256 of the canonical JSON of the file list. */
  public static String root(List<Receipt.OutputFile> files) {
    return Digest.of(Json.canonical(files)).toString();
  }

  /** The sha256 of a file's content, in hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md = Digest.newSha256();
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
