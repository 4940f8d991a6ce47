package labenv.build;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Platform;

/**
 * Where a stage stands after some of its instructions: the image config it would have and its layers. Instructions
 * change it in place; {@link #digest} names the state for cache keys.
 */
final class StageState {
  final LinkedHashMap<String, String> env = new LinkedHashMap<>();
  String user;
  String workdir;
  List<String> cmd;
  List<String> entrypoint;
  List<String> shell;
  Map<String, String> labels = new TreeMap<>();
  Map<String, Map<String, Object>> exposedPorts = new TreeMap<>();
  Map<String, Map<String, Object>> volumes = new TreeMap<>();
  String stopSignal;
  Map<String, Object> healthcheck;
  List<String> onBuild;
  String author;
  final List<Descriptor> layers = new ArrayList<>();
  final List<Digest> diffIds = new ArrayList<>();
  final List<ImageConfig.History> history = new ArrayList<>();
  /** Set once CMD is given in this stage: then ENTRYPOINT no longer clears it. */
  boolean cmdSetHere;

  static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** The state of a fresh stage from {@code base} (null: scratch). */
  static StageState from(ImageConfig base) {
    StageState s = new StageState();
    if (base == null) {
      s.env.put("PATH", DEFAULT_PATH);
      return s;
    }
    ImageConfig.Config c = base.config() != null ? base.config() : ImageConfig.Config.empty();
    if (c.env() != null) {
      for (String e : c.env()) {
        int eq = e.indexOf('=');
        if (eq > 0) {
          s.env.put(e.substring(0, eq), e.substring(eq + 1));
        }
      }
    }
    // BuildKit (dockerfile2llb: "make sure that PATH is always set") and buildah give a base without PATH the
    // default one, so that "ENV PATH=/opt/bin:$PATH" and the RUN steps' command lookup work the same.
    s.env.putIfAbsent("PATH", DEFAULT_PATH);
    s.user = c.user();
    s.workdir = c.workingDir();
    s.cmd = c.cmd();
    s.entrypoint = c.entrypoint();
    s.shell = c.shell();
    if (c.labels() != null) {
      s.labels.putAll(c.labels());
    }
    if (c.exposedPorts() != null) {
      s.exposedPorts.putAll(c.exposedPorts());
    }
    if (c.volumes() != null) {
      s.volumes.putAll(c.volumes());
    }
    s.stopSignal = c.stopSignal();
    s.healthcheck = c.healthcheck();
    s.onBuild = c.onBuild();
    s.author = base.author();
    if (base.history() != null) {
      s.history.addAll(base.history());
    }
    return s;
  }

  /** A copy, for a stage that starts FROM another. */
  StageState copy() {
    StageState s = new StageState();
    s.env.putAll(env);
    s.user = user;
    s.workdir = workdir;
    s.cmd = cmd;
    s.entrypoint = entrypoint;
    s.shell = shell;
    s.labels.putAll(labels);
    s.exposedPorts.putAll(exposedPorts);
    s.volumes.putAll(volumes);
    s.stopSignal = stopSignal;
    s.healthcheck = healthcheck;
    s.onBuild = onBuild;
    s.author = author;
    s.layers.addAll(layers);
    s.diffIds.addAll(diffIds);
    s.history.addAll(history);
    return s;
  }

  List<String> shellOrDefault() {
    return shell != null && !shell.isEmpty() ? shell : DEFAULT_SHELL;
  }

  String workdirOrRoot() {
    return workdir != null && !workdir.isEmpty() ? workdir : "/";
  }

  List<String> envList() {
    List<String> out = new ArrayList<>();
    env.forEach((k, v) -> out.add(k + "=" + v));
    return out;
  }

  void addLayer(Descriptor layer, Digest diffId, String createdBy, long epoch) {
    layers.add(layer);
    diffIds.add(diffId);
    history.add(new ImageConfig.History(created(epoch), createdBy, null, null, null));
  }

  void addEmpty(String createdBy, long epoch) {
    history.add(new ImageConfig.History(created(epoch), createdBy, null, null, true));
  }

  static String created(long epoch) {
    return Instant.ofEpochSecond(epoch).toString();
  }

  ImageConfig config(Platform platform, long epoch) {
    ImageConfig.Config c = new ImageConfig.Config(user, nullIfEmpty(exposedPorts), envList(), entrypoint, cmd,
        nullIfEmpty(volumes), workdir, labels.isEmpty() ? null : labels, stopSignal, healthcheck, shell, onBuild,
        null);
    return new ImageConfig(created(epoch), author, platform.architecture(), "linux", platform.variant(), c,
        ImageConfig.RootFs.layers(diffIds), List.copyOf(history));
  }

  private static <V> Map<String, V> nullIfEmpty(Map<String, V> m) {
    return m.isEmpty() ? null : m;
  }

  /** Names this state: the config it would have (history included) and its layers' descriptors. */
  Digest digest(Platform platform, long epoch) {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("config", config(platform, epoch));
    state.put("layers", layers);
    return Digest.of(Json.canonical(state));
  }
}
