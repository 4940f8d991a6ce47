package labenv.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;

/** The process entry point: the only place that exits. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    int code = run(args, out, err, System.getenv());
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Runs one command line with the given streams and environment; returns the exit code. Used by tests. */
  public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
    return commandLine(out, err, env).execute(args);
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env) {
    LabenvCommand root = new LabenvCommand(env, out, err);
    CommandLine cl = new CommandLine(root);
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(new ErrorHandler(root));
    cl.setParameterExceptionHandler(new UsageErrorHandler());
    // Everything after run's IMAGE is the container's command line, options included (sh -c ...).
    cl.getSubcommands().get("run").setStopAtPositional(true);
    cl.getSubcommands().get("exec").setStopAtPositional(true);
    return cl;
  }
}
