package labenv.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import labenv.image.Json;
import labenv.linux.Signals;
import labenv.oci.OciRuntime;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code labenv runtime create|start|state|kill|delete}: labenv's container init as an OCI runtime, driven the way
 * runc is, so that tools made for runc (and OCI conformance suites) can run bundles with it. Needs no store.
 */
@Command(name = "runtime",
    description = {"Run OCI bundles (config.json + root filesystem) with labenv's own init, the way runc does.",
        "create, then start; state prints the runtime-spec state JSON."},
    subcommands = {RuntimeCommand.Create.class, RuntimeCommand.Start.class, RuntimeCommand.State.class,
        RuntimeCommand.Kill.class, RuntimeCommand.Delete.class})
final class RuntimeCommand implements Callable<Integer> {
  @ParentCommand LabenvCommand root;
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--root", paramLabel = "DIR",
      description = "Where container state lives (default: /run/labenv for root, else $XDG_RUNTIME_DIR/labenv).")
  Path stateRoot;

  @Override
  public Integer call() {
    spec.commandLine().usage(root.err);
    return ExitCode.USAGE;
  }

  OciRuntime runtime() {
    return new OciRuntime(stateRoot != null ? stateRoot : OciRuntime.defaultRoot(root.env));
  }

  @Command(name = "create", description = {"Create a container from a bundle; its process waits for start.",
      "The container keeps this command's stdin, stdout and stderr."})
  static final class Create implements Callable<Integer> {
    @ParentCommand RuntimeCommand parent;

    @Option(names = {"-b", "--bundle"}, paramLabel = "DIR", description = "The bundle (default: this directory).")
    Path bundle = Path.of("");

    @Option(names = "--pid-file", paramLabel = "FILE", description = "Write the container process's pid here.")
    Path pidFile;

    @Parameters(paramLabel = "ID", description = "A new container id: letters, digits and _+.-")
    String id;

    @Override
    public Integer call() {
      parent.runtime().create(id, bundle, pidFile);
      return ExitCode.OK;
    }
  }

  @Command(name = "start", description = "Let a created container's process run.")
  static final class Start implements Callable<Integer> {
    @ParentCommand RuntimeCommand parent;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      parent.runtime().start(id);
      return ExitCode.OK;
    }
  }

  @Command(name = "state", description = "Print a container's state (ociVersion, id, status, pid, bundle) as JSON.")
  static final class State implements Callable<Integer> {
    @ParentCommand RuntimeCommand parent;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      parent.root.out.println(Json.pretty(parent.runtime().state(id)));
      return ExitCode.OK;
    }
  }

  @Command(name = "kill", description = "Send a signal to a container's process.")
  static final class Kill implements Callable<Integer> {
    @ParentCommand RuntimeCommand parent;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "SIGNAL", arity = "0..1",
        description = "A name (TERM, SIGKILL) or number; default TERM.")
    String signal = "TERM";

    @Override
    public Integer call() {
      parent.runtime().kill(id, Signals.parse(signal));
      return ExitCode.OK;
    }
  }

  @Command(name = "delete", description = "Remove a stopped (or created) container's state.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand RuntimeCommand parent;

    @Option(names = {"-f", "--force"}, description = "Kill a running container first (SIGKILL).")
    boolean force;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      parent.runtime().delete(id, force);
      return ExitCode.OK;
    }
  }
}
