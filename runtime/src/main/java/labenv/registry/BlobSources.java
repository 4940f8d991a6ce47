package labenv.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import labenv.image.Digest;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;

/**
 * Which repositories are known to hold a blob: those it was pulled from or pushed to ({@code
 * <store>/distribution/sources/<hex>}, one {@code host/repository} per line, newest first), as containerd keeps
 * its {@code distribution.source} labels. A push asks the registry to mount a blob from one of these repositories
 * on the same host instead of uploading it again. Only a hint: a lost or stale line costs an upload, nothing more.
 */
public final class BlobSources {
  /** Enough for the usual handful of repositories an image travels between. */
  private static final int KEEP = 8;

  private final Path dir;

  BlobSources(ContentStore store) {
    this.dir = store.root().resolve("distribution").resolve("sources");
  }

  /** The repositories on {@code host} known to hold {@code digest}, other than {@code except}. */
  List<String> repositories(Digest digest, String host, String except) {
    List<String> repos = new ArrayList<>();
    for (String line : read(digest)) {
      int slash = line.indexOf('/');
      if (slash > 0 && line.substring(0, slash).equals(host) && !line.substring(slash + 1).equals(except)) {
        repos.add(line.substring(slash + 1));
      }
    }
    return repos;
  }

  /** Records that {@code host/repository} holds {@code digest}. */
  void record(Digest digest, String host, String repository) {
    String entry = host + "/" + repository;
    List<String> old = read(digest);
    if (!old.isEmpty() && old.get(0).equals(entry)) {
      return;
    }
    Set<String> lines = new LinkedHashSet<>();
    lines.add(entry);
    lines.addAll(old);
    StringBuilder text = new StringBuilder();
    lines.stream().limit(KEEP).forEach(l -> text.append(l).append('\n'));
    try {
      Files.createDirectories(dir);
      AtomicFile.write(dir.resolve(digest.hex()), text.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      // A hint only: a store we cannot write this in still pulls and pushes.
    }
  }

  /** Forgets the sources of blobs no longer in {@code store} (prune calls it after deleting blobs). */
  public static int prune(ContentStore store) {
    Path dir = new BlobSources(store).dir;
    int removed = 0;
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        if (AtomicFile.isTemp(name) || !Digest.isDigest("sha256:" + name) || !store.has(Digest.parse("sha256:" + name))) {
          Files.deleteIfExists(p);
          removed++;
        }
      }
    } catch (IOException e) {
      // hints only: the next prune tries again
    }
    return removed;
  }

  private List<String> read(Digest digest) {
    try {
      return Files.readAllLines(dir.resolve(digest.hex()), StandardCharsets.UTF_8).stream()
          .filter(l -> !l.isBlank()).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      return List.of();
    }
  }
}
