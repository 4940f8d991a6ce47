package labenv.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.container.ContainerSpec;

/** How a RUN instruction becomes the command its container runs, heredocs included, as BuildKit runs them. */
final class RunArgv {
  private RunArgv() {}

  /**
   * A RUN whose whole command is one heredoc starting with "#!": BuildKit writes the body to a file (0755), mounts it
   * read-only at /dev/pipes/NAME and executes it, so the kernel reads the "#!" line and the script's stdin is not
   * the script (a command in it that reads stdin would otherwise swallow the rest of the script).
   */
  record Script(String name, String content) {
    String path() {
      return "/dev/pipes/" + name;
    }

    ContainerSpec.Mount mount(Path dir) {
      Path file = dir.resolve("pipes").resolve(name);
      try {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      } catch (IOException e) {
        throw LabenvException.failed("cannot write the RUN heredoc to " + file + ": " + e.getMessage(), e);
      }
      return ContainerSpec.Mount.bind(file.toString(), path(), true);
    }
  }

  static Script script(Instruction.Run r) {
    if (r.command().isExec() || r.heredocs().size() != 1) {
      return null;
    }
    Instruction.Heredoc h = r.heredocs().get(0);
    if (!h.content().startsWith("#!") || !r.command().shell().trim().matches("<<-?[\"']?"
        + java.util.regex.Pattern.quote(h.name()) + "[\"']?")) {
      return null;
    }
    String name = h.name().matches("[A-Za-z0-9_.-]+") && !h.name().matches("\\.+") ? h.name() : "script";
    return new Script(name, h.content());
  }

  /** The argv of a RUN: exec form as is; shell form through SHELL; heredocs as BuildKit runs them. */
  static List<String> of(Instruction.Run r, StageState state) {
    Instruction.Command c = r.command();
    if (c.isExec()) {
      if (!r.heredocs().isEmpty()) {
        throw LabenvException.badInput("RUN in exec form cannot take a heredoc");
      }
      if (c.exec().isEmpty()) {
        throw LabenvException.badInput("RUN needs a command");
      }
      return c.exec();
    }
    List<String> argv = new ArrayList<>(state.shellOrDefault());
    if (r.heredocs().isEmpty()) {
      argv.add(c.shell());
      return argv;
    }
    Instruction.Heredoc first = r.heredocs().get(0);
    if (r.heredocs().size() == 1 && c.shell().trim().matches("<<-?[\"']?" + java.util.regex.Pattern.quote(first.name())
        + "[\"']?")) {
      // The body is the script, run by the shell (one with "#!" is a Script instead).
      argv.add(first.content());
      return argv;
    }
    // A command with heredocs: the shell reads the bodies itself, as written.
    StringBuilder script = new StringBuilder(c.shell()).append('\n');
    for (Instruction.Heredoc h : r.heredocs()) {
      script.append(withNewline(h.content())).append(h.name()).append('\n');
    }
    argv.add(script.toString());
    return argv;
  }

  private static String withNewline(String s) {
    return s.isEmpty() || s.endsWith("\n") ? s : s + "\n";
  }
}
