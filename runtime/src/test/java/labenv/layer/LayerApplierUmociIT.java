package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import labenv.linux.Syscalls;
import labenv.tar.TarPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real multi-layer image, made by umoci (an independent OCI implementation): a busybox base, a second layer of
 * changes that umoci's own diff turns into whiteouts, and a third hand-made layer with an opaque directory.
 * umoci's unpack is the reference for ours.
 */
class LayerApplierUmociIT {
  private static final String IMAGE = """
      umoci init --layout img
      umoci new --image img:t
      umoci unpack --image img:t b1
      r=b1/rootfs
      mkdir -p $r/bin $r/etc $r/a $r/b/sub $r/c $r/d/deep $r/var $r/run $r/opt/keep
      cp /bin/busybox $r/bin/busybox
      ln -s busybox $r/bin/sh
      printf 'root:x:0:0:root:/root:/bin/sh\\n' > $r/etc/passwd
      echo x > $r/a/x; echo y > $r/a/y; echo old > $r/b/old; echo lower > $r/b/sub/lower
      echo file > $r/c/cfile; echo deep > $r/d/deep/f; echo keep > $r/opt/keep/k
      ln -s /run $r/var/run
      chown -R 100:101 $r/opt
      # Whole-second times: TarEntry keeps whole seconds, and umoci and we round a fractional PAX
      # mtime differently (the test failed now and then on a directory's time, by one second).
      find $r -exec touch -h -d @1650000000 {} +
      umoci repack --image img:t b1

      umoci unpack --image img:t b2
      r=b2/rootfs
      rm $r/a/x
      echo more >> $r/a/y
      rm -rf $r/d && echo 'now a file' > $r/d
      rm -rf $r/c && mkdir $r/c && echo in > $r/c/in
      chmod 4755 $r/bin/busybox
      ln $r/etc/passwd $r/etc/passwd-
      setfattr -n user.origin -v layer2 $r/etc/passwd
      mkfifo $r/run/fifo
      find $r -exec touch -h -d @1650000100 {} +
      umoci repack --image img:t b2

      mkdir -p l3/b l3/opt
      : > l3/b/.wh..wh..opq
      echo new > l3/b/new
      : > l3/opt/.wh.keep
      echo added > l3/opt/added
      touch -d @1600000000 l3/b l3/opt l3/b/new l3/opt/added
      tar --format=posix --sort=name --numeric-owner -cf l3.tar -C l3 .
      umoci raw add-layer --image img:t l3.tar

      umoci unpack --image img:t ref
      """;

  @TempDir Path work;

  @Test
  void unpacksTheSameRootAsUmoci() throws IOException {
    assumeTrue(Syscalls.isRoot(), "umoci unpack keeps owners only as root");
    Peers.bash(work, IMAGE);
    List<LayerSource> layers = layers(work.resolve("img"), "t");
    assertEquals(3, layers.size());
    List<String> warnings = new LayerApplier().unpack(layers, work.resolve("rootfs"));
    assertEquals(List.of(), warnings);

    TreeMap<TarPath, String> expected = TreeSnapshot.of(work.resolve("ref/rootfs"));
    TreeMap<TarPath, String> actual = TreeSnapshot.of(work.resolve("rootfs"));
    // The root directory itself is made by each tool (no layer has a "./" entry here).
    expected.remove(TarPath.of("."));
    actual.remove(TarPath.of("."));
    assertEquals("", TreeSnapshot.diff(expected, actual), "umoci's rootfs vs ours");

    Set<TarPath> paths = actual.keySet();
    assertFalse(paths.contains(TarPath.of("a/x")), "whiteout from umoci's diff");
    assertFalse(paths.contains(TarPath.of("b/old")), "opaque directory");
    assertFalse(paths.contains(TarPath.of("b/sub")), "opaque directory");
    assertTrue(paths.contains(TarPath.of("b/new")));
    assertFalse(paths.contains(TarPath.of("opt/keep")));
    assertTrue(actual.get(TarPath.of("d")).startsWith("file"));
    assertTrue(actual.get(TarPath.of("bin/busybox")).startsWith("file mode=4755"));
    assertTrue(actual.get(TarPath.of("etc/passwd-")).contains("hardlink-of=etc/passwd"));
  }

  /** The layers of the image tagged {@code tag} in the OCI layout {@code layout}, lowest first. */
  private static List<LayerSource> layers(Path layout, String tag) throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode index = json.readTree(layout.resolve("index.json").toFile());
    String manifestDigest = null;
    for (JsonNode m : index.get("manifests")) {
      if (tag.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
        manifestDigest = m.get("digest").asText();
      }
    }
    JsonNode manifest = json.readTree(blob(layout, manifestDigest).toFile());
    List<LayerSource> out = new ArrayList<>();
    for (JsonNode l : manifest.get("layers")) {
      String digest = l.get("digest").asText();
      out.add(LayerSource.ofFile(digest, blob(layout, digest)));
    }
    return out;
  }

  private static Path blob(Path layout, String digest) {
    String[] parts = digest.split(":", 2);
    return layout.resolve("blobs").resolve(parts[0]).resolve(parts[1]);
  }
}
