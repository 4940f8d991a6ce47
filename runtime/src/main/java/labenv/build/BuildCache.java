package labenv.build;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.layer.LayerApplier;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;
import labenv.store.GcRoots;

/**
 * What build steps made, by cache key: {@code <store>/build-cache/entries/<key>.json} names the layer a step added
 * (or none). The key covers the parent state, the instruction and the content of its inputs, so an entry never goes
 * stale; it goes only when {@link #clear} (run by {@code prune}) removes it. An entry is written after its layer blob
 * is committed, by rename, so a killed build leaves either a whole entry or none. The layers entries name are
 * {@link #gcRoots roots} for garbage collection while the entries exist.
 */
public final class BuildCache {
  static final String DIR = "build-cache";

  private final Path entries;
  private final Path root;

  /** A step's result: the layer it added ({@code layer} and {@code diffId}), or neither for a step that added none. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Entry(Descriptor layer, Digest diffId, String createdBy) {}

  public BuildCache(ContentStore store) {
    this.root = store.root().resolve(DIR);
    this.entries = root.resolve("entries");
  }

  /** Where {@link Copier} keeps its stat cache (cleared with the rest). */
  public Path statCacheDir() {
    return root.resolve("stat");
  }

  /** The entry under {@code key}, or null; an unreadable entry counts as none (it is replaced when the step reruns). */
  public Entry get(Digest key) {
    Path f = file(key);
    try {
      return Json.parse(Files.readAllBytes(f), Entry.class, f.toString());
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException | LabenvException e) {
      return null;
    }
  }

  public void put(Digest key, Entry entry) {
    try {
      Files.createDirectories(entries);
    } catch (IOException e) {
      throw LabenvException.failed("cannot create " + entries + ": " + e.getMessage(), e);
    }
    AtomicFile.write(file(key), Json.canonical(entry));
  }

  private Path file(Digest key) {
    return entries.resolve(key.hex() + ".json");
  }

  /** Every entry's layer, kept from garbage collection while the entry exists. */
  public static GcRoots gcRoots(ContentStore store) {
    BuildCache cache = new BuildCache(store);
    return () -> {
      List<Descriptor> roots = new ArrayList<>();
      for (Entry e : cache.list()) {
        if (e.layer() != null) {
          roots.add(e.layer());
        }
      }
      return roots;
    };
  }

  /** The entries, skipping unreadable ones. */
  public List<Entry> list() {
    List<Entry> out = new ArrayList<>();
    if (!Files.isDirectory(entries)) {
      return out;
    }
    try (Stream<Path> files = Files.list(entries)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList()) {
        try {
          out.add(Json.parse(Files.readAllBytes(f), Entry.class, f.toString()));
        } catch (IOException | LabenvException e) {
          // a damaged entry protects nothing; clear removes it
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + entries + ": " + e.getMessage(), e);
    }
    return out;
  }

  /**
   * Removes what killed builds left in {@code <store>/build/}: their overlay and view mounts (detached, deepest
   * first) and their directories. Returns how many directories went. The caller holds the store's gc lock
   * exclusively: a running build holds it shared from start to end, so none is running.
   */
  public static int removeLeftovers(ContentStore store) {
    Path work = store.root().resolve("build");
    if (!Files.isDirectory(work)) {
      return 0;
    }
    String prefix = work.toAbsolutePath().normalize() + "/";
    List<String> mounts = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] f = line.split(" ");
        if (f.length > 4) {
          String mountpoint = f[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
              .replace("\\134", "\\");
          if (mountpoint.startsWith(prefix)) {
            mounts.add(mountpoint);
          }
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
    }
    mounts.sort(java.util.Comparator.comparingInt(String::length).reversed());
    for (String m : mounts) {
      try {
        labenv.linux.Libc.umount2(labenv.linux.Syscalls.cstr(m), labenv.linux.Libc.MNT_DETACH);
      } catch (com.sun.jna.LastErrorException e) {
        // gone meanwhile, or not ours to unmount: the removal below says what stays
      }
    }
    int n = 0;
    try (Stream<Path> dirs = Files.list(work)) {
      for (Path d : dirs.toList()) {
        new LayerApplier().remove(d);
        n++;
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + work + ": " + e.getMessage(), e);
    }
    return n;
  }

  /**
   * Removes every entry and the stat cache; returns how many entries there were. The caller holds the store's gc
   * lock exclusively (no build is running) and collects the blobs afterwards.
   */
  public int clear() {
    int n = 0;
    if (Files.isDirectory(entries)) {
      try (Stream<Path> files = Files.list(entries)) {
        n = (int) files.filter(p -> p.getFileName().toString().endsWith(".json")).count();
      } catch (IOException e) {
        throw LabenvException.failed("cannot read " + entries + ": " + e.getMessage(), e);
      }
    }
    if (Files.exists(root)) {
      new LayerApplier().remove(root);
    }
    return n;
  }
}
