package labenv.project;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.image.Json;

/**
 * What a sweep did: {@code sweep-receipt.json}, beside its tasks' folders. Each task's folder (named as the task)
 * holds its output directories, its own {@code receipt.json} and {@code task.log}; this summary lists every task with
 * its parameters, its status, the digest of its receipt and its outputs' root. Canonical JSON, like receipts.
 *
 * <ul>
 *   <li>{@code root}: sha256 of the canonical JSON of [{index, name, parameters, receiptDigest}] over the tasks: one
 *       digest for the whole record (it changes with any receipt, timestamps included);
 *   <li>{@code outputsRoot}: sha256 of the canonical JSON of [{name, outputsRoot}]: equal for two sweeps whose every
 *       task made the same outputs (what reproducing a sweep means).
 * </ul>
 *
 * A task's status is {@code ok} (exit 0), {@code failed} (its command exited non-zero: its outputs and receipt are kept
 * as they were, and its log's tail is here), {@code missing} (no receipt: it did not run, or labenv failed; {@code
 * error} says why) or {@code damaged} (collected outputs that do not match their receipt). Paths are relative to the
 * summary's folder.
 */
@JsonPropertyOrder({"schema", "kind", "labenv", "project", "image", "pass", "parameters", "tasks", "outputsRoot",
    "root"})
public record SweepReceipt(int schema, String kind, Receipt.Tool labenv, String project, Receipt.ImageRef image,
    String pass, List<String> parameters, List<Task> tasks, String outputsRoot, String root) {

  public static final int SCHEMA = 1;
  public static final String KIND = "labenv-sweep";
  public static final String FILE = "sweep-receipt.json";

  public enum Status { ok, failed, missing, damaged }

  @JsonPropertyOrder({"index", "name", "parameters", "status", "exitCode", "receipt", "receiptDigest", "outputs",
      "outputsRoot", "error", "logTail"})
  public record Task(int index, String name, Map<String, String> parameters, Status status, Integer exitCode,
      String receipt, String receiptDigest, String outputs, String outputsRoot, String error, List<String> logTail) {
    public Task {
      parameters = parameters == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
      logTail = logTail == null ? null : List.copyOf(logTail);
    }
  }

  public SweepReceipt {
    parameters = List.copyOf(parameters);
    tasks = List.copyOf(tasks);
  }

  /** A summary of {@code tasks}, its two roots computed. */
  public static SweepReceipt of(String version, String project, Receipt.ImageRef image, String pass,
      List<String> parameters, List<Task> tasks) {
    return new SweepReceipt(SCHEMA, KIND, new Receipt.Tool(version), project, image, pass, parameters, tasks,
        outputsRoot(tasks), root(tasks));
  }

  static String root(List<Task> tasks) {
    List<Map<String, Object>> entries = new ArrayList<>();
    for (Task t : tasks) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("index", t.index());
      m.put("name", t.name());
      m.put("parameters", t.parameters());
      m.put("receiptDigest", t.receiptDigest());
      entries.add(m);
    }
    return Digest.of(Json.canonical(entries)).toString();
  }

  static String outputsRoot(List<Task> tasks) {
    List<Map<String, Object>> entries = new ArrayList<>();
    for (Task t : tasks) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", t.name());
      m.put("outputsRoot", t.outputsRoot());
      entries.add(m);
    }
    return Digest.of(Json.canonical(entries)).toString();
  }

  public byte[] toJson() {
    return Json.canonical(this);
  }

  /** The tasks that did not end well (failed, missing, damaged). */
  public List<Task> unsuccessful() {
    return tasks.stream().filter(t -> t.status() != Status.ok).toList();
  }

  /** True when {@code file} holds a sweep summary rather than one run's receipt. */
  public static boolean isSweep(Path file) {
    try {
      return KIND.equals(Json.mapper().readTree(file.toFile()).path("kind").asText());
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Reads a summary and checks it: bad input when it is not one, comes from a newer labenv, or its roots do not
   * match its task list. (Each task's receipt is checked against its digest by {@link #receipt}.)
   */
  public static SweepReceipt read(Path file) {
    byte[] data;
    try {
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such sweep receipt");
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": " + e.getMessage());
    }
    SweepReceipt s;
    try {
      s = Json.mapper().readValue(data, SweepReceipt.class);
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": not a sweep receipt (" + e.getMessage().lines().findFirst().orElse("")
          + ")");
    }
    if (!KIND.equals(s.kind()) || s.tasks() == null || s.parameters() == null) {
      throw LabenvException.badInput(file + ": not a sweep receipt (kind " + KIND + " with tasks)");
    }
    if (s.schema() > SCHEMA) {
      throw LabenvException.badInput(file + ": sweep receipt schema " + s.schema() + " comes from a newer labenv; this "
          + "one reads schema " + SCHEMA + " (upgrade labenv)");
    }
    if (!root(s.tasks()).equals(s.root()) || !outputsRoot(s.tasks()).equals(s.outputsRoot())) {
      throw LabenvException.badInput(file + ": damaged sweep receipt: its roots are not the digests of its task list");
    }
    return s;
  }

  /** The receipt of {@code task}, read from beside {@code summary} and checked against the digest the summary has. */
  public static Receipt receipt(Path summary, Task task) {
    if (task.receipt() == null) {
      throw LabenvException.badInput(summary + ": task " + task.name() + " has no receipt (" + task.status()
          + (task.error() != null ? ": " + task.error() : "") + ")");
    }
    Path file = summary.toAbsolutePath().getParent().resolve(task.receipt()).normalize();
    try {
      String digest = Digest.of(Files.readAllBytes(file)).toString();
      if (!digest.equals(task.receiptDigest())) {
        throw LabenvException.badInput(file + ": task " + task.name() + "'s receipt is not the one " + summary
            + " lists (" + digest + ", not " + task.receiptDigest() + ")");
      }
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": task " + task.name() + "'s receipt cannot be read: " + e.getMessage());
    }
    return Receipt.read(file);
  }
}
