package labenv.cli;

import picocli.CommandLine;

/** Bad usage: one line, a hint, exit 2. */
final class UsageErrorHandler implements CommandLine.IParameterExceptionHandler {
  @Override
  public int handleParseException(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    var err = cmd.getErr();
    err.println("labenv: " + ex.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    err.flush();
    Object verb = cmd.getCommandSpec().userObject();
    return verb instanceof RunCommand || verb instanceof ExecCommand ? ExitCode.RUNTIME_FAILED : ExitCode.USAGE;
  }
}
