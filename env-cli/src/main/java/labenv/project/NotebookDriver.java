package labenv.project;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * The command that executes a notebook in the project's container: Python's nbclient, driven by a short script
 * given with {@code python3 -c}. The notebook itself (parameters injected, outputs cleared) follows as arguments,
 * so the command in the receipt is all {@code labenv verify} needs to run it again, exactly, on any labenv that
 * reads the receipt.
 *
 * <p>The script executes cell by cell with nbclient (no time limit per cell; {@code record_timing=False}, so no
 * timestamps: a deterministic notebook gives the same bytes twice), in the notebook's folder in the image when
 * there is one, else in the working directory, and writes the executed notebook with nbformat (sorted keys). It
 * stops at the first failing cell (nbclient's rule: a cell tagged {@code raises-exception} may fail), writes the
 * notebook as far as it got, prints {@code cell N failed: ErrorName: message} and the traceback without
 * terminal colours, and exits {@value #CELL_FAILED}. Without nbclient it exits {@value #NO_JUPYTER}, without the
 * notebook's kernel {@value #NO_KERNEL}, having written nothing.
 */
public final class NotebookDriver {
  private NotebookDriver() {}

  /** A cell failed (or the kernel died in one): the notebook as far as it got is written. */
  public static final int CELL_FAILED = 1;
  /** The image's python3 lacks nbformat or nbclient (or jupyter_client). */
  public static final int NO_JUPYTER = 3;
  /** The notebook's kernel is not installed in the image. */
  public static final int NO_KERNEL = 4;
  /** What a shell (or labenv's init) returns for a command that is not there: python3 itself is missing. */
  public static final int NOT_FOUND = 127;

  /** Arguments carry the notebook in pieces below Linux's limit for one argument (128 KiB). */
  static final int PIECE = 100_000;
  /** The notebook passed at most: the arguments and environment together must stay under 2 MiB (ARG_MAX). */
  public static final int MAX_NOTEBOOK = 1 << 20;

  static final String SCRIPT = """
      import os, re, sys
      def say(line):
          sys.stderr.write(line + "\\n")
          sys.stderr.flush()
      try:
          import nbformat
          from nbclient import NotebookClient
          from nbclient.exceptions import CellExecutionError, DeadKernelError
          from jupyter_client.kernelspec import NoSuchKernel
      except ImportError as e:
          say("labenv-notebook: no module %s" % e.name)
          sys.exit(3)
      cwd, target = sys.argv[1], sys.argv[2]
      nb = nbformat.reads("".join(sys.argv[3:]), as_version=4)
      if not os.path.isdir(cwd):
          cwd = os.getcwd()
      # ipykernel's debugger otherwise warns on stderr about Python's frozen modules
      os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
      at = [0]
      def started(cell, cell_index, **_):
          at[0] = cell_index
      client = NotebookClient(nb, timeout=None, startup_timeout=300, record_timing=False,
          resources={"metadata": {"path": cwd}}, on_cell_start=started)
      def coalesce():
          # Consecutive stream outputs of one name become one, as nbconvert's coalesce_streams does: kernels send
          # output in batches whose boundaries depend on timing (the Java kernel's every 100 ms), and the executed
          # notebook must not.
          for cell in nb.cells:
              merged = []
              for o in cell.get("outputs", []):
                  if (merged and o.get("output_type") == "stream" and merged[-1].get("output_type") == "stream"
                          and merged[-1].get("name") == o.get("name")):
                      merged[-1]["text"] += o.get("text", "")
                  else:
                      merged.append(o)
              if "outputs" in cell:
                  cell["outputs"] = merged
      def write():
          coalesce()
          os.makedirs(os.path.dirname(target), exist_ok=True)
          with open(target, "w", encoding="utf-8") as f:
              nbformat.write(nb, f)
      def plain(text):
          return re.sub(r"\\x1b\\[[0-9;?]*[ -/]*[@-~]", "", text)
      try:
          client.execute()
      except NoSuchKernel:
          say("labenv-notebook: no kernel %s" % client.kernel_name)
          sys.exit(4)
      except CellExecutionError as e:
          write()
          say(plain("cell %d failed: %s: %s" % (at[0] + 1, e.ename, e.evalue)))
          for o in nb.cells[at[0]].get("outputs", []):
              if o.get("output_type") == "error":
                  for line in plain("\\n".join(o.get("traceback", []))).splitlines():
                      say("  " + line)
          sys.exit(1)
      except DeadKernelError:
          write()
          say("cell %d failed: DeadKernelError: the kernel died (out of memory?)" % (at[0] + 1))
          sys.exit(1)
      write()
      """;

  /**
   * The argv that executes {@code notebook} in the container with the kernel's working directory {@code cwd} and
   * writes the executed notebook to {@code target} (both container paths).
   *
   * @throws LabenvException bad input when the notebook, without outputs, is over {@value #MAX_NOTEBOOK} bytes
   */
  public static List<String> command(String cwd, String target, Notebook notebook, String name) {
    String json = notebook.toAsciiJson();
    if (json.length() > MAX_NOTEBOOK) {
      throw LabenvException.badInput(name + ": its cells without outputs are " + (json.length() >> 10) + " KiB; "
          + "notebook run takes notebooks up to " + (MAX_NOTEBOOK >> 10) + " KiB (large data or images in cells "
          + "belong in a dataset or the image)");
    }
    List<String> argv = new ArrayList<>(List.of("python3", "-c", SCRIPT, cwd, target));
    for (int i = 0; i < json.length(); i += PIECE) {
      argv.add(json.substring(i, Math.min(json.length(), i + PIECE)));
    }
    return argv;
  }

  private static final Pattern FAILED = Pattern.compile("(?m)^cell (\\d+) failed: (.*)$");

  /** The failing cell's number and its one-line error, from what the script printed; null when none failed. */
  public record Failure(int cell, String error) {
    public static Failure in(String output) {
      Matcher m = FAILED.matcher(output);
      return m.find() ? new Failure(Integer.parseInt(m.group(1)), m.group(2)) : null;
    }
  }

  /** The module the script found missing ({@code labenv-notebook: no module X}), or null. */
  public static String missingModule(String output) {
    Matcher m = Pattern.compile("(?m)^labenv-notebook: no module (\\S+)").matcher(output);
    return m.find() ? m.group(1) : null;
  }
}
