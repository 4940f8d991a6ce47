package labenv.dataset;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import labenv.image.Digest;

/**
 * One entry of a dataset version: its path relative to the dataset's root ({@code /}-separated,
 * no {@code .} or {@code ..}), its type and permission bits; for a file its size, the sha256 of its
 * whole content and its chunks in order; for a symlink its target (relative, inside the dataset).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"path", "type", "mode", "size", "digest", "target", "chunks"})
public record DatasetFile(String path, Type type, int mode, long size, Digest digest, String target,
    List<Chunk> chunks) {

  public enum Type {
    FILE, DIR, SYMLINK;

    @JsonValue
    public String json() {
      return switch (this) {
        case FILE -> "file";
        case DIR -> "dir";
        case SYMLINK -> "symlink";
      };
    }
  }

  public DatasetFile {
    chunks = chunks == null ? (type == Type.FILE ? List.of() : null) : List.copyOf(chunks);
  }

  public static DatasetFile file(String path, int mode, long size, Digest digest, List<Chunk> chunks) {
    return new DatasetFile(path, Type.FILE, mode, size, digest, null, chunks);
  }

  public static DatasetFile dir(String path, int mode) {
    return new DatasetFile(path, Type.DIR, mode, 0, null, null, null);
  }

  public static DatasetFile symlink(String path, String target) {
    return new DatasetFile(path, Type.SYMLINK, 0777, 0, null, target, null);
  }

  @JsonIgnore
  public boolean isFile() {
    return type == Type.FILE;
  }

  /** Executable by anyone who may execute it: the tree then makes it 0555 rather than 0444. */
  @JsonIgnore
  public boolean executable() {
    return (mode & 0111) != 0;
  }
}
