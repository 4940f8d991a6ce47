package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import labenv.linux.Syscalls;
import labenv.tar.TarPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GNU tar is the reference: a tree holding every kind of entry is archived by GNU tar, extracted by GNU tar, and
 * unpacked by {@link LayerApplier}; the two trees must agree on every path, type, mode, owner, content, link,
 * device number, xattr and mtime. Needs root (devices, owners, trusted.* xattrs).
 */
class LayerApplierGnuTarIT {
  /** Builds the source tree; every file kind, odd modes and names, xattrs, a sparse file, explicit mtimes. */
  private static final String TREE = """
      src=$1
      mkdir -p "$src" && cd "$src"
      mkdir -p dir/sub 'dir/with space' sgid sticky
      printf 'hello\\n' > dir/file
      : > empty
      printf '#!/bin/sh\\necho hi\\n' > suid
      chown 1000:1000 suid && chmod 4755 suid
      chown 0:1000 sgid && chmod 2775 sgid
      chmod 1777 sticky
      ln -s dir/file rel-link
      ln -s /etc/passwd abs-link
      ln -s nowhere dangling
      chown -h 1234:5678 rel-link
      ln dir/file hard1
      ln dir/file dir/sub/hard2
      mkfifo fifo && chmod 0640 fifo
      mknod null c 1 3 && chmod 0666 null
      mknod loop b 7 0
      setfattr -n user.note -v hello dir/file
      setfattr -n user.dirnote -v d dir
      setfattr -n trusted.t -v 1 empty
      cp suid capable && chown 0:0 capable && chmod 0755 capable
      setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 capable
      long=$(printf 'l%.0s' $(seq 1 200))
      mkdir -p "deep/$long/$long" && echo x > "deep/$long/$long/$long"
      mkdir "$(printf 'caf\\xe9')" && echo latin > "$(printf 'caf\\xe9/\\xff\\xfe')"
      printf x > "$(printf 'new\\nline')"
      truncate -s 100M sparse && printf data | dd of=sparse bs=1 seek=50000000 conv=notrunc status=none
      printf tail | dd of=sparse bs=1 seek=104857596 conv=notrunc status=none
      find . -depth -print0 | xargs -0 touch -h -d @1500000000
      touch -d @1111111111 dir/file
      touch -h -d @1234567890 rel-link
      touch -d @1000000000 dir/sub
      chmod 0555 dir/sub
      """;

  @TempDir Path work;

  @BeforeEach
  void needsRoot() {
    assumeTrue(Syscalls.isRoot(), "devices, owners and trusted.* xattrs need root");
    Peers.bash(work, TREE, "src");
  }

  @Test
  void posixLayerMatchesGnuTarExtraction() {
    Peers.bash(work, """
        tar --format=posix --xattrs --xattrs-include='*' --numeric-owner --sort=name -S -cf layer.tar -C src .
        mkdir ref && tar --xattrs --xattrs-include='*' --numeric-owner -xpf layer.tar -C ref
        zstd -q layer.tar -o layer.tar.zst
        """);
    List<String> warnings = new LayerApplier()
        .unpack(List.of(LayerSource.ofFile("sha256:posix", work.resolve("layer.tar.zst"))), work.resolve("out"));
    assertEquals(List.of(), warnings);
    assertSameTree(work.resolve("ref"), work.resolve("out"), TreeSnapshot.Fields.all());
    TreeMap<TarPath, String> out = TreeSnapshot.of(work.resolve("out"));
    // Guard against a vacuous comparison: the tree has what the script made.
    assertTrue(out.get(TarPath.of("capable")).contains("security.capability="), out.get(TarPath.of("capable")));
    assertTrue(out.get(TarPath.of("null")).startsWith("char mode=0666 owner=0:0 dev=1:3"));
    assertTrue(out.get(TarPath.of("suid")).startsWith("file mode=4755 owner=1000:1000"));
    assertTrue(out.size() > 25, out.toString());
  }

  @Test
  void gnuFormatLayerMatchesGnuTarExtraction() {
    Peers.bash(work, """
        tar --format=gnu --numeric-owner --sort=name -S -cf layer.tar -C src .
        mkdir ref && tar --numeric-owner -xpf layer.tar -C ref
        pigz -c layer.tar > layer.tar.gz
        """);
    new LayerApplier().unpack(List.of(LayerSource.ofFile("sha256:gnu", work.resolve("layer.tar.gz"))),
        work.resolve("out"));
    // GNU format carries no xattrs, so neither tree has them (ext4's own aside).
    assertSameTree(work.resolve("ref"), work.resolve("out"), new TreeSnapshot.Fields(true, true, false, n -> true));
  }

  @Test
  void everyGnuSparseFormatGivesTheSameFile() {
    for (String version : List.of("0.0", "0.1", "1.0")) {
      Path dir = work.resolve("v" + version);
      Peers.bash(work, """
          mkdir -p "$1" && tar --format=posix --sparse-version=$2 -S -cf "$1/layer.tar" -C src sparse dir/file
          mkdir "$1/ref" && tar -xpf "$1/layer.tar" -C "$1/ref"
          """, dir.toString(), version);
      new LayerApplier().unpack(List.of(LayerSource.ofFile("sha256:v" + version, dir.resolve("layer.tar"))),
          dir.resolve("out"));
      // The archive lists neither "." nor "dir": both extractions make them, each at its own time (a second apart
      // now and then). Their times are not the layer's to compare.
      Peers.bash(dir, "touch -d @0 ref ref/dir out out/dir");
      assertSameTree(dir.resolve("ref"), dir.resolve("out"), TreeSnapshot.Fields.all());
      long blocks = (long) readBlocks(dir.resolve("out/sparse"));
      assertTrue(blocks < 1024, "sparse " + version + " keeps its holes: " + blocks + " blocks");
    }
  }

  private static Object readBlocks(Path p) {
    return Syscalls.lstat(labenv.linux.Libc.AT_FDCWD, p.toString().getBytes()).blocks();
  }

  private static void assertSameTree(Path expected, Path actual, TreeSnapshot.Fields fields) {
    assertTrue(Files.isDirectory(actual));
    TreeMap<TarPath, String> e = TreeSnapshot.of(expected, fields, Set.of());
    TreeMap<TarPath, String> a = TreeSnapshot.of(actual, fields, Set.of());
    assertEquals("", TreeSnapshot.diff(e, a), "GNU tar's tree vs ours");
  }
}
