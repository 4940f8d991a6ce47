package labenv.cli;

import java.nio.file.Path;
import labenv.archive.Archives;
import labenv.archive.LoadResult;
import labenv.archive.LoadedImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "load",
    description = {"Load images from an archive or an OCI layout directory.",
        "Reads oci-archives, OCI image layout directories and docker-archives (docker save, " +
        "podman save), with gzip, zstd or uncompressed layers."})
final class LoadCommand extends Verb {
  @Option(names = {"-i", "--input"}, required = true, paramLabel = "FILE|DIR", description = "the archive or layout")
  Path input;

  @Override
  public Integer call() {
    LoadResult r = new Archives(images(), progress()).load(input);
    for (LoadedImage image : r.images()) {
      String kind = labenv.dataset.DatasetFormat.isDataset(image.descriptor()) ? "dataset" : "image";
      if (image.named()) {
        image.names().forEach(n -> out().println("Loaded " + kind + ": " + n));
      } else {
        out().println("Loaded " + kind + ": " + image.descriptor().digest());
      }
    }
    return ExitCode.OK;
  }
}
