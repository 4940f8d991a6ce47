package labenv.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import labenv.LabenvException;
import picocli.CommandLine;

/**
 * Turns any failure into one line on stderr ({@code labenv: ...}) and an exit code: the failure's own
 * for {@link LabenvException}, 1 for anything else. The stack trace only with {@code --stacktrace}.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
  private final LabenvCommand root;

  ErrorHandler(LabenvCommand root) {
    this.root = root;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
    var err = cmd.getErr();
    err.println("labenv: " + message(ex));
    if (root.stacktrace) {
      ex.printStackTrace(err);
    }
    err.flush();
    // run and exec keep 0..124 for the command's own status: every failure of labenv's is 125 there.
    Object verb = cmd.getCommandSpec().userObject();
    // A project run (labenv.yaml) is not docker's run: its bad input is 2 and its failures 1, like any verb's.
    boolean container = verb instanceof RunCommand r ? !r.projectMode : verb instanceof ExecCommand;
    return container ? ExitCode.RUNTIME_FAILED : exitCode(ex);
  }

  static int exitCode(Throwable ex) {
    if (ex instanceof LabenvException le) {
      return le.exitCode();
    }
    return ExitCode.FAILED;
  }

  /** One line: the failure's message, with the I/O exception kinds spelled out. */
  static String message(Throwable ex) {
    if (ex instanceof UncheckedIOException u && u.getCause() != null) {
      ex = u.getCause();
    }
    String m;
    if (ex instanceof NoSuchFileException e) {
      m = e.getFile() + ": no such file or directory";
    } else if (ex instanceof AccessDeniedException e) {
      m = e.getFile() + ": permission denied";
    } else if (ex instanceof FileAlreadyExistsException e) {
      m = e.getFile() + ": already exists";
    } else if (ex instanceof LabenvException || ex instanceof IOException) {
      m = ex.getMessage();
    } else {
      m = ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
    }
    if (m == null) {
      m = ex.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl >= 0 ? m.substring(0, nl) : m;
  }
}
