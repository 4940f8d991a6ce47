package labenv.project;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.image.Json;

/**
 * What one run of a project did, enough to run it again anywhere and compare: {@code receipt.json}.
 * Canonical JSON (keys in the order declared here, maps sorted, no insignificant whitespace), so the
 * same run gives the same bytes. {@link #SCHEMA} is its version: a reader refuses a newer one.
 *
 * <p>{@code outputs.root} is the sha256 of the canonical JSON of {@code outputs.files} (every output
 * file, sorted by path, with its size and sha256): one digest that changes when any output does.
 *
 * <p>{@code notebook} is there only for {@code labenv notebook run} (and left out otherwise, so other receipts are
 * as before): it describes the run, for people; the command alone re-runs it (it carries the notebook executed).
 */
@JsonPropertyOrder({"schema", "labenv", "project", "image", "datasets", "command", "workdir", "environment",
    "limits", "network", "hostname", "host", "started", "ended", "exitCode", "outputs", "notebook"})
public record Receipt(int schema, Tool labenv, String project, ImageRef image, List<DatasetRef> datasets,
    List<String> command, String workdir, List<String> environment, Limits limits, String network, String hostname,
    Host host, String started, String ended, int exitCode, Outputs outputs, NotebookRun notebook) {

  public static final int SCHEMA = 1;
  public static final String FILE = "receipt.json";

  public record Tool(String version) {}

  /** The image run, by digest; {@code source} says where it came from (a build context, or the name given). */
  @JsonPropertyOrder({"digest", "source"})
  public record ImageRef(String digest, String source) {}

  @JsonPropertyOrder({"name", "digest", "path"})
  public record DatasetRef(String name, String digest, String path) {}

  /** cpus: the CPU limit (and the thread count given to math libraries); memory, pids: null when unlimited. */
  @JsonPropertyOrder({"cpus", "memory", "pids"})
  public record Limits(double cpus, Long memory, Long pids) {}

  @JsonPropertyOrder({"kernel", "arch", "cpuModel", "cores"})
  public record Host(String kernel, String arch, String cpuModel, int cores) {}

  /** dirs: the output directories, relative to the project (each mounted at workdir/DIR). */
  @JsonPropertyOrder({"dirs", "root", "files"})
  public record Outputs(List<String> dirs, String root, List<OutputFile> files) {}

  @JsonPropertyOrder({"path", "size", "sha256"})
  public record OutputFile(String path, long size, String sha256) {}

  /**
   * A notebook's headless run: the notebook as given (path relative to the project, sha256 of its bytes), its
   * kernel and language, the parameters in the order given (values as typed on the command line), and the
   * executed notebook's path among the outputs.
   */
  @JsonPropertyOrder({"path", "sha256", "kernel", "language", "parameters", "output"})
  public record NotebookRun(String path, String sha256, String kernel, String language, List<Parameter> parameters,
      String output) {
    public NotebookRun {
      parameters = List.copyOf(parameters);
    }
  }

  @JsonPropertyOrder({"name", "value"})
  public record Parameter(String name, String value) {}

  public Receipt {
    datasets = List.copyOf(datasets);
    command = List.copyOf(command);
    environment = List.copyOf(environment);
  }

  /** A receipt without a notebook: a project's own command. */
  public Receipt(int schema, Tool labenv, String project, ImageRef image, List<DatasetRef> datasets,
      List<String> command, String workdir, List<String> environment, Limits limits, String network, String hostname,
      Host host, String started, String ended, int exitCode, Outputs outputs) {
    this(schema, labenv, project, image, datasets, command, workdir, environment, limits, network, hostname, host,
        started, ended, exitCode, outputs, null);
  }

  /** This receipt, describing a notebook's run. */
  public Receipt withNotebook(NotebookRun run) {
    return new Receipt(schema, labenv, project, image, datasets, command, workdir, environment, limits, network,
        hostname, host, started, ended, exitCode, outputs, run);
  }

  public byte[] toJson() {
    return Json.canonical(this);
  }

  /** Reads a receipt: bad input when it is not one, is damaged, or comes from a newer labenv. */
  public static Receipt read(Path file) {
    byte[] data;
    try {
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such receipt");
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": " + e.getMessage());
    }
    Map<?, ?> raw;
    try {
      raw = Json.mapper().readValue(data, Map.class);
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": not a receipt (damaged JSON: "
          + e.getMessage().lines().findFirst().orElse("") + ")");
    }
    Object schema = raw.get("schema");
    if (!(schema instanceof Integer s)) {
      throw LabenvException.badInput(file + ": not a labenv receipt (no schema number)");
    }
    if (s > SCHEMA) {
      throw LabenvException.badInput(file + ": receipt schema " + s + " comes from a newer labenv; this one reads "
          + "schema " + SCHEMA + " (upgrade labenv)");
    }
    if (s < 1) {
      throw LabenvException.badInput(file + ": receipt schema " + s + " is not one labenv ever wrote");
    }
    Receipt r;
    try {
      r = Json.mapper().readValue(data, Receipt.class);
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": damaged receipt: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (r.image() == null || r.image().digest() == null || r.outputs() == null || r.outputs().files() == null
        || r.outputs().dirs() == null || r.command() == null || r.limits() == null) {
      throw LabenvException.badInput(file + ": damaged receipt: image, command, limits and outputs are required");
    }
    String root = OutputHashes.root(r.outputs().files());
    if (!root.equals(r.outputs().root())) {
      throw LabenvException.badInput(file + ": damaged receipt: outputs.root " + r.outputs().root()
          + " is not the digest of its file list (" + root + ")");
    }
    return r;
  }
}
