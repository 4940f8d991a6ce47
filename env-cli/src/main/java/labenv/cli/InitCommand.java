package labenv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.project.ProjectInit;
import labenv.store.ContentStore;
import labenv.store.StoreLock;
import labenv.template.Template;
import labenv.template.Templates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "init", description = {
    "Start a project from a template: an analysis, its data, Envfile and labenv.yaml, in a new or empty folder.",
    "The project is named after the folder."})
final class InitCommand extends Verb {
  @Option(names = "--template", paramLabel = "NAME",
      description = "the template (default: " + Templates.DEFAULT + "; labenv templates lists them)")
  String template = Templates.DEFAULT;

  @Parameters(index = "0", paramLabel = "DIR", description = "a new or empty folder")
  Path dir;

  private static final Pattern SHELL_WORD = Pattern.compile("[A-Za-z0-9_./+:@%=-]+");

  @Override
  public Integer call() {
    Template t = ProjectInit.template(template);
    ProjectInit.Result r = ProjectInit.init(t, dir, root.env);
    String arg = shellWord(dir.toString());
    out().println("Created " + r.name() + " from the " + t.name() + " template in " + r.dir() + " ("
        + r.files().size() + " files).");
    List<String[]> steps = new ArrayList<>();
    if (r.base() != null && !inStore(r.base())) {
      String get = r.base().startsWith("debian:") || r.base().equals("busybox")
          ? "labenv bootstrap " + r.base() : "labenv load -i ARCHIVE";
      steps.add(new String[] {get, "once: the base image " + r.base() + ", which the store lacks"});
    }
    steps.add(new String[] {"labenv run " + arg, "build (cached), run, write results/ and receipt.json"});
    steps.add(new String[] {"labenv verify " + arg, "run again from receipt.json: exit 0 when every output matches"});
    int width = steps.stream().mapToInt(s -> s[0].length()).max().orElse(0);
    out().println("Next:");
    for (String[] step : steps) {
      out().println("  " + step[0] + " ".repeat(width - step[0].length()) + "   # " + step[1]);
    }
    return ExitCode.OK;
  }

  /** Whether the store has {@code image}; a store that does not exist yet is not made just to ask. */
  private boolean inStore(String image) {
    Path home = root.home != null ? root.home : ContentStore.defaultRoot(root.env);
    if (!Files.isDirectory(home)) {
      return false;
    }
    StoreLock lock = store().lockShared();
    try {
      images().resolve(image);
      return true;
    } catch (LabenvException e) {
      return false;
    } finally {
      lock.close();
    }
  }

  private static String shellWord(String s) {
    return SHELL_WORD.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
  }
}
