package labenv.dataset;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The config blob of a dataset version: how its files were chunked and the files, sorted by the
 * bytes of their paths. Only content is in it (no times, no source path), so the same files give
 * the same digest on any host.
 */
@JsonPropertyOrder({"chunking", "files"})
public record DatasetConfig(Chunking chunking, List<DatasetFile> files) {
  /** The chunker's parameters: part of the format (another chunker gives other chunks). */
  @JsonPropertyOrder({"algorithm", "min", "avg", "max", "gearSeed"})
  public record Chunking(String algorithm, int min, int avg, int max, String gearSeed) {
    public static Chunking standard() {
      return new Chunking("fastcdc-2016-nc2", Chunker.MIN_SIZE, Chunker.AVG_SIZE, Chunker.MAX_SIZE,
          Long.toHexString(Chunker.GEAR_SEED));
    }
  }

  public DatasetConfig {
    files = files == null ? List.of() : List.copyOf(files);
  }

  /** Total bytes of the regular files. */
  public long bytes() {
    return files.stream().filter(DatasetFile::isFile).mapToLong(DatasetFile::size).sum();
  }

  public long fileCount() {
    return files.stream().filter(DatasetFile::isFile).count();
  }
}
