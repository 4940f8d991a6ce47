package labenv.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import labenv.Progress;
import labenv.store.ContentStore;
import labenv.store.ImageStore;
import picocli.CommandLine;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** What every verb shares: the store, the output streams, progress. Verbs stay thin: parse, call, print. */
abstract class Verb implements Callable<Integer> {
  @ParentCommand LabenvCommand root;
  @Spec CommandLine.Model.CommandSpec spec;

  ContentStore store() {
    return root.store();
  }

  ImageStore images() {
    return root.images();
  }

  labenv.container.Containers containers() {
    return new labenv.container.Containers(store());
  }

  /**
   * Runs {@code action} on each of several containers (or images) named on the command line, as docker does: a
   * failure is one line on stderr and does not stop the others; returns the worst exit code.
   */
  int each(java.util.List<String> refs, java.util.function.Consumer<String> action) {
    return each(err(), refs, action);
  }

  /** {@link #each(java.util.List, java.util.function.Consumer)} for subcommands that are not verbs themselves. */
  static int each(PrintWriter err, java.util.List<String> refs, java.util.function.Consumer<String> action) {
    int status = ExitCode.OK;
    for (String ref : refs) {
      try {
        action.accept(ref);
      } catch (labenv.LabenvException e) {
        err.println("labenv: " + e.getMessage());
        err.flush();
        status = Math.max(status, e.exitCode());
      }
    }
    return status;
  }

  PrintWriter out() {
    return root.out;
  }

  PrintWriter err() {
    return root.err;
  }

  /** A progress bar when stderr is a terminal, nothing otherwise. */
  Progress progress() {
    return TerminalProgress.forTerminal(root.err, root.env);
  }
}
