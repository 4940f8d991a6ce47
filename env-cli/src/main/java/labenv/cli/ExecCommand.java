package labenv.cli;

import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.container.ContainerSpec;
import labenv.container.ContainerState;
import labenv.container.Containers;
import labenv.container.Processes;
import labenv.container.Exec;
import labenv.container.ExecRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "exec",
    description = {"Run a command in a running container.",
        "Joins the container's namespaces and cgroups with its capabilities, seccomp filter and user; "
        + "exits with the command's status, 125 when labenv failed, 126/127 when the command cannot "
        + "be executed / is not found, 128+N when signal N killed it."})
final class ExecCommand extends Verb {
  @Mixin ProcessOptions process;

  @Parameters(index = "0", paramLabel = "CONTAINER", description = "the container's name or ID")
  String container;

  @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "the command and its arguments")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() {
    Target target = target();
    ExecRequest request = new ExecRequest(target.pid(), target.spec(), command, environment(), process.workdir,
        process.user, process.interactive, process.tty, Exec.cgroupProcsFiles(target.pid()));
    return Exec.run(request);
  }

  /** A running container: its first process as the host sees it, and its spec. */
  record Target(long pid, ContainerSpec spec) {}

  private Target target() {
    Containers containers = containers();
    ContainerState s = containers.find(container);
    if (!s.isRunning() || !Processes.alive(s.pid(), s.pidStartTime())) {
      throw LabenvException.failed("container " + s.shortId() + " is not running");
    }
    return new Target(s.pid(), containers.container(s).spec());
  }

  private List<String> environment() {
    return RunCommand.environment(process.env, root.env);
  }
}
