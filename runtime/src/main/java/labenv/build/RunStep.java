package labenv.build;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import labenv.LabenvException;
import labenv.container.Container;
import labenv.container.ContainerSpec;
import labenv.container.LayerCache;
import labenv.container.Launcher;
import labenv.container.Limits;
import labenv.container.RunOptions;
import labenv.container.Rootfs;
import labenv.image.ImageConfig;
import labenv.layer.LayerApplier;
import labenv.store.ContentStore;

/**
 * Runs one RUN instruction in a labenv container over the stage's layers and packs what it changed: an overlay whose
 * upper directory the step writes to, the host's resolv.conf and hosts mounted read-only, the build network (the
 * host's, or none). The upper directory, less {@link Noise}, becomes the step's layer.
 */
final class RunStep {
  /** Hostname of every RUN container: fixed, so nothing a step records about its host differs between builds. */
  static final String HOSTNAME = "labenv-build";

  private final ContentStore store;
  private final LayerCache layers;
  private final Path workRoot;
  private final long sourceDateEpoch;

  /** {@code sourceDateEpoch}: the one the step's layer is packed with (what {@link Noise} judges pycs by). */
  RunStep(ContentStore store, LayerCache layers, Path workRoot, long sourceDateEpoch) {
    this.store = store;
    this.layers = layers;
    this.workRoot = workRoot;
    this.sourceDateEpoch = sourceDateEpoch;
  }

  /** How a RUN ended when its command failed. */
  static final class FailedException extends LabenvException {
    final int status;

    FailedException(int status, String message) {
      super(Kind.FAILED, message, null);
      this.status = status;
    }
  }

  /**
   * Runs {@code args} with {@code env} (the stage's ENV plus the ARGs in scope) as the stage's user in its working
   * directory, with {@code extraMounts} (a heredoc script); its output goes to {@code output}. Returns the upper directory with the step's changes (noise
   * removed) inside {@code dir}, which the caller packs and then removes; throws {@link FailedException} for a
   * non-zero exit (after removing {@code dir}).
   */
  Path run(StageState state, ImageConfig config, List<String> args, List<String> env,
      List<ContainerSpec.Mount> extraMounts, boolean network, OutputStream output, Path dir) {
    List<Path> lowers = new ArrayList<>();
    for (int i = 0; i < state.layers.size(); i++) {
      lowers.add(layers.layerDir(state.layers.get(i), state.diffIds.get(i)));
    }
    if (lowers.isEmpty()) {
      Path empty = dir.resolve("empty");
      try {
        Files.createDirectories(empty);
      } catch (IOException e) {
        throw LabenvException.failed("cannot create " + empty + ": " + e.getMessage(), e);
      }
      lowers.add(empty);
    }
    Rootfs rootfs = Rootfs.overlay(lowers, dir).keepingChanges();
    Container container;
    try {
      List<ContainerSpec.Mount> mounts = new ArrayList<>();
      for (String f : List.of("/etc/resolv.conf", "/etc/hosts")) {
        Path host = Path.of(f);
        if (Files.isRegularFile(host)) {
          mounts.add(ContainerSpec.Mount.bind(host.toRealPath().toString(), f, true));
        }
      }
      mounts.addAll(extraMounts);
      RunOptions options = new RunOptions("", args, env, state.workdirOrRoot(), state.user, HOSTNAME, mounts,
          network ? ContainerSpec.Network.HOST : ContainerSpec.Network.NONE, false);
      String id = HexFormat.of().formatHex(random());
      ContainerSpec spec = options.toSpec(id, config, rootfs.path());
      container = Launcher.prepare(id, dir, spec, rootfs);
    } catch (IOException e) {
      rootfs.release();
      remove(dir);
      throw LabenvException.failed("cannot prepare the RUN container: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      rootfs.release();
      remove(dir);
      throw e;
    }
    Launcher.Exit exit;
    try {
      exit = new Launcher(store).start(container, Limits.NONE, Launcher.Stdio.output(output),
          Launcher.Started.IGNORE);
    } catch (RuntimeException e) {
      remove(dir);
      throw e;
    }
    if (exit.status() != 0) {
      remove(dir);
      throw new FailedException(exit.status(), "exit code " + exit.status());
    }
    Path upper = dir.resolve("upper");
    Noise.normalize(upper, lowers, sourceDateEpoch);
    return upper;
  }

  static void remove(Path dir) {
    if (Files.exists(dir)) {
      new LayerApplier().remove(dir);
    }
  }

  private static byte[] random() {
    byte[] b = new byte[32];
    new java.security.SecureRandom().nextBytes(b);
    return b;
  }
}
