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
