package labenv.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

@Command(name = "completion",
    description = {"Print a bash completion script.",
        "Load it with: source <(labenv completion)"})
final class CompletionCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    CommandLine root = spec.root().commandLine();
    spec.commandLine().getOut().print(AutoComplete.bash("labenv", root));
    spec.commandLine().getOut().flush();
    return ExitCode.OK;
  }
}
