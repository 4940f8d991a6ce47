package labenv.cli;

import java.util.List;
import labenv.LabenvException;
import labenv.container.Containers;
import labenv.linux.Signals;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "kill", description = "Send a signal (default SIGKILL) to running containers' first process.")
final class KillCommand extends Verb {
  @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", description = "Name (TERM, SIGHUP) or number.")
  String signal = "KILL";

  @Parameters(paramLabel = "CONTAINER", arity = "1..*", description = "names, ids or unique id prefixes")
  List<String> refs;

  @Override
  public Integer call() {
    int sig = Signals.parse(signal);
    Containers containers = containers();
    return each(refs, ref -> {
      containers.signal(containers.find(ref), sig);
      out().println(ref);
      out().flush();
    });
  }
}
