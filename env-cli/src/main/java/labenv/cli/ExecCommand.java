package labenv.cli;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.container.ContainerSpec;
import labenv.container.Exec;
import labenv.container.ExecRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "exec",
    description = {"Run a command in a running container.",
        "Joins the container's namespaces and cgroups with its capabilities, seccomp filter and user; "
        + "exits with the command's status, 125 when labenv failed, 126/127 when the command cannot "
        + "be executed / is not found, 128+N when signal N killed it."})
final class ExecCommand extends Verb {
  @Option(names = {"-i", "--interactive"}, description = "Pass standard input to the command (else /dev/null).")
  boolean interactive;

  @Option(names = {"-t", "--tty"}, description = "Give the command a pseudo-terminal of the container's.")
  boolean tty;

  @Option(names = {"-e", "--env"}, paramLabel = "KEY[=VALUE]",
      description = "Set an environment variable (KEY alone: its value here).")
  List<String> env = new ArrayList<>();

  @Option(names = {"-w", "--workdir"}, paramLabel = "DIR",
      description = "Working directory inside the container (default: the container's).")
  String workdir;

  @Option(names = {"-u", "--user"}, paramLabel = "USER[:GROUP]",
      description = "Name or uid, optionally :group or :gid (default: the container's).")
  String user;

  // For tests until containers keep their state on disk: see target().
  @Option(names = "--pid", hidden = true, paramLabel = "PID")
  Long pid;

  @Option(names = "--spec", hidden = true, paramLabel = "FILE")
  Path specFile;

  @Parameters(index = "0", paramLabel = "CONTAINER", description = "the container's name or ID")
  String container;

  @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "the command and its arguments")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() {
    Target target = target();
    ExecRequest request = new ExecRequest(target.pid(), target.spec(), command, environment(), workdir, user,
        interactive, tty, Exec.cgroupProcsFiles(target.pid()));
    return Exec.run(request);
  }

  /** A running container: its first process as the host sees it, and its spec. */
  record Target(long pid, ContainerSpec spec) {}

  /**
   * PLACEHOLDER for the container lookup (to be replaced by the lifecycle's state on disk: CONTAINER by name or ID
   * prefix, its pid if it is running, its init.spec). For now the hidden options --pid and --spec say it.
   */
  private Target target() {
    if (pid == null || specFile == null) {
      throw LabenvException.badInput("exec " + container + ": container lookup is not there yet: give --pid PID "
          + "--spec <store>/containers/<id>/init.spec");
    }
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(specFile)))) {
      return new Target(pid, ContainerSpec.read(in));
    } catch (IOException e) {
      throw LabenvException.failed("cannot read container spec " + specFile + ": " + e.getMessage(), e);
    }
  }

  private List<String> environment() {
    List<String> resolved = new ArrayList<>();
    for (String e : env) {
      if (e.indexOf('=') > 0) {
        resolved.add(e);
      } else if (!e.isEmpty() && root.env.containsKey(e)) {
        resolved.add(e + "=" + root.env.get(e));
      } else if (e.isEmpty() || e.startsWith("=")) {
        throw LabenvException.badInput("environment entry \"" + e + "\": not KEY=VALUE");
      }
    }
    return resolved;
  }
}
