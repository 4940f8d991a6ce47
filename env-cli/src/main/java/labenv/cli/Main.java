package labenv.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The process entry point: the only place that exits. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    fastJna();
    // picocli looks up its java.time and java.sql converters by reflection on every start (about 10 ms);
    // no labenv option has such a type.
    if (System.getProperty("picocli.converters.excludes") == null) {
      System.setProperty("picocli.converters.excludes", "java\\.time\\..*,java\\.sql\\..*");
    }
    String verb = verb(args);
    if (verb != null && !verb.equals("completion")) {
      Warmup.start(verb.equals("run") || verb.equals("exec"));
    }
    PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    int code = run(args, out, err, System.getenv());
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * JNA loads only libc, which is in the process already: it need not run {@code ldconfig -p} to learn
   * where libraries are (15 ms), nor unpack its native part on every start when the build unpacked it
   * beside the jar (env-cli's cds.sh; used only when newer than the jar).
   */
  private static void fastJna() {
    if (System.getProperty("jna.platform.library.path") == null) {
      System.setProperty("jna.platform.library.path", "");
    }
    String cp = System.getProperty("java.class.path", "");
    if (System.getProperty("jna.boot.library.path") != null || !cp.endsWith(".jar")
        || cp.contains(java.io.File.pathSeparator)) {
      return;
    }
    try {
      java.nio.file.Path jar = java.nio.file.Path.of(cp).toAbsolutePath();
      java.nio.file.Path dir = java.nio.file.Path.of(cp.substring(0, cp.length() - ".jar".length()) + "-jna-"
          + com.sun.jna.Native.VERSION).toAbsolutePath();
      if (java.nio.file.Files.getLastModifiedTime(dir.resolve("libjnidispatch.so"))
          .compareTo(java.nio.file.Files.getLastModifiedTime(jar)) > 0) {
        System.setProperty("jna.boot.library.path", dir.toString());
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not unpacked beside this jar: JNA unpacks it itself
    }
  }

  /** Runs one command line with the given streams and environment; returns the exit code. Used by tests. */
  public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
    CommandLine cl = commandLine(out, err, env, verb(args));
    return cl.execute(args);
  }

  /** The command line with every verb, as help and completion show it. */
  static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env) {
    return commandLine(out, err, env, null);
  }

  /**
   * The command line with only {@code verb} when it names one (building a verb's model is most of
   * start-up), else with every verb, so that help, completion and "did you mean" see them all.
   */
  static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env, String verb) {
    LabenvCommand root = new LabenvCommand(env, out, err);
    CommandLine cl = new CommandLine(root);
    // completion and help describe every verb
    boolean all = verb == null || verb.equals("completion") || verb.equals("help");
    Class<?> only = all ? null : LabenvCommand.VERBS.stream().filter(c -> names(c).contains(verb))
        .findFirst().orElse(null);
    for (Class<?> c : only != null ? List.of(only) : LabenvCommand.VERBS) {
      cl.addSubcommand(c);
    }
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(new ErrorHandler(root));
    cl.setParameterExceptionHandler(new UsageErrorHandler());
    // Everything after run's IMAGE (exec's CONTAINER) is the container's command line, options included
    // (sh -c ...). Only the verbs built are there.
    for (String verbWithCommand : List.of("run", "exec")) {
      CommandLine sub = cl.getSubcommands().get(verbWithCommand);
      if (sub != null) {
        sub.setStopAtPositional(true);
      }
    }
    return cl;
  }

  private static List<String> names(Class<?> verb) {
    Command c = verb.getAnnotation(Command.class);
    List<String> names = new ArrayList<>(List.of(c.aliases()));
    names.add(c.name());
    return names;
  }

  /** The first argument that is not one of the top-level options: the verb, or null when there is none. */
  static String verb(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--home")) {
        i++;
      } else if (!a.startsWith("--home=") && !a.equals("--stacktrace")) {
        return a.startsWith("-") ? null : a;
      }
    }
    return null;
  }
}
