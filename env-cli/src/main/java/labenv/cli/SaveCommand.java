package labenv.cli;

import java.nio.file.Path;
import java.util.List;
import labenv.archive.Archives;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "save",
    description = {"Save images to an archive.",
        "Writes an oci-archive (default) or a docker-archive, which docker, podman, skopeo and " +
        "umoci read. The same images give the same bytes."})
final class SaveCommand extends Verb {
  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the archive to write")
  Path output;

  @Option(names = "--format", paramLabel = "oci|docker", description = "archive format (default oci)")
  String format = "oci";

  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  List<String> refs;

  @Override
  public Integer call() {
    Archives.Format f = switch (format.toLowerCase(java.util.Locale.ROOT)) {
      case "oci", "oci-archive" -> Archives.Format.OCI;
      case "docker", "docker-archive" -> Archives.Format.DOCKER;
      default -> throw labenv.LabenvException.badInput("--format \"" + format + "\": want oci or docker");
    };
    new Archives(images(), progress()).save(refs, output, f);
    return ExitCode.OK;
  }
}
