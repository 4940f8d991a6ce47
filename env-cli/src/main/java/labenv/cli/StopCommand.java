package labenv.cli;

import java.util.List;
import labenv.LabenvException;
import labenv.container.ContainerState;
import labenv.container.Containers;
import labenv.linux.Signals;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "stop", description = {"Stop running containers: SIGTERM, then SIGKILL after a timeout.",
    "A command running as its container's pid 1 gets SIGTERM only if it handles it."})
final class StopCommand extends Verb {
  @Option(names = {"-t", "--time"}, paramLabel = "SECONDS", description = "Seconds to wait before SIGKILL (default 10).")
  long seconds = 10;

  @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", description = "The first signal (default SIGTERM).")
  String signal = "TERM";

  @Parameters(paramLabel = "CONTAINER", arity = "1..*", description = "names, ids or unique id prefixes")
  List<String> refs;

  @Override
  public Integer call() {
    if (seconds < 0) {
      throw LabenvException.badInput("--time " + seconds + ": expected 0 or more seconds");
    }
    int sig = Signals.parse(signal);
    Containers containers = containers();
    return each(refs, ref -> {
      ContainerState s = containers.find(ref);
      containers.stop(s, sig, seconds);
      out().println(ref);
      out().flush();
    });
  }
}
