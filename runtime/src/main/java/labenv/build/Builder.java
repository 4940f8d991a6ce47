package labenv.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import labenv.LabenvException;
import labenv.container.ContainerSpec;
import labenv.container.LayerCache;
import labenv.container.Rootfs;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import labenv.linux.Signals;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageNotFoundException;
import labenv.store.ImageStore;
import labenv.store.StoreLock;

/**
 * Builds an image from an Envfile: the stages the target needs, in order, each instruction changing the stage's
 * {@link StageState}. Steps that make files (RUN, COPY, ADD, WORKDIR, MAVEN) are keyed by the state before them,
 * the instruction as expanded and the content of what they read, and their layers kept in the {@link BuildCache}; an
 * unchanged rebuild runs nothing. Every time in the image is the source date epoch, so the same inputs give the same
 * image digest.
 */
public final class Builder {
  private final ContentStore store;
  private final ImageStore images;
  private final BuildListener listener;
  private final LayerCache layerCache;
  private final BuildCache cache;
  private final Platform platform = Platform.host();

  public Builder(ImageStore images, BuildListener listener) {
    this.images = images;
    this.store = images.content();
    this.listener = listener;
    this.layerCache = new LayerCache(store);
    this.cache = new BuildCache(store);
  }

  /** Everything one build needs while it runs. */
  private final class Run {
    final BuildRequest request;
    final Envfile envfile;
    final String file;
    final StagePlan plan;
    final BuildContext context;
    final Path work;
    final StepLayers packer;
    final Map<String, String> meta = new LinkedHashMap<>();
    final Set<String> usedBuildArgs = new HashSet<>();
    final Map<Integer, StageState> built = new HashMap<>();
    final List<BuildResult.Base> bases = new ArrayList<>();
    final List<String> maven = new ArrayList<>();
    final List<Rootfs> views = new ArrayList<>();
    int step;
    int total;
    int cachedSteps;

    Run(BuildRequest request, Envfile envfile, Path work) {
      this.request = request;
      this.envfile = envfile;
      this.file = envfile.fileName();
      this.plan = new StagePlan(envfile);
      this.context = BuildContext.open(request.context(), request.envfileOrDefault(), request.ignored());
      this.work = work;
      this.packer = new StepLayers(store, layerCache, request.sourceDateEpoch(), request.compression());
    }
  }

  /** Builds and names the image (-t), or keeps it unnamed when the request has no tags. */
  public BuildResult build(BuildRequest request) {
    try (StoreLock gc = store.lockShared()) {
      BuildResult r = buildUnnamed(request);
      name(r, request.tags());
      return r;
    }
  }

  /** Names what {@link #buildUnnamed} made; with no tags, keeps it unnamed (by digest), as docker keeps it. */
  public void name(BuildResult result, List<String> tags) {
    if (tags.isEmpty()) {
      images.keep(result.manifest());
    }
    for (String tag : tags) {
      images.tag(result.manifest(), tag);
    }
  }

  /**
   * Builds the image into the store without naming it: until {@link #name} runs, only a shared hold on the store's
   * gc lock taken by the caller keeps {@code prune} from collecting it.
   */
  public BuildResult buildUnnamed(BuildRequest request) {
    Path envfilePath = request.envfileOrDefault();
    if (!Files.isDirectory(request.context())) {
      throw LabenvException.badInput("build context " + request.context() + ": not a directory");
    }
    String content;
    try {
      content = Files.readString(envfilePath, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw LabenvException.badInput(envfilePath + ": no such file (a build needs an Envfile or a Dockerfile)");
    } catch (IOException e) {
      throw LabenvException.badInput("cannot read " + envfilePath + ": " + e.getMessage());
    }
    Envfile envfile = Envfile.parse(content, envfilePath.getFileName().toString());
    if (!labenv.linux.Syscalls.isRoot()) {
      // Every step mounts (the overlay RUN writes to, the read-only views COPY and WORKDIR look at): say so before
      // anything runs rather than fail halfway.
      throw LabenvException.failed("labenv build needs root: its steps mount overlays (rootless builds are not "
          + "supported yet; run it as root, or with sudo)");
    }
    if (!List.of("default", "host", "none").contains(request.network())) {
      throw LabenvException.badInput("--network " + request.network() + ": expected default, host or none");
    }
    for (String tag : request.tags()) {
      labenv.image.ImageReference.parse(tag); // a bad name is bad input before anything runs
    }
    Path work = store.root().resolve("build").resolve(HexFormat.of().formatHex(random(8)));
    try (StoreLock gc = store.lockShared()) {
      Files.createDirectories(work);
      Run run = new Run(request, envfile, work);
      try {
        return build(run);
      } finally {
        for (int i = run.views.size() - 1; i >= 0; i--) {
          run.views.get(i).release();
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot create " + work + ": " + e.getMessage(), e);
    } finally {
      RunStep.remove(work);
    }
  }

  private BuildResult build(Run run) {
    BuildRequest request = run.request;
    declareMetaArgs(run);
    StagePlan.Stage target = run.plan.target(request.target());
    List<StagePlan.Stage> order = run.plan.order(target, raw -> expandMeta(run, raw, 0));
    for (StagePlan.Stage s : order) {
      run.total += 1 + (int) s.body().stream().filter(i -> !(i instanceof Instruction.Arg)).count();
    }
    for (StagePlan.Stage s : order) {
      run.built.put(s.index(), buildStage(run, s));
    }
    List<String> unused = new ArrayList<>();
    for (String k : new TreeMap<>(request.buildArgs()).keySet()) {
      if (!run.usedBuildArgs.contains(k) && !Predefined.NAMES.contains(k) && !Predefined.PROXIES.contains(k)) {
        unused.add(k);
      }
    }
    if (!unused.isEmpty()) {
      listener.warning("build-args not used by any ARG: " + String.join(", ", unused));
    }
    StageState last = run.built.get(target.index());
    Descriptor manifest = writeImage(last, request.sourceDateEpoch());
    BuildResult result = new BuildResult(manifest, request.tags(), run.total, run.cachedSteps, run.bases, run.maven);
    if (request.lock() != null) {
      // the lock the CLI read: next to the Envfile
      Locking.check(images, result, request.lock(),
          request.envfileOrDefault().toAbsolutePath().resolveSibling(Locking.FILE).toString());
    }
    return result;
  }

  /** The ARGs before the first FROM: build-args override their defaults; the platform ARGs are predefined. */
  private void declareMetaArgs(Run run) {
    run.meta.putAll(Predefined.values(platform));
    for (Instruction.Arg a : run.plan.metaArgs) {
      for (Instruction.KeyValue kv : a.args()) {
        String value;
        if (run.request.buildArgs().containsKey(kv.key())) {
          value = run.request.buildArgs().get(kv.key());
          run.usedBuildArgs.add(kv.key());
        } else if (kv.value() != null) {
          value = atLine(run, a.line(), () -> Shell.word(kv.value(), metaLookup(run, a.line()), run.envfile.escape()));
        } else {
          value = run.meta.get(kv.key());
        }
        run.meta.put(kv.key(), value);
      }
    }
  }

  private Function<String, String> metaLookup(Run run, int line) {
    return name -> {
      if (run.meta.containsKey(name)) {
        String v = run.meta.get(name);
        return v;
      }
      for (Instruction.Arg a : run.plan.metaArgs) {
        if (a.line() > line && a.args().stream().anyMatch(kv -> kv.key().equals(name))) {
          throw LabenvException.badInput("ARG " + name + " is used before it is declared (line " + a.line() + ")");
        }
      }
      return null;
    };
  }

  private String expandMeta(Run run, String raw, int line) {
    return atLine(run, line, () -> Shell.word(raw, metaLookup(run, Integer.MAX_VALUE), run.envfile.escape()));
  }

  /** Runs {@code action}, turning its bad-input errors into "FILE:LINE: problem". */
  private static <T> T atLine(Run run, int line, java.util.function.Supplier<T> action) {
    try {
      return action.get();
    } catch (EnvfileException e) {
      throw e;
    } catch (RunStep.FailedException | StepException e) {
      // A StepException already names file and line and carries the failed RUN's last lines: wrapping it again
      // printed "Envfile:3: Envfile:3: RUN failed" and lost the lines -q shows.
      throw e;
    } catch (LabenvException e) {
      throw e.kind() == LabenvException.Kind.BAD_INPUT ? EnvfileException.at(run.file, line, e.getMessage())
          : new StepException(run.file + ":" + line + ": " + e.getMessage(), e, null);
    }
  }

  /** A step that failed: {@code tail} holds the last lines of a RUN step's output (else null). */
  public static final class StepException extends LabenvException {
    private final String tail;

    StepException(String message, Throwable cause, String tail) {
      super(Kind.FAILED, message, cause);
      this.tail = tail;
    }

    /** The last lines the failing RUN printed, or null. */
    public String tail() {
      return tail;
    }
  }

  // ---------------------------------------------------------------- stages

  private StageState buildStage(Run run, StagePlan.Stage stage) {
    Instruction.From from = stage.from();
    String image = expandMeta(run, from.image(), from.line());
    begin(run, stage, from.text());
    if (from.platform() != null) {
      String p = expandMeta(run, from.platform(), from.line());
      if (!p.equals(platform.os() + "/" + platform.architecture())
          && !p.equals(Predefined.values(platform).get("BUILDPLATFORM"))) {
        throw EnvfileException.at(run.file, from.line(), "FROM --platform=" + p + ": labenv builds for "
            + Predefined.values(platform).get("BUILDPLATFORM") + " only");
      }
    }
    StageState state;
    StagePlan.Stage base = run.plan.stage(image);
    if (image.equalsIgnoreCase("scratch")) {
      state = StageState.from(null);
      run.bases.add(new BuildResult.Base(stage.displayName(), "scratch", null));
    } else if (base != null && base.index() < stage.index() && run.built.containsKey(base.index())) {
      state = run.built.get(base.index()).copy();
    } else {
      Image img = resolveImage(run, image, from.line());
      state = StageState.from(img.config());
      state.layers.addAll(img.manifest().layers());
      state.diffIds.addAll(img.diffIds());
      run.bases.add(new BuildResult.Base(stage.displayName(), image, img.descriptor().digest().toString()));
    }
    listener.done(0);
    Map<String, String> args = new LinkedHashMap<>();
    for (Instruction i : stage.body()) {
      if (i instanceof Instruction.Arg a) {
        declareArgs(run, stage, a, args, state);
        continue;
      }
      begin(run, stage, i.text());
      long start = System.nanoTime();
      boolean cached = atLine(run, i.line(), () -> apply(run, stage, i, state, args));
      if (cached) {
        run.cachedSteps++;
        listener.cached();
      } else {
        listener.done((System.nanoTime() - start) / 1_000_000);
      }
    }
    return state;
  }

  private void begin(Run run, StagePlan.Stage stage, String text) {
    listener.step(++run.step, run.total, stage.displayName(), text);
  }

  private Image resolveImage(Run run, String ref, int line) {
    try {
      return images.image(ref);
    } catch (ImageNotFoundException e) {
      throw EnvfileException.at(run.file, line, "image " + ref + " is not in the store; " + BaseImages.howToGet(ref));
    } catch (LabenvException e) {
      throw e.kind() == LabenvException.Kind.BAD_INPUT ? EnvfileException.at(run.file, line, e.getMessage()) : e;
    }
  }

  private void declareArgs(Run run, StagePlan.Stage stage, Instruction.Arg a, Map<String, String> args,
      StageState state) {
    for (Instruction.KeyValue kv : a.args()) {
      String value;
      if (run.request.buildArgs().containsKey(kv.key())) {
        value = run.request.buildArgs().get(kv.key());
        run.usedBuildArgs.add(kv.key());
      } else if (kv.value() != null) {
        value = atLine(run, a.line(),
            () -> Shell.word(kv.value(), lookup(run, stage, a.line(), state, args), run.envfile.escape()));
      } else {
        value = run.meta.get(kv.key());
      }
      args.put(kv.key(), value);
    }
  }

  /**
   * How a variable expands at {@code line}: ENV wins over ARG (the Dockerfile rule); an ARG of this stage declared
   * only further down, or one declared before FROM and not again in the stage, is an error rather than a silent
   * empty string.
   */
  private static Function<String, String> lookup(Run run, StagePlan.Stage stage, int line, StageState state,
      Map<String, String> args) {
    return name -> {
      if (state.env.containsKey(name)) {
        return state.env.get(name);
      }
      if (args.containsKey(name)) {
        return args.get(name);
      }
      int later = StagePlan.declaredLater(stage, name, line);
      if (later > 0) {
        throw LabenvException.badInput("ARG " + name + " is used before it is declared (line " + later + ")");
      }
      if (run.plan.metaArgs.stream().anyMatch(a -> a.args().stream().anyMatch(kv -> kv.key().equals(name)))) {
        throw LabenvException.badInput("ARG " + name + " is declared before FROM, which makes it visible to FROM "
            + "lines only: add \"ARG " + name + "\" to this stage to use it here");
      }
      return null;
    };
  }

  // ---------------------------------------------------------------- instructions

  /** Applies one instruction; true when its result came from the cache. */
  private boolean apply(Run run, StagePlan.Stage stage, Instruction i, StageState state, Map<String, String> args) {
    long epoch = run.request.sourceDateEpoch();
    char esc = run.envfile.escape();
    Function<String, String> vars = lookup(run, stage, i.line(), state, args);
    if (i instanceof Instruction.Env e) {
      Map<String, String> values = new LinkedHashMap<>();
      for (Instruction.KeyValue kv : e.vars()) {
        values.put(Shell.word(kv.key(), vars, esc), Shell.word(kv.value(), vars, esc));
      }
      state.env.putAll(values);
      state.addEmpty(e.text(), epoch);
    } else if (i instanceof Instruction.Label l) {
      for (Instruction.KeyValue kv : l.labels()) {
        state.labels.put(Shell.word(kv.key(), vars, esc), Shell.word(kv.value(), vars, esc));
      }
      state.addEmpty(l.text(), epoch);
    } else if (i instanceof Instruction.User u) {
      state.user = Shell.word(u.user(), vars, esc);
      state.addEmpty(u.text(), epoch);
    } else if (i instanceof Instruction.Expose x) {
      for (String raw : x.ports()) {
        for (String p : Shell.words(raw, vars, esc)) {
          state.exposedPorts.put(ConfigValues.port(p), Map.of());
        }
      }
      state.addEmpty(x.text(), epoch);
    } else if (i instanceof Instruction.Volume v) {
      for (String raw : v.paths()) {
        for (String p : Shell.words(raw, vars, esc)) {
          if (p.isEmpty()) {
            throw LabenvException.badInput("VOLUME needs a path");
          }
          state.volumes.put(p, Map.of());
        }
      }
      state.addEmpty(v.text(), epoch);
    } else if (i instanceof Instruction.StopSignal s) {
      String sig = Shell.word(s.signal(), vars, esc);
      Signals.parse(sig);
      state.stopSignal = sig;
      state.addEmpty(s.text(), epoch);
    } else if (i instanceof Instruction.Healthcheck h) {
      state.healthcheck = ConfigValues.healthcheck(h);
      state.addEmpty(h.text(), epoch);
    } else if (i instanceof Instruction.Cmd c) {
      state.cmd = ConfigValues.command(c.command(), state);
      state.cmdSetHere = true;
      state.addEmpty(c.text(), epoch);
    } else if (i instanceof Instruction.Entrypoint e) {
      state.entrypoint = ConfigValues.command(e.command(), state);
      if (!state.cmdSetHere) {
        state.cmd = null; // Docker: an ENTRYPOINT resets the CMD inherited from the base image
      }
      state.addEmpty(e.text(), epoch);
    } else if (i instanceof Instruction.ShellForm s) {
      state.shell = s.shell();
      state.addEmpty(s.text(), epoch);
    } else if (i instanceof Instruction.Maintainer m) {
      state.author = m.name();
      state.addEmpty(m.text(), epoch);
    } else if (i instanceof Instruction.Workdir w) {
      return workdir(run, w, Shell.word(w.path(), vars, esc), state);
    } else if (i instanceof Instruction.Run r) {
      return runStep(run, r, state, args);
    } else if (i instanceof Instruction.Copy c) {
      return copy(run, c, state, vars);
    } else if (i instanceof Instruction.Maven m) {
      return mavenStep(run, m, state);
    } else if (i instanceof Instruction.From) {
      throw new IllegalStateException("FROM inside a stage");
    } else if (i instanceof Instruction.Arg) {
      throw new IllegalStateException("ARG is declared, not applied");
    }
    return false;
  }

  // ---------------------------------------------------------------- steps that make layers

  /**
   * Looks {@code key} up in the cache (unless --no-cache) and applies the entry; otherwise makes the layer with
   * {@code make} (null: none), caches and applies it. True when the cache had it.
   */
  private boolean cachedStep(Run run, StageState state, String createdBy, Map<String, Object> keyParts,
      java.util.function.Supplier<StepLayers.Packed> make) {
    long epoch = run.request.sourceDateEpoch();
    Map<String, Object> k = new LinkedHashMap<>();
    k.put("parent", state.digest(platform, epoch).toString());
    k.put("step", keyParts);
    k.put("compression", run.request.compression().mediaType());
    Digest key = Digest.of(Json.canonical(k));
    if (!run.request.noCache()) {
      BuildCache.Entry e = cache.get(key);
      if (e != null && (e.layer() == null || store.has(e.layer().digest()))) {
        applyEntry(state, e, createdBy, epoch);
        return true;
      }
    }
    StepLayers.Packed packed = make.get();
    BuildCache.Entry e = packed == null ? new BuildCache.Entry(null, null, createdBy)
        : new BuildCache.Entry(packed.layer(), packed.diffId(), createdBy);
    cache.put(key, e);
    applyEntry(state, e, createdBy, epoch);
    return false;
  }

  private static void applyEntry(StageState state, BuildCache.Entry e, String createdBy, long epoch) {
    if (e.layer() == null) {
      state.addEmpty(createdBy, epoch);
    } else {
      state.addLayer(e.layer(), e.diffId(), createdBy, epoch);
    }
  }

  private boolean workdir(Run run, Instruction.Workdir w, String path, StageState state) {
    if (path.isEmpty()) {
      throw LabenvException.badInput("WORKDIR needs a path");
    }
    String dir = path.startsWith("/") ? path : join(state.workdirOrRoot(), path);
    dir = java.nio.file.Path.of(dir).normalize().toString();
    state.workdir = dir;
    String absolute = dir;
    String user = state.user;
    long epoch = run.request.sourceDateEpoch();
    return cachedStep(run, state, w.text(), Map.of("instruction", "WORKDIR", "path", dir), () -> {
      Path staging = tempDir(run, "workdir");
      try {
        boolean created = withView(run, state, view -> stageWorkdir(view, absolute, user, staging, epoch));
        return created ? run.packer.tree(staging) : null;
      } catch (IOException e) {
        throw LabenvException.failed("WORKDIR " + absolute + ": " + e.getMessage(), e);
      } finally {
        RunStep.remove(staging);
      }
    });
  }

  /**
   * Stages what {@code WORKDIR dir} adds to the image {@code root}: the directories of its path the image lacks,
   * 0755 and owned by the stage's USER (BuildKit's "mkdir -p" with the user, fsutil's MkdirAllAndChownNew); the ones
   * it has, and the symlinks on the way, stay as they are. False when the directory exists (no layer).
   */
  private static boolean stageWorkdir(Path root, String dir, String user, Path staging, long epoch) {
    try (SourceTree image = SourceTree.open(root, IgnoreRules.none(), "the image")) {
      SourceTree.Resolution r = image.resolve(dir.substring(1).getBytes(StandardCharsets.UTF_8), true, true);
      if (r.found() == SourceTree.Found.FOUND) {
        if (r.node().stat().isDirectory()) {
          return false;
        }
        throw LabenvException.badInput("WORKDIR " + dir + ": \"" + r.node().display() + "\" is a file in the image, "
            + "not a directory");
      }
      int[] owner = {0, 0};
      if (user != null && !user.isEmpty()) {
        try {
          owner = Copier.resolveChown(user, root);
        } catch (LabenvException e) {
          // BuildKit leaves a user the image does not name as root; a RUN as that user fails on its own.
        }
      }
      StagingTree.Attrs attrs = new StagingTree.Attrs(0755, owner[0], owner[1]);
      try (StagingTree out = new StagingTree(staging, image, epoch)) {
        labenv.linux.Syscalls.close(out.directory(r.components(), attrs, attrs));
        out.finish();
      }
      return true;
    }
  }

  private static String join(String base, String rel) {
    return base.endsWith("/") ? base + rel : base + "/" + rel;
  }

  private interface ViewAction<T> {
    T apply(Path root) throws IOException;
  }

  /** Runs {@code action} on a read-only view of {@code state}'s files. */
  private <T> T withView(Run run, StageState state, ViewAction<T> action) throws IOException {
    Rootfs view = view(run, state.layers, state.diffIds);
    try {
      return action.apply(view.path());
    } finally {
      view.release();
      run.views.remove(view);
    }
  }

  private Rootfs view(Run run, List<Descriptor> layers, List<Digest> diffIds) {
    List<Path> dirs = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      dirs.add(layerCache.layerDir(layers.get(i), diffIds.get(i)));
    }
    Rootfs view = Rootfs.readOnlyView(dirs, run.work.resolve("view-" + HexFormat.of().formatHex(random(6))));
    run.views.add(view);
    return view;
  }

  private Path tempDir(Run run, String what) {
    Path p = run.work.resolve(what + "-" + HexFormat.of().formatHex(random(6)));
    try {
      Files.createDirectories(p);
    } catch (IOException e) {
      throw LabenvException.failed("cannot create " + p + ": " + e.getMessage(), e);
    }
    return p;
  }

  private boolean runStep(Run run, Instruction.Run r, StageState state, Map<String, String> args) {
    RunArgv.Script script = RunArgv.script(r);
    List<String> argv = script != null ? List.of(script.path()) : RunArgv.of(r, state);
    String network = r.network() != null ? r.network() : run.request.network();
    if (!List.of("default", "host", "none").contains(network)) {
      throw LabenvException.badInput("RUN --network=" + network + ": expected default, host or none");
    }
    // The ARGs in scope reach the command as environment variables (not kept in the image); ENV wins.
    List<String> env = new ArrayList<>();
    for (Map.Entry<String, String> a : args.entrySet()) {
      if (a.getValue() != null && !state.env.containsKey(a.getKey())) {
        env.add(a.getKey() + "=" + a.getValue());
      }
    }
    // What makes the tools a step runs write the same bytes every time (Noise.runEnvironment says why each).
    Noise.runEnvironment(run.request.sourceDateEpoch()).forEach((k, v) -> {
      if (!state.env.containsKey(k) && !args.containsKey(k)) {
        env.add(k + "=" + v);
      }
    });
    Map<String, Object> key = new LinkedHashMap<>();
    key.put("instruction", "RUN");
    key.put("args", argv);
    if (script != null) {
      key.put("script", script.content());
    }
    key.put("env", env);
    key.put("network", network.equals("none") ? "none" : "on");
    List<String> runEnv = new ArrayList<>(env);
    for (Map.Entry<String, String> a : new TreeMap<>(run.request.buildArgs()).entrySet()) {
      if (Predefined.PROXIES.contains(a.getKey()) && !args.containsKey(a.getKey())
          && !state.env.containsKey(a.getKey())) {
        runEnv.add(a.getKey() + "=" + a.getValue()); // not in the key: a proxy does not change what RUN makes
      }
    }
    String createdBy = r.text();
    return cachedStep(run, state, createdBy, key, () -> {
      Path dir = tempDir(run, "run");
      OutputTail tail = new OutputTail(listener.output(), 20);
      try {
        ImageConfig config = state.config(platform, run.request.sourceDateEpoch());
        Path upper;
        List<ContainerSpec.Mount> mounts = new ArrayList<>();
        if (script != null) {
          mounts.add(script.mount(dir));
        }
        try {
          upper = new RunStep(store, layerCache, dir, run.request.sourceDateEpoch()).run(state, config, argv, runEnv,
              mounts,
              !network.equals("none"), tail, dir.resolve("c"));
        } catch (RunStep.FailedException e) {
          throw new StepException(run.file + ":" + r.line() + ": RUN failed with exit code " + e.status
              + " (" + abbreviate(r.text()) + ")", null, tail.text());
        }
        return StepLayers.isEmpty(upper) ? null : run.packer.overlayUpper(upper);
      } finally {
        RunStep.remove(dir);
      }
    });
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private boolean copy(Run run, Instruction.Copy c, StageState state, Function<String, String> vars) {
    char esc = run.envfile.escape();
    String what = c.add() ? "ADD" : "COPY";
    List<String> sources = new ArrayList<>();
    Map<String, String> heredocs = new LinkedHashMap<>();
    for (String s : c.sources()) {
      if (s.startsWith("<<")) {
        sources.add(s);
        continue;
      }
      sources.add(Shell.word(s, vars, esc));
    }
    for (Instruction.Heredoc h : c.heredocs()) {
      heredocs.put(h.name(), h.expand() ? Shell.heredoc(h.content(), vars) : h.content());
    }
    String dest = Shell.word(c.destination(), vars, esc);
    if (dest.isEmpty()) {
      throw LabenvException.badInput(what + " needs a destination");
    }
    if (!dest.startsWith("/")) {
      dest = join(state.workdirOrRoot(), dest);
    }
    String chown = c.chown() == null ? null : Shell.word(c.chown(), vars, esc);
    Integer mode = c.chmod() == null ? null : Copier.parseChmod(Shell.word(c.chmod(), vars, esc));
    long epoch = run.request.sourceDateEpoch();
    CopySource source;
    Rootfs fromView = null;
    if (c.from() != null) {
      String from = Shell.word(c.from(), vars, esc);
      StagePlan.Stage s = run.plan.stage(from);
      if (s != null) {
        StageState other = run.built.get(s.index());
        fromView = view(run, other.layers, other.diffIds);
        source = CopySource.stage(fromView.path(), s.displayName());
      } else {
        Image img = resolveImage(run, from, c.line());
        fromView = view(run, img.manifest().layers(), img.diffIds());
        source = CopySource.image(fromView.path(), from);
      }
    } else {
      source = new CopySource(run.context.root(), run.context.ignore(), "the build context");
    }
    try {
      CopyRequest keyRequest = new CopyRequest(c.add(), sources, dest, null, null, mode, heredocs, epoch);
      Digest inputs = Copier.digest(source, keyRequest, cache.statCacheDir());
      Map<String, Object> key = new LinkedHashMap<>();
      key.put("instruction", what);
      key.put("inputs", inputs.toString());
      key.put("chown", chown == null ? "" : chown);
      String destination = dest;
      return cachedStep(run, state, c.text(), key, () -> {
        Path staging = tempDir(run, "copy");
        try {
          return withView(run, state, parent -> {
            Integer uid = null;
            Integer gid = null;
            if (chown != null) {
              int[] ids = Copier.resolveChown(chown, parent);
              uid = ids[0];
              gid = ids[1];
            }
            Copier.copy(source, new CopyRequest(c.add(), sources, destination, uid, gid, mode, heredocs, epoch),
                parent, staging);
            return run.packer.tree(staging);
          });
        } catch (IOException e) {
          throw LabenvException.failed(what + ": " + e.getMessage(), e);
        } finally {
          RunStep.remove(staging);
        }
      });
    } finally {
      if (fromView != null) {
        fromView.release();
        run.views.remove(fromView);
      }
    }
  }

  private boolean mavenStep(Run run, Instruction.Maven m, StageState state) {
    if (!run.maven.isEmpty()) {
      throw LabenvException.badInput("a build takes one MAVEN instruction (its classpath file is the image's): list "
          + "every coordinate on it");
    }
    Lockfile.Maven pinned = run.request.lock() != null && !run.request.lock().maven().artifacts().isEmpty()
        ? run.request.lock().maven() : null;
    Map<String, Object> key = new LinkedHashMap<>();
    key.put("instruction", "MAVEN");
    key.put("coordinates", m.coordinates());
    if (pinned != null) {
      key.put("pins", pinned.artifacts().stream().map(a -> a.coordinates() + "@" + a.digest()).toList());
    }
    run.maven.addAll(m.coordinates());
    return cachedStep(run, state, m.text(), key, () -> {
      MavenDependencies deps = new MavenDependencies(store.root().resolve("maven"));
      List<MavenDependencies.ResolvedArtifact> resolved = pinned != null
          ? deps.resolvePinned(m.coordinates(), pinned) : deps.resolve(m.coordinates());
      Path staging = tempDir(run, "maven");
      try {
        deps.writeLayerTree(resolved, staging);
        return run.packer.tree(staging);
      } finally {
        RunStep.remove(staging);
      }
    });
  }

  // ---------------------------------------------------------------- the image

  private Descriptor writeImage(StageState state, long epoch) {
    ImageConfig config = state.config(platform, epoch);
    Descriptor configBlob = store.put(MediaTypes.OCI_CONFIG, Json.canonical(config));
    Manifest manifest = Manifest.oci(configBlob, state.layers);
    return store.put(MediaTypes.OCI_MANIFEST, Json.canonical(manifest));
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new java.security.SecureRandom().nextBytes(b);
    return b;
  }
}
