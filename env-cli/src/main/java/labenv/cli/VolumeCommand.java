package labenv.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import labenv.container.Volumes;
import labenv.image.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code labenv volume create|ls|inspect|rm}: named volumes, whose data outlives the containers using them. */
@Command(name = "volume", description = "Manage named volumes (data kept in the store, surviving containers).",
    subcommands = {VolumeCommand.Create.class, VolumeCommand.Ls.class, VolumeCommand.Inspect.class,
        VolumeCommand.Rm.class})
final class VolumeCommand extends VerbGroup {

  Volumes volumes() {
    return new Volumes(root.store());
  }

  @Command(name = "create", description = "Create a volume (or do nothing if it exists); prints its name.")
  static final class Create implements Callable<Integer> {
    @ParentCommand VolumeCommand parent;

    @Parameters(paramLabel = "NAME", description = "[a-zA-Z0-9][a-zA-Z0-9_.-]*")
    String name;

    @Override
    public Integer call() {
      parent.root.out.println(parent.volumes().create(name).name());
      return ExitCode.OK;
    }
  }

  @Command(name = "ls", aliases = "list", description = "List the volumes.")
  static final class Ls implements Callable<Integer> {
    @ParentCommand VolumeCommand parent;

    @Option(names = "--format", description = "table or json (a list of name, driver, mountpoint, created).")
    OutputFormat format = OutputFormat.table;

    @Option(names = {"-q", "--quiet"}, description = "Only print names.")
    boolean quiet;

    @Override
    public Integer call() {
      List<Volumes.Volume> all = parent.volumes().list();
      if (quiet) {
        all.forEach(v -> parent.root.out.println(v.name()));
      } else if (format == OutputFormat.json) {
        List<Map<String, Object>> list = new ArrayList<>();
        all.forEach(v -> list.add(v.toMap()));
        parent.root.out.println(Json.pretty(list));
      } else {
        TextTable t = new TextTable("NAME", "CREATED");
        Instant now = Instant.now();
        all.forEach(v -> t.row(v.name(), Units.ago(v.created(), now)));
        t.print(parent.root.out);
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "inspect", description = "Show volumes as JSON.")
  static final class Inspect implements Callable<Integer> {
    @ParentCommand VolumeCommand parent;

    @Parameters(paramLabel = "NAME", arity = "1..*")
    List<String> names;

    @Override
    public Integer call() {
      Volumes volumes = parent.volumes();
      List<Map<String, Object>> list = new ArrayList<>();
      for (String n : names) {
        list.add(volumes.get(n).toMap());
      }
      parent.root.out.println(Json.pretty(list));
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", aliases = "remove", description = "Remove volumes and their data; prints each name.")
  static final class Rm implements Callable<Integer> {
    @ParentCommand VolumeCommand parent;

    @Parameters(paramLabel = "NAME", arity = "1..*")
    List<String> names;

    @Override
    public Integer call() {
      Volumes volumes = parent.volumes();
      for (String n : names) {
        volumes.remove(n);
        parent.root.out.println(n);
      }
      return ExitCode.OK;
    }
  }
}
