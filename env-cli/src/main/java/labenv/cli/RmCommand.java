package labenv.cli;

import java.util.List;
import labenv.LabenvException;
import labenv.container.ContainerState;
import labenv.container.Containers;
import labenv.linux.Libc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", description = "Remove containers: their writes, logs and state (-f: kill running ones first).")
final class RmCommand extends Verb {
  @Option(names = {"-f", "--force"}, description = "Kill a running container (SIGKILL) and remove it.")
  boolean force;

  @Parameters(paramLabel = "CONTAINER", arity = "1..*", description = "names, ids or unique id prefixes")
  List<String> refs;

  @Override
  public Integer call() {
    Containers containers = containers();
    return each(refs, ref -> {
      ContainerState s = containers.find(ref);
      if (s.isRunning()) {
        if (!force) {
          throw LabenvException.failed("container " + ref + " is running: stop it first, or use rm -f");
        }
        s = containers.stop(s, Libc.SIGKILL, 0);
      }
      if (s != null) {
        containers.remove(s);
      }
      out().println(ref);
      out().flush();
    });
  }
}
