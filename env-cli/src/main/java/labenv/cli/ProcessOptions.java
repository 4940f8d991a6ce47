package labenv.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options of the process a container runs, shared by {@code run} and {@code exec}. */
final class ProcessOptions {
  @Option(names = {"-i", "--interactive"}, description = "Keep stdin open (without it the command reads /dev/null).")
  boolean interactive;

  @Option(names = {"-t", "--tty"}, description = "Give the command a pseudo-terminal (with -i: a raw, interactive one).")
  boolean tty;

  @Option(names = {"-e", "--env"}, paramLabel = "KEY[=VALUE]",
      description = "Set an environment variable (KEY alone: its value here).")
  List<String> env = new ArrayList<>();

  @Option(names = {"-w", "--workdir"}, paramLabel = "DIR",
      description = "Working directory inside the container (default: the image's, or the container's for exec).")
  String workdir;

  @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]",
      description = "Name or uid, optionally :group or :gid (default: the image's, or the container's for exec).")
  String user;
}
