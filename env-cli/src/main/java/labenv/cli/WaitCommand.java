package labenv.cli;

import java.util.List;
import labenv.LabenvException;
import labenv.container.ContainerState;
import labenv.container.Containers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "wait", description = {"Wait until containers exit and print each one's exit status.",
    "\"unknown\" when labenv's process that supervised it died before it ended."})
final class WaitCommand extends Verb {
  @Parameters(paramLabel = "CONTAINER", arity = "1..*", description = "names, ids or unique id prefixes")
  List<String> refs;

  @Override
  public Integer call() {
    Containers containers = containers();
    return each(refs, ref -> {
      ContainerState s = containers.find(ref);
      ContainerState end = containers.awaitExit(s.id(), -1);
      if (end == null) {
        throw LabenvException.failed("container " + ref + " was removed when it exited (--rm): its status is gone");
      }
      out().println(end.exitCode() == null ? "unknown" : end.exitCode().toString());
      out().flush();
    });
  }
}
