package labenv.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import labenv.LabenvException;
import labenv.build.BaseImages;
import labenv.build.Envfile;
import labenv.build.Instruction;
import labenv.project.ProjectFile;
import labenv.store.ImageNotFoundException;

/**
 * Makes the base images a project's Envfile starts FROM when the store lacks them and labenv can make
 * them ({@code debian:CODENAME}, {@code busybox}), as {@code labenv bootstrap} would, with its progress:
 * a project runs on a fresh machine without a first step to remember (docker pulls a missing base the
 * same way). Anything else missing is left to the build, whose error says how to get it.
 */
final class BaseImagesOnDemand {
  private BaseImagesOnDemand() {}

  /**
   * The image of project {@code p}, as every project verb gets it: a missing Debian or busybox base made first, then
   * the project's image built (cached) with its steps on stderr ({@code quiet}: none).
   */
  static labenv.store.Image projectImage(Verb verb, labenv.project.ProjectRunner runner, ProjectFile p,
      boolean quiet) {
    ensure(verb, p);
    return runner.image(p, new BuildCommand.StepPrinter(verb.err(), quiet));
  }

  static void ensure(Verb verb, ProjectFile p) {
    if (p.build() == null) {
      return;
    }
    Path context = p.dir().resolve(p.build());
    Path envfile = p.envfile() != null ? p.dir().resolve(p.envfile())
        : Files.exists(context.resolve("Envfile")) || !Files.exists(context.resolve("Dockerfile"))
            ? context.resolve("Envfile") : context.resolve("Dockerfile");
    String content;
    try {
      content = Files.readString(envfile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return; // the build reports it
    }
    Set<String> bases = new LinkedHashSet<>();
    Set<String> stages = new HashSet<>();
    try {
      for (Instruction i : Envfile.parse(content, envfile.getFileName().toString()).instructions()) {
        if (i instanceof Instruction.From from) {
          if (!stages.contains(from.image()) && !from.image().contains("$") && !from.image().equals("scratch")) {
            bases.add(from.image());
          }
          if (from.alias() != null) {
            stages.add(from.alias());
          }
        }
      }
    } catch (LabenvException e) {
      return; // the build reports it, with its line
    }
    for (String base : bases) {
      try {
        verb.images().image(base);
        continue;
      } catch (ImageNotFoundException e) {
        // made below, when labenv can
      }
      try {
        BaseImages.parse(base);
      } catch (LabenvException e) {
        continue;
      }
      verb.err().println("labenv: " + base + " (FROM in " + envfile.getFileName() + ") is not in the store: making it "
          + "now, once (labenv bootstrap " + base + ")");
      verb.err().flush();
      BootstrapCommand b = new BootstrapCommand();
      b.root = verb.root;
      b.target = base;
      b.call();
    }
  }
}
