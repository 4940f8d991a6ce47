package labenv.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import labenv.LabenvException;
import labenv.container.Launcher;
import labenv.project.Notebook;
import labenv.project.NotebookDriver;
import labenv.project.NotebookParameters;
import labenv.project.OutputHashes;
import labenv.project.ProjectFile;
import labenv.project.ProjectRunner;
import labenv.project.Receipt;
import labenv.store.Image;

/**
 * {@code labenv notebook run}: the notebook checked, its parameters injected, executed by {@link NotebookDriver}
 * through {@link ProjectRunner} (the project's image and hermetic run, staging, lock and receipt), and what the
 * driver reported turned into labenv's messages. A failing cell leaves the project's outputs and receipt as
 * they were (as a failed {@code labenv run} does); the notebook as far as it ran is in {@code .labenv/failed/}.
 */
final class HeadlessRun implements Callable<Integer> {
  private final NotebookCommand.Run options;
  private final NotebookCommand parent;
  private final Path notebook;

  HeadlessRun(NotebookCommand.Run options) {
    this.options = options;
    this.parent = options.parent;
    this.notebook = options.notebook;
  }

  /** The container's output kept at most: the driver says little; anything beyond is a runaway kernel's. */
  private static final int CAPTURED = 4 << 20;

  @Override
  public Integer call() {
    Path nb = notebook.toAbsolutePath().normalize();
    Path project = options.dir != null ? options.dir.toAbsolutePath().normalize() : project(nb);
    ProjectFile p = ProjectFile.read(project);
    NotebookParameters params = NotebookParameters.parse(options.parameters);
    Notebook source = Notebook.read(notebook);
    String out = output(p, nb);
    Notebook executed = source.withoutOutputs();
    if (!params.isEmpty()) {
      String code = params.source(source.language());
      if (source.tagged(Notebook.PARAMETERS_TAG) < 0 && source.tagged(Notebook.INJECTED_TAG) < 0) {
        parent.err().println("labenv: " + notebook + " has no cell tagged " + Notebook.PARAMETERS_TAG + ": the "
            + "parameters go in a new first cell (as papermill does)");
        parent.err().flush();
      }
      executed = executed.withInjectedCell(code);
    }
    String sha256;
    try {
      sha256 = OutputHashes.sha256(nb);
    } catch (IOException e) {
      throw LabenvException.badInput(notebook + ": cannot read the notebook: " + e.getMessage());
    }
    Receipt.NotebookRun described = new Receipt.NotebookRun(nb.startsWith(project) ? project.relativize(nb)
        .toString() : nb.toString(), sha256, source.kernelName(), source.language(), params.parameters().stream()
        .map(x -> new Receipt.Parameter(x.name(), x.value())).toList(), out);

    ProjectRunner runner = new ProjectRunner(parent.store(), parent.images(), parent.containers(),
        VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(parent, runner, p, false);
    Path workdir = Path.of(runner.workdir(p, image));
    // The kernel starts where the notebook is in the image (when the project's files are copied there), so the
    // paths it opens relative to itself work as they do in Jupyter.
    String cwd = (nb.startsWith(project) ? workdir.resolve(project.relativize(nb.getParent())) : workdir)
        .normalize().toString();
    List<String> argv = NotebookDriver.command(cwd, workdir.resolve(out).normalize().toString(), executed,
        notebook.toString());
    Captured captured = new Captured(CAPTURED);
    ProjectRunner.Result r = runner.run(p, image, argv, described, Launcher.Stdio.output(captured));
    String said = captured.text();
    int code = r.receipt().exitCode();
    if (code == 0) {
      parent.err().print(said);
      parent.err().flush();
      print(r, out, executed);
      return ExitCode.OK;
    }
    NotebookDriver.Failure failure = NotebookDriver.Failure.in(said);
    String missing = NotebookDriver.missingModule(said);
    if (code == NotebookDriver.NO_JUPYTER && missing != null || code == NotebookDriver.NOT_FOUND) {
      throw LabenvException.failed("the image of " + p.name() + " (" + image.descriptor().digest().toString()
          .substring(0, 19) + ") has no Jupyter to run " + notebook + " with ("
          + (missing != null ? "python3 has no module " + missing : "no python3") + "): start from the "
          + "jupyter-python template (labenv init --template jupyter-python) or install Debian's python3-nbclient "
          + "python3-nbformat python3-ipykernel (or jupyter-notebook) in the Envfile");
    }
    if (code == NotebookDriver.NO_KERNEL) {
      throw LabenvException.failed(notebook + ": the image has no Jupyter kernel \"" + source.kernelName()
          + "\" (metadata.kernelspec.name): install it in the image (Python: Debian's python3-ipykernel; Java: "
          + "the jupyter-jvm template's kernel); jupyter kernelspec list shows those it has");
    }
    parent.err().print(said);
    parent.err().flush();
    Path partial = r.outputs().resolve(out);
    String kept = Files.isRegularFile(partial) ? "the notebook as far as it ran is in " + partial
        : "no notebook was written (this run's outputs are in " + r.outputs() + ")";
    if (code == NotebookDriver.CELL_FAILED && failure != null) {
      throw LabenvException.failed(notebook + ": stopped at cell " + failure.cell() + " (" + failure.error()
          + "); " + kept + "; the project's outputs are unchanged and no receipt was written");
    }
    throw LabenvException.failed(notebook + ": executing it exited " + code + "; " + kept + "; the project's "
        + "outputs are unchanged and no receipt was written");
  }

  /** The project of a notebook given without DIR: its folder's or an ancestor's with labenv.yaml, else here's. */
  private Path project(Path nb) {
    for (Path d = nb.getParent(); d != null; d = d.getParent()) {
      if (ProjectFile.isProject(d)) {
        return d;
      }
    }
    Path here = Path.of("").toAbsolutePath();
    if (ProjectFile.isProject(here)) {
      return here;
    }
    throw LabenvException.badInput(notebook + ": no " + ProjectFile.FILE + " in its folder or above it, nor here: "
        + "name the project (labenv notebook run NB DIR), or make one (labenv init)");
  }

  /** The executed notebook's path relative to the project: inside one of its outputs. */
  private String output(ProjectFile p, Path nb) {
    if (p.outputs().isEmpty()) {
      throw LabenvException.badInput(p.dir().resolve(ProjectFile.FILE) + ": no outputs: notebook run writes the "
          + "executed notebook into one (add outputs: [results])");
    }
    if (options.output == null) {
      return p.outputs().get(0) + "/" + nb.getFileName();
    }
    Path o = options.output.toAbsolutePath().normalize();
    for (String dir : p.outputs()) {
      Path d = p.dir().resolve(dir).normalize();
      if (o.startsWith(d) && !o.equals(d)) {
        return p.dir().relativize(o).toString();
      }
    }
    throw LabenvException.badInput("-o " + options.output + ": not inside the project's outputs (" + String.join(", ",
        p.outputs()) + " in " + p.dir() + "): only they are written and hashed");
  }

  private void print(ProjectRunner.Result r, String out, Notebook executed) {
    Receipt receipt = r.receipt();
    PrintWriter w = parent.out();
    w.println("executed: " + r.outputs().resolve(out) + " (" + executed.cells() + " cell"
        + (executed.cells() == 1 ? "" : "s") + ")");
    w.println("receipt: " + r.receiptFile());
    w.println("outputs: " + receipt.outputs().root() + " (" + receipt.outputs().files().size() + " file"
        + (receipt.outputs().files().size() == 1 ? "" : "s") + ")");
    for (Receipt.OutputFile f : receipt.outputs().files()) {
      w.println("  " + f.sha256().substring(0, 12) + "  " + String.format("%8s", Units.bytes(f.size())) + "  "
          + f.path());
    }
    w.flush();
  }

  /** Keeps the first {@code limit} bytes written, and how many more there were. */
  private static final class Captured extends OutputStream {
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final int limit;
    private long dropped;

    Captured(int limit) {
      this.limit = limit;
    }

    @Override
    public synchronized void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      int n = Math.max(0, Math.min(len, limit - kept.size()));
      kept.write(b, off, n);
      dropped += len - n;
    }

    synchronized String text() {
      String s = kept.toString(StandardCharsets.UTF_8);
      return dropped == 0 ? s : s + "\n... " + dropped + " more bytes of output not shown\n";
    }
  }
}
