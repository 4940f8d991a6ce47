package labenv.build;

import java.util.List;
import java.util.Objects;

/**
 * One instruction of an Envfile as written: words are raw (variables not yet expanded, quotes kept where the
 * Dockerfile reference expands them later), because expansion depends on the ARG and ENV values in force when the
 * builder reaches the instruction. {@link Shell} expands them.
 *
 * <p>{@code line} is the 1-based line the instruction starts on; {@code text} is the instruction as one line
 * (continuations joined, heredoc bodies left out), which becomes the history's {@code created_by}.
 */
public sealed interface Instruction {
  int line();

  String text();

  /** A command in shell form (run by the SHELL, default {@code /bin/sh -c}) or exec form (a JSON array). */
  record Command(String shell, List<String> exec) {
    public Command {
      if ((shell == null) == (exec == null)) {
        throw new IllegalArgumentException("a command is either shell or exec form");
      }
      exec = exec == null ? null : List.copyOf(exec);
    }

    public static Command shell(String s) {
      return new Command(s, null);
    }

    public static Command exec(List<String> args) {
      return new Command(null, args);
    }

    public boolean isExec() {
      return exec != null;
    }
  }

  /** {@code KEY=VALUE} as written: the value raw (for ENV, LABEL, ARG); {@code value} null for an ARG without a default. */
  record KeyValue(String key, String value) {
    public KeyValue {
      Objects.requireNonNull(key);
    }
  }

  /**
   * A heredoc body ({@code <<EOF} … {@code EOF}): {@code expand} is false when the delimiter was quoted, and
   * {@code chomp} when it was {@code <<-} (leading tabs already stripped from {@code content}).
   */
  record Heredoc(String name, String content, boolean expand, boolean chomp) {}

  /** {@code FROM [--platform=P] IMAGE [AS NAME]}: image raw (ARGs declared before the first FROM expand in it). */
  record From(int line, String text, String image, String alias, String platform) implements Instruction {}

  /**
   * {@code RUN [--network=default|none|host] COMMAND}. With heredocs, a shell-form command is the line
   * before the body (e.g. {@code <<EOF} or {@code python3 <<EOF}) and {@code heredocs} holds the bodies.
   */
  record Run(int line, String text, Command command, List<Heredoc> heredocs, String network) implements Instruction {
    public Run {
      heredocs = List.copyOf(heredocs);
    }
  }

  record Cmd(int line, String text, Command command) implements Instruction {}

  record Entrypoint(int line, String text, Command command) implements Instruction {}

  /** {@code SHELL ["executable", "param"]}: always exec form. */
  record ShellForm(int line, String text, List<String> shell) implements Instruction {
    public ShellForm {
      shell = List.copyOf(shell);
    }
  }

  /**
   * COPY or ADD: sources and destination raw; {@code from} the --from stage or image (COPY only), {@code chown}
   * and {@code chmod} raw flag values or null. A heredoc source ({@code COPY <<EOF /dest}) appears in
   * {@code heredocs}, and its name in {@code sources} as {@code <<NAME}.
   */
  record Copy(int line, String text, boolean add, List<String> sources, String destination, String from,
      String chown, String chmod, List<Heredoc> heredocs) implements Instruction {
    public Copy {
      sources = List.copyOf(sources);
      heredocs = List.copyOf(heredocs);
    }
  }

  record Env(int line, String text, List<KeyValue> vars) implements Instruction {
    public Env {
      vars = List.copyOf(vars);
    }
  }

  record Arg(int line, String text, List<KeyValue> args) implements Instruction {
    public Arg {
      args = List.copyOf(args);
    }
  }

  record Label(int line, String text, List<KeyValue> labels) implements Instruction {
    public Label {
      labels = List.copyOf(labels);
    }
  }

  record Workdir(int line, String text, String path) implements Instruction {}

  record User(int line, String text, String user) implements Instruction {}

  /** Ports raw ({@code 80}, {@code 80/tcp}, {@code ${PORT}/udp}). */
  record Expose(int line, String text, List<String> ports) implements Instruction {
    public Expose {
      ports = List.copyOf(ports);
    }
  }

  /** Paths raw, from the JSON or the plain form. */
  record Volume(int line, String text, List<String> paths) implements Instruction {
    public Volume {
      paths = List.copyOf(paths);
    }
  }

  record StopSignal(int line, String text, String signal) implements Instruction {}

  /**
   * {@code HEALTHCHECK NONE} ({@code command} null) or {@code HEALTHCHECK [--interval=D] [--timeout=D]
   * [--start-period=D] [--start-interval=D] [--retries=N] CMD command}; durations in nanoseconds, 0 when not given.
   */
  record Healthcheck(int line, String text, Command command, long interval, long timeout, long startPeriod,
      long startInterval, int retries) implements Instruction {}

  /** {@code MAINTAINER name} (deprecated; sets the config's author). */
  record Maintainer(int line, String text, String name) implements Instruction {}

  /** labenv's own: {@code MAVEN group:artifact:version ...}: JVM dependencies resolved from Maven Central. */
  record Maven(int line, String text, List<String> coordinates) implements Instruction {
    public Maven {
      coordinates = List.copyOf(coordinates);
    }
  }
}
