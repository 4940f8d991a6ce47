package labenv.container;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;

/**
 * Named volumes: {@code <store>/volumes/<name>/_data} is what containers mount, {@code volume.json} beside it
 * says the volume exists (written last, atomically, so a half-made volume is never listed). The data outlives
 * every container that used it, until {@link #remove}.
 */
public final class Volumes {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
  private static final String DATA = "_data";
  private static final String METADATA = "volume.json";

  /** What {@code volume inspect} shows. */
  public record Volume(String name, Path mountpoint, Instant created) {
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("driver", "local");
      m.put("mountpoint", mountpoint.toString());
      m.put("created", created.toString());
      return m;
    }
  }

  private final Path dir;
  private final ContentStore store;

  public Volumes(ContentStore store) {
    this.dir = store.root().resolve(ContentStore.VOLUMES_DIR);
    this.store = store;
  }

  public static boolean isValidName(String name) {
    return NAME.matcher(name).matches() && name.length() <= 255;
  }

  /** A mount of the named volume, for {@link #resolve} to bind once the store is at hand. */
  public static ContainerSpec.Mount mount(String name, String destination, boolean readOnly) {
    return new ContainerSpec.Mount(destination, "volume", name, List.of("rbind", readOnly ? "ro" : "rw"));
  }

  /** Turns a volume mount into a bind of its data, creating the volume when missing (as Docker does). */
  public ContainerSpec.Mount resolve(ContainerSpec.Mount m) {
    if (!m.type().equals("volume")) {
      return m;
    }
    Volume v = create(m.source());
    return ContainerSpec.Mount.bind(v.mountpoint().toString(), m.destination(), m.isReadOnly());
  }

  /** Creates the volume, or returns it when it exists already. */
  public Volume create(String name) {
    check(name);
    Optional<Volume> existing = find(name);
    if (existing.isPresent()) {
      return existing.get();
    }
    Path home = dir.resolve(name);
    try {
      Files.createDirectories(home.resolve(DATA));
    } catch (IOException e) {
      throw LabenvException.failed("volume " + name + ": cannot create " + home + ": " + e.getMessage(), e);
    }
    Instant created = Instant.now();
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("name", name);
    meta.put("created", created.toString());
    AtomicFile.write(home.resolve(METADATA), Json.canonical(meta));
    return new Volume(name, home.resolve(DATA), created);
  }

  public Optional<Volume> find(String name) {
    check(name);
    Path meta = dir.resolve(name).resolve(METADATA);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(meta);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw LabenvException.failed("volume " + name + ": cannot read " + meta + ": " + e.getMessage(), e);
    }
    JsonNode node = Json.tree(bytes, "volume " + name + " metadata");
    Instant created;
    try {
      created = Instant.parse(node.path("created").asText());
    } catch (RuntimeException e) {
      throw LabenvException.failed("volume " + name + ": " + meta + ": bad created time");
    }
    return Optional.of(new Volume(name, dir.resolve(name).resolve(DATA), created));
  }

  public Volume get(String name) {
    return find(name).orElseThrow(() -> LabenvException.badInput("volume " + name + ": no such volume"));
  }

  /** Every volume, by name. */
  public List<Volume> list() {
    List<Volume> all = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return all;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (isValidName(name)) {
          find(name).ifPresent(all::add);
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + dir + ": " + e.getMessage(), e);
    }
    all.sort(Comparator.comparing(Volume::name));
    return all;
  }

  /**
   * Removes the volume and its data. Renamed aside first, so an interrupted removal leaves no half volume under
   * its name; symlinks in the data are deleted, never followed.
   */
  public void remove(String name) {
    Volume v = get(name);
    List<String> users = new Containers(store).using(v.mountpoint());
    if (!users.isEmpty()) {
      throw LabenvException.failed("volume " + name + " is in use by container"
          + (users.size() > 1 ? "s " : " ") + String.join(", ", users) + ": remove "
          + (users.size() > 1 ? "them" : "it") + " first (labenv rm)");
    }
    Path home = dir.resolve(name);
    Path aside = dir.resolve(AtomicFile.TEMP_PREFIX + "rm-" + name + "-" + UUID.randomUUID());
    try {
      Files.move(home, aside);
      AtomicFile.syncDirectory(dir);
      // The applier's removal: fd-based, never follows a symlink, opens up read-only directories.
      new labenv.layer.LayerApplier().remove(aside);
    } catch (IOException e) {
      throw LabenvException.failed("volume " + name + ": cannot remove " + home + ": " + e.getMessage(), e);
    }
  }

  private static void check(String name) {
    if (!isValidName(name)) {
      throw LabenvException.badInput("volume name \"" + name + "\": expected [a-zA-Z0-9][a-zA-Z0-9_.-]*");
    }
  }
}
