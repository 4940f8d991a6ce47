package labenv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A verb made of subcommands ({@code volume}, {@code dataset}): alone, it prints its usage and exits 2. */
abstract class VerbGroup implements Callable<Integer> {
  @ParentCommand LabenvCommand root;
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(root.err);
    return ExitCode.USAGE;
  }
}
