package labenv.cli;

import labenv.build.BuildCache;
import labenv.store.PruneReport;
import labenv.store.StoreLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prune", description = {"Delete the build cache, then every blob no image references, and leftovers "
    + "of killed writes.", "With --keep-build-cache the layers of cached build steps stay."})
final class PruneCommand extends Verb {
  @Option(names = "--keep-build-cache", description = "keep the build cache (and the layers it names)")
  boolean keepBuildCache;

  @Override
  public Integer call() {
    int entries = 0;
    int leftovers;
    // Exclusively: no build is running (a build holds the gc lock shared from its first step to its tag).
    try (StoreLock gc = store().lockExclusive()) {
      leftovers = BuildCache.removeLeftovers(store());
      // What killed verify and check runs left (they hold the gc lock shared while they run).
      for (String scratch : java.util.List.of("verify", "check")) {
        java.nio.file.Path dir = store().root().resolve(scratch);
        if (java.nio.file.Files.isDirectory(dir)) {
          try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
            for (java.nio.file.Path p : s.toList()) {
              labenv.project.ProjectRunner.removeTree(p);
              leftovers++;
            }
          } catch (java.io.IOException e) {
            // left for the next prune
          }
        }
      }
      if (!keepBuildCache) {
        entries = new BuildCache(store()).clear();
      }
    }
    if (leftovers > 0) {
      out().println("Removed " + leftovers + " directories of interrupted builds, verify and check runs");
    }
    // Trees of dataset versions no longer named; their chunks go with the blobs below. A tree a container mounts
    // (run --dataset makes it the mount's source) stays while the container does.
    labenv.container.Containers containers = containers();
    labenv.dataset.DatasetPruneReport trees = new labenv.dataset.DatasetStore(store())
        .prune(tree -> !containers.using(tree).isEmpty());
    if (!trees.treesRemoved().isEmpty()) {
      out().println("Deleted " + trees.treesRemoved().size() + " assembled dataset trees ("
          + Units.bytes(trees.bytesFreed()) + ")");
    }
    PruneReport r = images().prune();
    labenv.registry.BlobSources.prune(store());
    r.deleted().forEach(d -> out().println("Deleted: " + d));
    if (entries > 0) {
      out().println("Deleted " + entries + " build cache entries");
    }
    out().println("Deleted " + r.deleted().size() + " blobs and " + r.tempFilesRemoved()
        + " temporary files; total reclaimed space: " + Units.bytes(r.bytesFreed()));
    return ExitCode.OK;
  }
}
