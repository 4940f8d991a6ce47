package labenv.cli;

import java.util.concurrent.Callable;
import labenv.LabenvException;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code labenv notebook}: Jupyter in an analysis's container. The server ({@code labenv notebook [DIR|IMAGE]}) and
 * headless execution ({@code labenv notebook run}) are being built (issue 8); until then both say so.
 */
@Command(name = "notebook", description = "Jupyter in the analysis's container: a server, or headless execution.",
    subcommands = {NotebookCommand.Run.class})
final class NotebookCommand extends Verb {
  @Override
  public Integer call() {
    throw LabenvException.failed("labenv notebook: not available in this version yet");
  }

  @Command(name = "run", description = "Execute a notebook headless in the project's container.")
  static final class Run implements Callable<Integer> {
    @ParentCommand NotebookCommand parent;

    @Override
    public Integer call() {
      throw LabenvException.failed("labenv notebook run: not available in this version yet");
    }
  }
}
