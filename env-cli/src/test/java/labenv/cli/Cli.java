package labenv.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Drives the CLI in-process with captured output and its own store, as a user's shell would. */
final class Cli {
  final Path home;
  final Map<String, String> env = new HashMap<>(System.getenv());

  Cli(Path home) {
    this.home = home;
    env.put("LABENV_HOME", home.toString());
  }

  /** What one command printed and returned. */
  record Result(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
    return new Result(code, out.toString(), err.toString());
  }

  Result run(List<String> args) {
    return run(args.toArray(String[]::new));
  }

  static List<String> args(Object... parts) {
    List<String> out = new ArrayList<>();
    for (Object p : parts) {
      out.add(p.toString());
    }
    return out;
  }
}
