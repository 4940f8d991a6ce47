package labenv.cli;

/** The exit codes labenv uses; {@code run} also returns the container's own code. */
final class ExitCode {
  private ExitCode() {}

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int RUNTIME_FAILED = 125;
  static final int CANNOT_EXECUTE = 126;
  static final int NOT_FOUND = 127;

  static final String HELP = """
      %nExit status:
        0    success
        1    the operation failed
        2    bad usage or bad input (malformed reference, corrupt archive, ...)
        125  run, exec: labenv itself failed
        126  run, exec: the command cannot be executed
        127  run, exec: the command was not found
      """;
}
