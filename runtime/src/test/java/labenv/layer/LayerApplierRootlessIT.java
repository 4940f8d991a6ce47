package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import labenv.linux.Syscalls;
import labenv.tar.TarPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The applier as a real unprivileged user (uid 65534, through setpriv): read-only and mode-0000 directories written
 * into by a later layer, whiteouts below them, xattrs only root may set, owners it can't give, a device node it
 * must refuse. The result must equal a root unpack of the same layers once owners and privileged xattrs are set
 * aside. Runs as root to switch users.
 */
class LayerApplierRootlessIT {
  private static final String LAYERS = """
      mkdir -p s1/ro/sub s1/locked s1/x
      echo a > s1/ro/a; echo b > s1/ro/sub/b; echo f > s1/locked/f
      echo caps > s1/x/caps
      setfattr -n trusted.secret -v 1 s1/x/caps
      setfattr -n user.fine -v 2 s1/x/caps
      echo owned > s1/x/owned && chown 1000:1000 s1/x/owned
      echo suid > s1/x/suid && chmod 4755 s1/x/suid
      mkfifo s1/x/fifo
      ln -s ../ro/a s1/x/link
      ln s1/ro/a s1/x/hard
      chmod 0555 s1/ro; chmod 0000 s1/locked
      mkdir -p s2/ro/sub s2/locked
      echo new > s2/ro/new; : > s2/ro/.wh.a
      echo g > s2/locked/g; : > s2/locked/.wh.f
      : > s2/ro/sub/.wh..wh..opq; echo c > s2/ro/sub/c
      chmod 0555 s2/ro; chmod 0000 s2/locked
      mkdir -p s3/dev && mknod s3/dev/null c 1 3
      find s1 s2 s3 -depth -print0 | xargs -0 touch -h -d @1500000000
      for i in 1 2 3; do
        tar --format=posix --xattrs --xattrs-include='*' --numeric-owner --sort=name -cf layer$i.tar -C s$i .
      done
      chmod 0644 layer*.tar
      """;

  @TempDir Path work;
  private Path classpath;

  @BeforeEach
  void setUp() throws IOException {
    assumeTrue(Syscalls.isRoot(), "switching to an unprivileged user needs root");
    Peers.bash(work, "chmod 0755 .");
    Peers.bash(work, LAYERS);
    classpath = work.resolve("cp");
    Files.createDirectory(classpath);
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String cls : List.of("labenv.layer.LayerApplier", "labenv.layer.RootlessMain", "com.sun.jna.Native",
        "org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream",
        "com.github.luben.zstd.ZstdInputStream", "org.tukaani.xz.XZInputStream", "org.apache.commons.io.IOUtils",
        "org.apache.commons.lang3.StringUtils")) {
      Class<?> c;
      try {
        c = Class.forName(cls);
      } catch (ClassNotFoundException e) {
        continue;
      }
      Path from = Path.of(c.getProtectionDomain().getCodeSource().getLocation().getPath());
      Path to = classpath.resolve((i++) + "-" + from.getFileName());
      Peers.bash(work, "cp -r \"$1\" \"$2\" && chmod -R a+rX \"$2\"", from.toString(), to.toString());
      entries.add(to.toString());
    }
    Files.writeString(classpath.resolve("path"), String.join(":", entries));
    Peers.bash(work, "mkdir rl tmp && chown 65534:65534 rl tmp");
  }

  private List<String> runAsNobody(String target, String... layers) throws IOException {
    String cp = Files.readString(classpath.resolve("path"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> args = new ArrayList<>(List.of(target));
    args.addAll(Arrays.asList(layers));
    String out = Peers.bash(work, "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$1\" -Djava.io.tmpdir=\"$2\""
        + " -Djna.tmpdir=\"$2\" -cp \"$3\" labenv.layer.RootlessMain \"${@:4}\"",
        concat(java, work.resolve("tmp").toString(), cp, args));
    return out.lines().collect(Collectors.toList());
  }

  private static String[] concat(String a, String b, String c, List<String> rest) {
    List<String> all = new ArrayList<>(List.of(a, b, c));
    all.addAll(rest);
    return all.toArray(String[]::new);
  }

  @Test
  void unpacksLikeRootSaveForOwnersAndPrivilegedXattrs() throws IOException {
    String l1 = work.resolve("layer1.tar").toString();
    String l2 = work.resolve("layer2.tar").toString();
    List<String> out = runAsNobody(work.resolve("rl/out").toString(), l1, l2);
    assertEquals("root=false keepOwners=false", out.get(0));
    assertTrue(out.contains("WARN layer layer1: entry \"./x/caps\": xattr trusted.secret not set: Operation not permitted"),
        String.join("\n", out));
    assertEquals("OK", out.get(out.size() - 1), String.join("\n", out));
    TreeMap<String, String> rootless = snapshot(work.resolve("rl/out"));

    new LayerApplier().unpack(List.of(LayerSource.ofFile("layer1", Path.of(l1)), LayerSource.ofFile("layer2",
        Path.of(l2))), work.resolve("asroot"));
    TreeMap<String, String> root = snapshot(work.resolve("asroot"));
    assertEquals(root, rootless);
    assertEquals("dir mode=0000 mtime=1500000000", rootless.get("locked"));
    assertEquals(Set.of("locked", "locked/g"), keysUnder(rootless, "locked"));
    assertEquals(Set.of("ro", "ro/new", "ro/sub", "ro/sub/c"), keysUnder(rootless, "ro"));
    assertTrue(rootless.get("x/suid").startsWith("file mode=4755"));
    Path owned = work.resolve("rl/out/x/owned");
    assertEquals(65534, ((Number) Files.getAttribute(owned, "unix:uid")).intValue());
  }

  @Test
  void refusesDevicesAndCleansUpEvenBelowLockedDirectories() throws IOException {
    List<String> out = runAsNobody(work.resolve("rl/out").toString(), work.resolve("layer1.tar").toString(),
        work.resolve("layer3.tar").toString());
    assertEquals("ERROR 2 UnsafeArchiveEntryException: layer layer2: entry \"./dev/null\": device node (char 1:3):"
        + " creating device nodes needs root", out.get(out.size() - 1));
    try (var s = Files.list(work.resolve("rl"))) {
      assertEquals(List.of(), s.collect(Collectors.toList()), "no target, no temporary directory");
    }
    assertFalse(Files.exists(work.resolve("rl/out")));
  }

  /** Without owners and privileged xattrs, which only root can give. */
  private static TreeMap<String, String> snapshot(Path dir) {
    TreeMap<String, String> out = new TreeMap<>();
    for (Map.Entry<TarPath, String> e : TreeSnapshot.of(dir,
        new TreeSnapshot.Fields(true, false, true, n -> n.startsWith("user.")), Set.of()).entrySet()) {
      out.put(e.getKey().toString(), e.getValue());
    }
    return out;
  }

  private static Set<String> keysUnder(Map<String, String> m, String dir) {
    return m.keySet().stream().filter(k -> k.equals(dir) || k.startsWith(dir + "/")).collect(Collectors.toSet());
  }
}
