package labenv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import labenv.LabenvException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

/**
 * {@code labenv notebook}: Jupyter in an analysis's container: the server ({@code labenv notebook [DIR|IMAGE]}) and
 * headless execution ({@code labenv notebook run}, {@link HeadlessRun}).
 */
@Command(name = "notebook", description = "Jupyter in the analysis's container: a server, or headless execution.",
    subcommands = {NotebookCommand.Run.class})
final class NotebookCommand extends Verb {
  @Override
  public Integer call() {
    throw LabenvException.failed("labenv notebook: not available in this version yet");
  }

  @Command(name = "run",
      description = {"Execute a notebook headless in the project's container, as labenv run runs the project: same "
          + "image, hermetic conditions, read-only datasets and outputs; writes the executed notebook among the "
          + "outputs and receipt.json (labenv verify re-runs it).",
          "Parameters go in a new code cell tagged injected-parameters after the cell tagged parameters, as "
          + "papermill does (Python and Java notebooks). Exits 0, 1 when a cell fails (its number, error and "
          + "traceback are shown; the notebook as far as it ran is kept in .labenv/failed/), 2 for bad input."})
  static final class Run implements Callable<Integer> {
    @ParentCommand NotebookCommand parent;

    @Parameters(index = "0", paramLabel = "NB.ipynb", description = "the notebook (nbformat 4)")
    Path notebook;

    @Parameters(index = "1", paramLabel = "DIR", arity = "0..1",
        description = "the project (default: the folder of the notebook, or above it, that has labenv.yaml)")
    Path dir;

    @Option(names = {"-p", "--parameter"}, paramLabel = "NAME=VALUE",
        description = "Set a parameter; its type is inferred as papermill does (True, False, None, int, float, else "
            + "a string). Repeatable.")
    List<String> parameters = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.ipynb",
        description = "Where the executed notebook goes, inside one of the project's outputs (default: the first "
            + "output folder, the notebook's name).")
    Path output;

    @Override
    public Integer call() {
      return new HeadlessRun(this).call();
    }
  }
}
