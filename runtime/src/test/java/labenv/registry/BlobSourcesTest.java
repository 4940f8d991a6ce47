package labenv.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.store.ContentStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobSourcesTest {
  @TempDir Path tmp;

  @Test
  void repositoriesOfTheSameHostNewestFirstWithoutTheTarget() {
    ContentStore store = ContentStore.open(tmp.resolve("store"));
    Digest d = Digest.of("x".getBytes(StandardCharsets.UTF_8));
    BlobSources sources = new BlobSources(store);
    sources.record(d, "reg:5000", "team/a");
    sources.record(d, "other:443", "team/a");
    sources.record(d, "reg:5000", "team/b");
    sources.record(d, "reg:5000", "team/a");
    assertEquals(List.of("team/a", "team/b"), sources.repositories(d, "reg:5000", "none/x"));
    assertEquals(List.of("team/b"), sources.repositories(d, "reg:5000", "team/a"));
    assertEquals(List.of("team/a"), sources.repositories(d, "other:443", "x/y"));
    assertEquals(List.of(), sources.repositories(Digest.of(new byte[1]), "reg:5000", "x/y"));
  }

  @Test
  void keepsTheLastEightAndForgetsBlobsThatAreGone() {
    ContentStore store = ContentStore.open(tmp.resolve("store"));
    Descriptor kept = store.put("application/octet-stream", "kept".getBytes(StandardCharsets.UTF_8));
    Digest gone = Digest.of("gone".getBytes(StandardCharsets.UTF_8));
    BlobSources sources = new BlobSources(store);
    for (int i = 0; i < 10; i++) {
      sources.record(kept.digest(), "reg", "r" + i);
    }
    sources.record(gone, "reg", "r");
    assertEquals(List.of("r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2"), sources.repositories(kept.digest(), "reg", ""));
    assertEquals(1, BlobSources.prune(store));
    assertEquals(List.of(), sources.repositories(gone, "reg", ""));
    assertEquals(8, sources.repositories(kept.digest(), "reg", "").size());
  }
}
