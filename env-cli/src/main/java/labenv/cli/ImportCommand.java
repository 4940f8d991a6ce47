package labenv.cli;

import java.nio.file.Path;
import labenv.LabenvException;
import labenv.SourceDateEpoch;
import labenv.archive.Archives;
import labenv.archive.ImportOptions;
import labenv.archive.ImportResult;
import labenv.layer.Compression;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import",
    description = {"Make a one-layer image from a rootfs tarball or a directory.",
        "A tarball may be plain, gzip, zstd or xz; a directory is packed by the deterministic " +
        "layer writer. The same input gives the same digest."})
final class ImportCommand extends Verb {
  @Parameters(index = "0", paramLabel = "ROOTFS", description = "ROOTFS.tar[.gz|.zst|.xz] or a directory")
  Path source;

  @Parameters(index = "1", paramLabel = "NAME[:TAG]", description = "the image's name")
  String name;

  @Option(names = "--compression", paramLabel = "gzip|zstd|none", description = "layer compression (default gzip)")
  String compression = "gzip";

  @Option(names = "--source-date-epoch", paramLabel = "SECONDS",
      description = "the image's created time and the clamp for file times (default $SOURCE_DATE_EPOCH, else 0)")
  Long sourceDateEpoch;

  @Override
  public Integer call() {
    if (sourceDateEpoch != null && sourceDateEpoch < 0) {
      throw LabenvException.badInput("--source-date-epoch " + sourceDateEpoch + " is negative");
    }
    ImportOptions options = ImportOptions.defaults().withCompression(compression(compression))
        .withSourceDateEpoch(sourceDateEpoch != null ? sourceDateEpoch : SourceDateEpoch.parse(root.env.get(SourceDateEpoch.VARIABLE)));
    ImportResult r = new Archives(images(), progress()).importRootfs(source, name, options);
    out().println(r.manifest().digest());
    return ExitCode.OK;
  }

  static Compression compression(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "gzip", "gz" -> Compression.GZIP;
      case "zstd", "zst" -> Compression.ZSTD;
      case "none", "uncompressed" -> Compression.NONE;
      default -> throw LabenvException.badInput("--compression \"" + s + "\": want gzip, zstd or none");
    };
  }

}
