package labenv.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * The OCI image configuration. Only what labenv reads or writes is modelled; configs that come
 * from elsewhere are stored as their original bytes, so unknown fields are never lost.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"created", "author", "architecture", "os", "variant", "config", "rootfs", "history"})
public record ImageConfig(
    String created,
    String author,
    String architecture,
    String os,
    String variant,
    Config config,
    RootFs rootfs,
    List<History> history) {

  /** The execution parameters a container starts with. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonPropertyOrder({"User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
      "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild", "ArgsEscaped"})
  public record Config(
      @JsonProperty("User") String user,
      @JsonProperty("ExposedPorts") Map<String, Map<String, Object>> exposedPorts,
      @JsonProperty("Env") List<String> env,
      @JsonProperty("Entrypoint") List<String> entrypoint,
      @JsonProperty("Cmd") List<String> cmd,
      @JsonProperty("Volumes") Map<String, Map<String, Object>> volumes,
      @JsonProperty("WorkingDir") String workingDir,
      @JsonProperty("Labels") Map<String, String> labels,
      @JsonProperty("StopSignal") String stopSignal,
      @JsonProperty("Healthcheck") Map<String, Object> healthcheck,
      @JsonProperty("Shell") List<String> shell,
      @JsonProperty("OnBuild") List<String> onBuild,
      @JsonProperty("ArgsEscaped") Boolean argsEscaped) {

    public static Config empty() {
      return new Config(null, null, null, null, null, null, null, null, null, null, null, null, null);
    }
  }

  /** The layers' uncompressed digests, in order. */
  @JsonPropertyOrder({"type", "diff_ids"})
  public record RootFs(String type, @JsonProperty("diff_ids") List<Digest> diffIds) {
    public RootFs {
      diffIds = diffIds == null ? List.of() : List.copyOf(diffIds);
    }

    public static RootFs layers(List<Digest> diffIds) {
      return new RootFs("layers", diffIds);
    }
  }

  /** One step of how the image was made. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"created", "created_by", "author", "comment", "empty_layer"})
  public record History(
      String created,
      @JsonProperty("created_by") String createdBy,
      String author,
      String comment,
      @JsonProperty("empty_layer") Boolean emptyLayer) {}

  /** The diff IDs, never null. */
  public List<Digest> diffIds() {
    return rootfs == null ? List.of() : rootfs.diffIds();
  }
}
