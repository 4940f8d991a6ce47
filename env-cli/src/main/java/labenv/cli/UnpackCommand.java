package labenv.cli;

import java.nio.file.Path;
import labenv.layer.LayerApplier;
import labenv.store.Image;
import labenv.store.ImageUnpacker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "unpack",
    description = {"Unpack an image's root filesystem into a new directory.",
        "Goes through the safe applier (nothing is written outside DIR) and checks every layer " +
        "against its digest and diff ID."})
final class UnpackCommand extends Verb {
  @Parameters(index = "0", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  String ref;

  @Parameters(index = "1", paramLabel = "DIR", description = "the directory to create (must not exist)")
  Path target;

  @Override
  public Integer call() {
    Image image = images().image(ref);
    var warnings = new ImageUnpacker(store(), new LayerApplier()).unpack(image, target, progress());
    warnings.forEach(w -> err().println("labenv: warning: " + w));
    return ExitCode.OK;
  }
}
