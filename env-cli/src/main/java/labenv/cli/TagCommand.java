package labenv.cli;

import labenv.image.Descriptor;
import labenv.store.StoreLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "tag", description = "Give an image another name.")
final class TagCommand extends Verb {
  @Parameters(index = "0", paramLabel = "SOURCE", description = "name[:tag], digest, or unique digest prefix")
  String source;

  @Parameters(index = "1", paramLabel = "TARGET", description = "the new name[:tag]")
  String target;

  @Override
  public Integer call() {
    StoreLock lock = store().lockShared();
    try {
      Descriptor d = images().resolve(source);
      images().tag(d, target);
    } finally {
      lock.close();
    }
    return ExitCode.OK;
  }
}
