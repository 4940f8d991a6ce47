package labenv.build;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@code labenv build} was asked for.
 *
 * @param context the build context directory
 * @param envfile the Envfile; null for {@code context/Envfile}, else {@code context/Dockerfile}
 * @param tags names for the image (none: the image is kept unnamed, by digest)
 * @param buildArgs {@code --build-arg} values
 * @param target the stage to build (null: the last)
 * @param noCache run every step even when the cache has its result (results are still cached)
 * @param network the default network of RUN steps: {@code default} (the host's), {@code host} or {@code none}
 * @param sourceDateEpoch seconds since 1970 for every time in the image
 * @param lock pins to build against and check ({@code --locked}); null for none
 * @param compression of the layers the build makes (null: zstd: fast, and read by Docker 23+, containerd 1.5+,
 *     podman)
 */
public record BuildRequest(Path context, Path envfile, List<String> tags, Map<String, String> buildArgs,
    String target, boolean noCache, String network, long sourceDateEpoch, Lockfile lock,
    labenv.layer.Compression compression, List<String> ignored) {
  public BuildRequest {
    compression = compression == null ? labenv.layer.Compression.ZSTD : compression;
    ignored = ignored == null ? List.of() : List.copyOf(ignored);
    tags = List.copyOf(tags);
    buildArgs = Map.copyOf(buildArgs);
    network = network == null ? "default" : network;
  }

  /** Without patterns ignored beyond the context's ignore file. */
  public BuildRequest(Path context, Path envfile, List<String> tags, Map<String, String> buildArgs, String target,
      boolean noCache, String network, long sourceDateEpoch, Lockfile lock, labenv.layer.Compression compression) {
    this(context, envfile, tags, buildArgs, target, noCache, network, sourceDateEpoch, lock, compression, List.of());
  }

  /** This request without cache (for {@code --check}) and without names. */
  public BuildRequest fromNothing() {
    return new BuildRequest(context, envfile, List.of(), buildArgs, target, true, network, sourceDateEpoch, lock,
        compression, ignored);
  }

  /** The Envfile to read: the one given, else Envfile in the context, else Dockerfile. */
  public Path envfileOrDefault() {
    if (envfile != null) {
      return envfile;
    }
    Path e = context.resolve("Envfile");
    return java.nio.file.Files.exists(e) || !java.nio.file.Files.exists(context.resolve("Dockerfile"))
        ? e : context.resolve("Dockerfile");
  }
}
