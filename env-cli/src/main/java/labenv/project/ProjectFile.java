package labenv.project;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * {@code labenv.yaml}: what an analysis needs and makes. Schema 1:
 *
 * <pre>
 * labenv: 1                      # required: the schema
 * name: iris-summary             # optional (default: the folder's name)
 * image:                         # required: build or ref
 *   build: .                     #   a build context in the project (its Envfile, else Dockerfile)
 *   envfile: Envfile             #   optional, in the project
 *   ref: NAME[:TAG] | DIGEST     #   or an image in the store
 * datasets:                      # optional: NAME[:TAG] or digest -> absolute path in the container (read-only)
 *   iris:v1: /data/iris
 * command: [python3, analysis.py]   # optional: a list, or a string run by /bin/sh -c (default: the image's)
 * workdir: /project              # optional (default: the image's, else /)
 * outputs: [results]             # required: directories of the project, mounted writable at workdir/DIR
 * env: {KEY: value}              # optional: added to the hermetic environment
 * resources:                     # optional
 *   cpus: 2                      #   CPU limit, and the thread count of OpenMP/BLAS libraries (default 1)
 *   memory: 4g                   #   memory limit
 *   pids: 512                    #   process limit
 * source_date_epoch: 0           # optional: SOURCE_DATE_EPOCH in the container (default 0)
 * registry: ghcr.io/lab          # optional: where cluster runs find the image and datasets (see RegistryNames)
 * sweep:                         # optional: a parameter sweep (see Sweep)
 *   grid: {alpha: [0.1, 0.5], seed: [1, 2]}
 *   pass: env
 * </pre>
 *
 * Unknown keys, wrong types and paths that leave the project are bad input naming the file and line.
 */
public record ProjectFile(Path dir, String name, String build, String envfile, String imageRef,
    Map<String, String> datasets, List<String> command, boolean shellCommand, String workdir, List<String> outputs,
    Map<String, String> env, Double cpus, String memory, Long pids, long sourceDateEpoch, String registry,
    Sweep sweep) {

  public static final String FILE = "labenv.yaml";
  public static final int SCHEMA = 1;

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public ProjectFile {
    datasets = datasets == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(datasets));
    command = command == null ? null : List.copyOf(command);
    outputs = List.copyOf(outputs);
    env = env == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
  }

  /** A project without a registry or a sweep (the schema before they were added). */
  public ProjectFile(Path dir, String name, String build, String envfile, String imageRef,
      Map<String, String> datasets, List<String> command, boolean shellCommand, String workdir, List<String> outputs,
      Map<String, String> env, Double cpus, String memory, Long pids, long sourceDateEpoch) {
    this(dir, name, build, envfile, imageRef, datasets, command, shellCommand, workdir, outputs, env, cpus, memory,
        pids, sourceDateEpoch, null, null);
  }

  /** The folder of a project where {@code labenv run --sweep} keeps its tasks' outputs and receipts. */
  public static final String SWEEP_DIR = "sweep";

  /** True when {@code dir} holds a project file. */
  public static boolean isProject(Path dir) {
    return Files.isRegularFile(dir.resolve(FILE));
  }

  /** Reads and checks {@code dir/labenv.yaml}. */
  public static ProjectFile read(Path dir) {
    Path file = dir.resolve(FILE);
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw LabenvException.badInput(file + ": no such file (a project needs a " + FILE + "; labenv init makes one)");
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": " + e.getMessage());
    }
    return parse(dir.toAbsolutePath().normalize(), file, text);
  }

  static ProjectFile parse(Path dir, Path file, String text) {
    Map<String, Integer> lines = new HashMap<>();
    Map<String, String> texts = new HashMap<>();
    JsonNode root;
    try {
      lines(text, lines, texts);
      root = YAML.readTree(text);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      int line = e instanceof com.fasterxml.jackson.core.JsonProcessingException p && p.getLocation() != null
          ? p.getLocation().getLineNr() : -1;
      throw LabenvException.badInput(file + (line > 0 ? ":" + line : "") + ": not valid YAML: " + msg);
    }
    return new Reader(dir, file, lines, texts).project(root);
  }

  static String describe(JsonNode n) {
    return Reader.describe(n);
  }

  /** Records the line of every value, and the text of every scalar as written, by its JSON pointer. */
  private static void lines(String text, Map<String, Integer> out, Map<String, String> texts) throws IOException {
    try (JsonParser p = YAML.getFactory().createParser(text)) {
      Deque<Object> path = new ArrayDeque<>(); // String field names and int[] indexes, innermost last
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.FIELD_NAME) {
          path.removeLast();
          path.addLast(p.currentName());
          continue;
        }
        if (!path.isEmpty() && path.peekLast() instanceof int[] i) {
          i[0]++;
        }
        JsonLocation at = p.currentTokenLocation();
        if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          path.removeLast();
          continue;
        }
        out.putIfAbsent(pointer(path), at.getLineNr());
        if (t.isScalarValue()) {
          texts.putIfAbsent(pointer(path), p.getText());
        }
        if (t == JsonToken.START_OBJECT) {
          path.addLast("");
        } else if (t == JsonToken.START_ARRAY) {
          path.addLast(new int[] {-1});
        }
      }
    }
  }

  private static String pointer(Deque<Object> path) {
    StringBuilder sb = new StringBuilder();
    for (Object o : path) {
      sb.append('/').append(o instanceof int[] i ? String.valueOf(i[0]) : o);
    }
    return sb.toString();
  }

  /** Checks the tree key by key, so that every error names its key and line. */
  private static final class Reader {
    final Path dir;
    final Path file;
    final Map<String, Integer> lines;
    final Map<String, String> texts;

    Reader(Path dir, Path file, Map<String, Integer> lines, Map<String, String> texts) {
      this.dir = dir;
      this.file = file;
      this.lines = lines;
      this.texts = texts;
    }

    LabenvException error(String pointer, String message) {
      Integer line = lines.get(pointer);
      String key = pointer.isEmpty() ? "" : pointer.substring(1).replace('/', '.') + ": ";
      return LabenvException.badInput(file + (line == null ? "" : ":" + line) + ": " + key + message);
    }

    ProjectFile project(JsonNode root) {
      if (root == null || root.isMissingNode() || root.isNull()) {
        throw LabenvException.badInput(file + ": empty (see the schema in the README: labenv: 1, image, outputs)");
      }
      object(root, "");
      known(root, "", Set.of("labenv", "name", "image", "datasets", "command", "workdir", "outputs", "env", "resources",
          "source_date_epoch", "registry", "sweep"));
      JsonNode schema = root.get("labenv");
      if (schema == null) {
        throw error("", "missing \"labenv: " + SCHEMA + "\" (the schema this file is written for)");
      }
      if (!schema.isIntegralNumber()) {
        throw error("/labenv", "expected the schema number " + SCHEMA + ", got " + describe(schema));
      }
      if (schema.asInt() != SCHEMA) {
        throw error("/labenv", "schema " + schema.asText() + " is not one this labenv reads (it reads " + SCHEMA
            + ")" + (schema.asInt() > SCHEMA ? ": a newer labenv wrote it" : ""));
      }
      String name = string(root, "/name", false);
      if (name == null) {
        name = dir.getFileName() == null ? "project" : dir.getFileName().toString();
      }

      JsonNode image = root.get("image");
      if (image == null) {
        throw error("", "missing \"image\" (build: DIR, or ref: NAME[:TAG])");
      }
      object(image, "/image");
      known(image, "/image", Set.of("build", "envfile", "ref"));
      String build = string(root, "/image/build", false);
      String envfile = string(root, "/image/envfile", false);
      String ref = string(root, "/image/ref", false);
      if ((build == null) == (ref == null)) {
        throw error("/image", "give exactly one of build (a build context in the project) and ref (an image)");
      }
      if (envfile != null && build == null) {
        throw error("/image/envfile", "only with build");
      }
      if (build != null) {
        inside(build, "/image/build");
      }
      if (envfile != null) {
        inside(envfile, "/image/envfile");
      }

      Map<String, String> datasets = new LinkedHashMap<>();
      JsonNode ds = root.get("datasets");
      if (ds != null && !ds.isNull()) {
        object(ds, "/datasets");
        for (Iterator<Map.Entry<String, JsonNode>> it = ds.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          String p = "/datasets/" + e.getKey();
          if (!e.getValue().isTextual()) {
            throw error(p, "expected an absolute path in the container, got " + describe(e.getValue()));
          }
          String mount = e.getValue().asText();
          if (!mount.startsWith("/") || Path.of(mount).normalize().toString().equals("/")) {
            throw error(p, "\"" + mount + "\": expected an absolute path in the container, not /");
          }
          datasets.put(e.getKey(), Path.of(mount).normalize().toString());
        }
      }

      List<String> command = null;
      boolean shell = false;
      JsonNode cmd = root.get("command");
      if (cmd != null && !cmd.isNull()) {
        if (cmd.isTextual()) {
          if (cmd.asText().isBlank()) {
            throw error("/command", "empty");
          }
          command = List.of(cmd.asText());
          shell = true;
        } else if (cmd.isArray() && !cmd.isEmpty()) {
          command = new ArrayList<>();
          for (int i = 0; i < cmd.size(); i++) {
            JsonNode a = cmd.get(i);
            if (!a.isValueNode() || a.isNull()) {
              throw error("/command/" + i, "expected a string, got " + describe(a));
            }
            command.add(a.asText());
          }
        } else {
          throw error("/command", "expected a list of arguments or a shell command string, got " + describe(cmd));
        }
      }

      String workdir = string(root, "/workdir", false);
      if (workdir != null && !workdir.startsWith("/")) {
        throw error("/workdir", "\"" + workdir + "\": expected an absolute path in the container");
      }

      JsonNode outs = root.get("outputs");
      if (outs == null) {
        throw error("", "missing \"outputs\" (the project's directories the analysis writes, e.g. [results])");
      }
      if (!outs.isArray() || outs.isEmpty()) {
        throw error("/outputs", "expected a list of directories in the project, got " + describe(outs));
      }
      List<String> outputs = new ArrayList<>();
      for (int i = 0; i < outs.size(); i++) {
        JsonNode o = outs.get(i);
        String p = "/outputs/" + i;
        if (!o.isTextual()) {
          throw error(p, "expected a directory in the project, got " + describe(o));
        }
        String rel = inside(o.asText(), p);
        if (rel.isEmpty() || rel.equals(FILE) || rel.startsWith(".labenv")) {
          throw error(p, "\"" + o.asText() + "\": not a directory of its own in the project");
        }
        for (String other : outputs) {
          if (rel.equals(other) || rel.startsWith(other + "/") || other.startsWith(rel + "/")) {
            throw error(p, "\"" + rel + "\" overlaps the output \"" + other + "\"");
          }
        }
        outputs.add(rel);
      }

      Map<String, String> env = new LinkedHashMap<>();
      JsonNode envNode = root.get("env");
      if (envNode != null && !envNode.isNull()) {
        object(envNode, "/env");
        for (Iterator<Map.Entry<String, JsonNode>> it = envNode.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          String p = "/env/" + e.getKey();
          if (!ENV_NAME.matcher(e.getKey()).matches()) {
            throw error(p, "not a variable name");
          }
          if (!e.getValue().isValueNode() || e.getValue().isNull()) {
            throw error(p, "expected a value, got " + describe(e.getValue()));
          }
          env.put(e.getKey(), e.getValue().asText());
        }
      }

      Double cpus = null;
      String memory = null;
      Long pids = null;
      JsonNode res = root.get("resources");
      if (res != null && !res.isNull()) {
        object(res, "/resources");
        known(res, "/resources", Set.of("cpus", "memory", "pids"));
        JsonNode c = res.get("cpus");
        if (c != null) {
          if (!c.isNumber() || c.asDouble() <= 0) {
            throw error("/resources/cpus", "expected a positive number of CPUs, got " + describe(c));
          }
          cpus = c.asDouble();
        }
        JsonNode m = res.get("memory");
        if (m != null) {
          if (!m.isTextual() && !m.isIntegralNumber()) {
            throw error("/resources/memory", "expected bytes, like 4g or 512m, got " + describe(m));
          }
          memory = m.asText();
          try {
            labenv.container.Limits.memory(memory);
          } catch (LabenvException e) {
            throw error("/resources/memory", e.getMessage());
          }
        }
        JsonNode n = res.get("pids");
        if (n != null) {
          if (!n.isIntegralNumber() || n.asLong() <= 0) {
            throw error("/resources/pids", "expected a positive whole number, got " + describe(n));
          }
          pids = n.asLong();
        }
      }

      long epoch = 0;
      JsonNode sde = root.get("source_date_epoch");
      if (sde != null) {
        if (!sde.isIntegralNumber() || sde.asLong() < 0) {
          throw error("/source_date_epoch", "expected seconds since 1970 (a whole number, 0 or more), got "
              + describe(sde));
        }
        epoch = sde.asLong();
      }
      String registry = string(root, "/registry", false);
      if (registry != null) {
        try {
          RegistryNames.check(registry);
        } catch (LabenvException e) {
          throw error("/registry", e.getMessage());
        }
      }

      Sweep sweep = null;
      JsonNode sw = root.get("sweep");
      if (sw != null && !sw.isNull()) {
        for (int i = 0; i < outputs.size(); i++) {
          String o = outputs.get(i);
          if (o.equals(SWEEP_DIR) || o.startsWith(SWEEP_DIR + "/")) {
            throw error("/outputs/" + i, "\"" + o + "\": with a sweep, " + SWEEP_DIR + "/ holds the tasks' outputs; "
                + "name this output otherwise");
          }
        }
        sweep = Sweep.read(sw, new Sweep.Source() {
          @Override
          public LabenvException error(String pointer, String message) {
            return Reader.this.error(pointer, message);
          }

          @Override
          public String text(String pointer) {
            return texts.get(pointer);
          }
        }, env.keySet());
      }
      return new ProjectFile(dir, name, build == null ? null : inside(build, "/image/build"),
          envfile == null ? null : inside(envfile, "/image/envfile"), ref, datasets, command, shell, workdir, outputs,
          env, cpus, memory, pids, epoch, registry, sweep);
    }

    /** {@code rel} normalised, when it stays inside the project; else an error at {@code pointer}. */
    String inside(String rel, String pointer) {
      Path p;
      try {
        p = Path.of(rel);
      } catch (java.nio.file.InvalidPathException e) {
        throw error(pointer, "\"" + rel + "\": not a path");
      }
      Path resolved = dir.resolve(p).normalize();
      if (p.isAbsolute() || !resolved.startsWith(dir)) {
        throw error(pointer, "\"" + rel + "\" is outside the project folder " + dir + " (paths are relative to it)");
      }
      return dir.relativize(resolved).toString();
    }

    void object(JsonNode n, String pointer) {
      if (!n.isObject()) {
        throw error(pointer, "expected a mapping (key: value lines), got " + describe(n));
      }
    }

    void known(JsonNode n, String pointer, Set<String> keys) {
      for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!keys.contains(k)) {
          throw error(pointer + "/" + k, "unknown key (known here: " + String.join(", ", new java.util.TreeSet<>(keys))
              + ")");
        }
      }
    }

    String string(JsonNode root, String pointer, boolean required) {
      JsonNode n = root.at(pointer);
      if (n.isMissingNode() || n.isNull()) {
        if (required) {
          throw error(pointer, "missing");
        }
        return null;
      }
      if (!n.isTextual() || n.asText().isEmpty()) {
        throw error(pointer, "expected a string, got " + describe(n));
      }
      return n.asText();
    }

    static String describe(JsonNode n) {
      if (n.isTextual()) {
        return "the string \"" + n.asText() + "\"";
      }
      if (n.isNumber()) {
        return "the number " + n.asText();
      }
      if (n.isBoolean()) {
        return "the boolean " + n.asText();
      }
      if (n.isNull()) {
        return "nothing";
      }
      return n.isArray() ? "a list" : "a mapping";
    }
  }
}
