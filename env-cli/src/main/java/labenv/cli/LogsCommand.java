package labenv.cli;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.nio.file.Files;
import labenv.LabenvException;
import labenv.container.ContainerLog;
import labenv.container.ContainerState;
import labenv.container.Containers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", description = {"Print a detached container's output (stdout to stdout, stderr to stderr).",
    "A container run in the foreground wrote to the terminal and has no log."})
final class LogsCommand extends Verb {
  @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the container exits.")
  boolean follow;

  @Option(names = {"-n", "--tail"}, paramLabel = "N|all", description = "Only the last N lines (default: all).")
  String tail = "all";

  @Option(names = {"-t", "--timestamps"}, description = "Prefix each line with the time it was written (RFC 3339).")
  boolean timestamps;

  @Parameters(paramLabel = "CONTAINER", description = "name, id or unique id prefix")
  String ref;

  @Override
  public Integer call() {
    int lines;
    if (tail.equals("all")) {
      lines = -1;
    } else if (tail.matches("\\d{1,9}")) {
      lines = Integer.parseInt(tail);
    } else {
      throw LabenvException.badInput("--tail \"" + tail + "\": expected a number of lines or all");
    }
    Containers containers = containers();
    ContainerState s = containers.find(ref);
    if (!Files.exists(containers.log(s.id()))) {
      if (!s.detached()) {
        throw LabenvException.failed("container " + s.shortId()
            + " ran in the foreground: its output went to the terminal, not to a log (run -d keeps one)");
      }
    }
    out().flush();
    ContainerLog.read(containers.log(s.id()), lines, follow, () -> {
      ContainerState now = containers.read(s.id());
      ContainerState reconciled = now == null ? null : containers.reconcile(now);
      return reconciled != null && reconciled.isRunning();
    }, new ContainerLog.Sinks(new FileOutputStream(FileDescriptor.out), new FileOutputStream(FileDescriptor.err),
        timestamps));
    return ExitCode.OK;
  }
}
