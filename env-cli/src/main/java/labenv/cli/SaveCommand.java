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

  @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  List<String> refs = new java.util.ArrayList<>();

  @Option(names = "--dataset", paramLabel = "NAME[:TAG]", description = "a dataset version to save too (repeatable; "
      + "oci format only)")
  List<String> datasets = new java.util.ArrayList<>();

  @Override
  public Integer call() {
    Archives.Format f = switch (format.toLowerCase(java.util.Locale.ROOT)) {
      case "oci", "oci-archive" -> Archives.Format.OCI;
      case "docker", "docker-archive" -> Archives.Format.DOCKER;
      default -> throw labenv.LabenvException.badInput("--format \"" + format + "\": want oci or docker");
    };
    if (refs.isEmpty() && datasets.isEmpty()) {
      throw labenv.LabenvException.badInput("nothing to save: name images, or datasets with --dataset");
    }
    labenv.dataset.DatasetStore store = new labenv.dataset.DatasetStore(store());
    List<Archives.Artifact> artifacts = new java.util.ArrayList<>();
    for (String d : datasets) {
      labenv.dataset.DatasetVersion v = store.resolve(d);
      labenv.dataset.DatasetName asked = labenv.dataset.DatasetName.parse(d, labenv.dataset.DatasetName.LATEST);
      // Saved under the name asked for when it is one of the version's names; else under each of them.
      List<labenv.dataset.DatasetName> names = v.names().contains(asked) ? List.of(asked) : v.names();
      for (labenv.dataset.DatasetName n : names) {
        artifacts.add(new Archives.Artifact(v.manifest(), n.toString()));
      }
    }
    new Archives(images(), progress()).save(refs, artifacts, output, f);
    return ExitCode.OK;
  }
}
