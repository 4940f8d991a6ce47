package labenv.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.store.AtomicFile;

/**
 * The table side of {@code dataset show} and {@code dataset diff} over stored versions: files are read from the
 * version's assembled tree (built on first use, as a mount would), and a summary is kept by the file's digest in
 * {@code <store>/datasets/summaries/}, since it depends on nothing else: a second {@code show} of a 1 GiB CSV, or
 * of any version holding the same file, reads no data.
 */
public final class Tables {
  private final DatasetStore datasets;
  private final Path summaries;

  public Tables(DatasetStore datasets) {
    this.datasets = datasets;
    this.summaries = datasets.content().root().resolve(DatasetStore.DIR).resolve("summaries");
  }

  /** A table file of a version and its summary. */
  public record Entry(String path, TableSummary summary) {}

  /** The summary of each file of {@code version} that is a table labenv reads, in path order. */
  public List<Entry> summaries(DatasetVersion version) {
    DatasetConfig config = datasets.config(version.manifest());
    List<Entry> out = new ArrayList<>();
    Path root = null;
    for (DatasetFile f : config.files()) {
      if (!f.isFile() || TableFormat.of(Path.of(f.path())) == null) {
        continue;
      }
      TableSummary cached = cached(f);
      if (cached == null) {
        if (root == null) {
          root = datasets.tree(version.manifest());
        }
        cached = TableSummary.of(root.resolve(f.path()));
        keep(f, cached);
      }
      out.add(new Entry(f.path(), cached));
    }
    return out;
  }

  private Path cacheFile(DatasetFile f) {
    return summaries.resolve(f.digest().hex() + "-" + TableFormat.of(Path.of(f.path())).name().toLowerCase(
        java.util.Locale.ROOT) + ".json");
  }

  private TableSummary cached(DatasetFile f) {
    Path p = cacheFile(f);
    try {
      return Json.parse(Files.readAllBytes(p), TableSummary.class, p.toString());
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException | LabenvException e) {
      return null; // a damaged cache entry is computed again
    }
  }

  private void keep(DatasetFile f, TableSummary s) {
    try {
      Files.createDirectories(summaries);
      AtomicFile.write(cacheFile(f), Json.canonical(s));
    } catch (IOException | LabenvException e) {
      // a summary that cannot be kept is computed again next time
    }
  }

  /** What differs between versions {@code a} and {@code b}: files, and for changed tables, rows and columns. */
  public record VersionDiff(List<DatasetDiff.FileChange> files, Map<String, TableDiff> tables) {}

  public VersionDiff diff(DatasetVersion a, DatasetVersion b) {
    DatasetConfig ca = datasets.config(a.manifest());
    DatasetConfig cb = datasets.config(b.manifest());
    Map<String, String> da = new LinkedHashMap<>();
    Map<String, String> db = new LinkedHashMap<>();
    Map<String, Long> sa = new LinkedHashMap<>();
    Map<String, Long> sb = new LinkedHashMap<>();
    index(ca, da, sa);
    index(cb, db, sb);
    List<DatasetDiff.FileChange> files = DatasetDiff.files(da, db, sa, sb);
    Map<String, TableDiff> tables = new LinkedHashMap<>();
    Path ra = null;
    Path rb = null;
    for (DatasetDiff.FileChange c : files) {
      if (!c.kind().equals("changed") || TableFormat.of(Path.of(c.path())) == null) {
        continue;
      }
      if (ra == null) {
        ra = datasets.tree(a.manifest());
        rb = datasets.tree(b.manifest());
      }
      tables.put(c.path(), TableDiff.compare(ra.resolve(c.path()), rb.resolve(c.path())));
    }
    return new VersionDiff(files, tables);
  }

  private static void index(DatasetConfig c, Map<String, String> digests, Map<String, Long> sizes) {
    for (DatasetFile f : c.files()) {
      String what = f.isFile() ? f.digest().toString() : f.type().json() + ":" + f.mode()
          + (f.target() == null ? "" : ":" + f.target());
      digests.put(f.path(), what);
      if (f.isFile()) {
        sizes.put(f.path(), f.size());
      }
    }
  }
}
