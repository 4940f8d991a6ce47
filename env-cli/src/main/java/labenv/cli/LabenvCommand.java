package labenv.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import labenv.store.ContentStore;
import labenv.store.ImageStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top-level command: global options and the list of verbs. */
@Command(name = "labenv",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {"Reproducible data-science environments: OCI images, containers, datasets and receipts."},
    footer = ExitCode.HELP)
public final class LabenvCommand implements Callable<Integer> {
  /**
   * The verbs, in the order help lists them. Not in the annotation: picocli would build the model of
   * every verb on each start (reflection, about 70 ms), while a command line names one (see {@link Main}).
   */
  static final List<Class<?>> VERBS = List.of(
      BuildCommand.class,
      LockCommand.class,
      ImagesCommand.class,
      InspectCommand.class,
      HistoryCommand.class,
      TagCommand.class,
      RmiCommand.class,
      PruneCommand.class,
      FsckCommand.class,
      ImportCommand.class,
      BootstrapCommand.class,
      LoadCommand.class,
      SaveCommand.class,
      PullCommand.class,
      PushCommand.class,
      LoginCommand.class,
      LogoutCommand.class,
      UnpackCommand.class,
      RunCommand.class,
      PsCommand.class,
      LogsCommand.class,
      StopCommand.class,
      KillCommand.class,
      RmCommand.class,
      WaitCommand.class,
      ExecCommand.class,
      InitCommand.class,
      TemplatesCommand.class,
      VerifyCommand.class,
      CheckCommand.class,
      SubmitCommand.class,
      StatusCommand.class,
      ExportCommand.class,
      CollectCommand.class,
      TaskCommand.class,
      NotebookCommand.class,
      VolumeCommand.class,
      DatasetCommand.class,
      RuntimeCommand.class,
      CompletionCommand.class);

  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--home", paramLabel = "DIR", scope = ScopeType.INHERIT,
      description = "The store (default: $LABENV_HOME, else $${XDG_DATA_HOME:-~/.local/share}/labenv).")
  Path home;

  @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "Print the full stack trace of a failure.")
  boolean stacktrace;

  final Map<String, String> env;
  final PrintWriter out;
  final PrintWriter err;

  LabenvCommand(Map<String, String> env, PrintWriter out, PrintWriter err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  private ContentStore store;

  @Override
  public Integer call() {
    // No verb is bad usage: the usage goes where errors go.
    spec.commandLine().usage(err);
    return ExitCode.USAGE;
  }

  /** The store this invocation works on, opened (and created when missing) on first use. */
  ContentStore store() {
    if (store == null) {
      store = ContentStore.open(home != null ? home : ContentStore.defaultRoot(env));
    }
    return store;
  }

  ImageStore images() {
    // Containers keep their images' blobs and unpacked layers alive while they exist.
    return new ImageStore(store(), java.util.List.of(labenv.container.Launcher.gcRoots(store()),
        labenv.build.BuildCache.gcRoots(store())));
  }
}
