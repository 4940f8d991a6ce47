package labenv.layer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import labenv.image.Digest;
import labenv.linux.Syscalls;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layers against the peers: GNU tar lists and extracts them into the same tree, gzip/zstd/sha256sum
 * agree on the digests. Needs root (mknod, security.* and trusted.* xattrs, overlayfs).
 */
class LayerWriterIT {
  @TempDir Path tmp;

  @BeforeAll
  static void needsRoot() {
    assumeTrue(Syscalls.isRoot(), "device nodes, trusted.* xattrs and overlay mounts need root");
  }

  /** A tree with every kind of entry a layer holds, made with the usual tools. */
  private static final String ALL_KINDS = """
      set -e
      cd "$1"
      mkdir -p dir/sub sticky setgid-dir
      chmod 1777 sticky; chmod 2755 setgid-dir
      printf 'hello\\n' > dir/file
      head -c 3000000 /dev/urandom > dir/random.bin
      cp dir/file suid; chmod 4755 suid
      cp dir/file sgid; chmod 2711 sgid
      ln -s dir/file symlink
      ln -s "../../$(printf 'x%.0s' $(seq 150))" dir/long-target-link
      ln dir/file hardlink
      mkfifo fifo; chmod 640 fifo
      mknod chardev c 1 3; mknod blockdev b 7 0
      setfattr -n user.note -v 0x00ff0a3d41 dir/file
      setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 suid
      setfattr -n trusted.labenv -v yes sgid
      setfattr -n user.dir -v d dir
      long=$(printf 'n%.0s' $(seq 200))
      mkdir -p "$long/$long"
      echo deep > "$long/$long/$long.txt"
      ln "$long/$long/$long.txt" "$long/hardlink-to-long"
      printf 'latin' > "$(printf 'caf\\351')"
      printf 'long latin' > "$(printf '\\351%.0s' $(seq 150))"
      ln -s "$(printf 'caf\\351')" latin-link
      echo utf8 > "$(printf 'caf\\303\\251-utf8')"
      : > empty
      """;

  /** What a tree holds, as the usual tools see it: types, modes, link targets and counts, contents, devices, xattrs. */
  private static final String DESCRIBE = """
      set -e
      cd "$1"
      find . -mindepth 1 -printf '%P\\t%M\\t%l\\t%n\\n' | LC_ALL=C sort
      find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
      find . \\( -type c -o -type b \\) -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %t:%T'
      find . -mindepth 1 -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m - -e hex
      """;

  record Run(byte[] out, String err) {}

  static Run run(Path dir, String... cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    Path err = Files.createTempFile("labenv-it", ".err");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    int rc = p.waitFor();
    String e = Files.readString(err);
    Files.delete(err);
    assertEquals(0, rc, String.join(" ", cmd) + " failed: " + e);
    return new Run(out, e);
  }

  static byte[] sh(Path dir, String script, String... args) throws IOException, InterruptedException {
    String[] cmd = new String[3 + args.length + 1];
    cmd[0] = "bash";
    cmd[1] = "-c";
    cmd[2] = script;
    cmd[3] = "script";
    System.arraycopy(args, 0, cmd, 4, args.length);
    return run(dir, cmd).out();
  }

  private Path allKinds() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    sh(tmp, ALL_KINDS, src.toString());
    return src;
  }

  private static LayerResult pack(LayerWriter w, Path dir, Path blob) throws IOException {
    try (OutputStream out = Files.newOutputStream(blob)) {
      return w.write(dir, out);
    }
  }

  @Test
  void gnuTarExtractsEveryKindOfEntryIntoTheSameTree() throws Exception {
    Path src = allKinds();
    Path blob = tmp.resolve("layer.tar.gz");
    LayerResult r = pack(LayerWriter.builder().compression(Compression.GZIP).sourceDateEpoch(0).build(), src, blob);

    Run list = run(tmp, "tar", "-tvzf", blob.toString());
    String listing = new String(list.out(), UTF_8);
    assertTrue(listing.contains("crw-r--r-- 0/0") && listing.contains("1,3 1970-01-01 00:00 chardev"), listing);
    assertTrue(listing.contains("-rwsr-xr-x 0/0"), "setuid kept: " + listing);
    assertTrue(listing.contains("drwxrwxrwt 0/0"), "sticky kept: " + listing);
    assertTrue(listing.contains("hardlink link to dir/file"), listing);
    assertTrue(listing.contains("1970-01-01 00:00"), listing);
    assertOnlyHdrcharsetWarnings(list.err());

    Path out = Files.createDirectories(tmp.resolve("out"));
    Run x = run(tmp, "tar", "--xattrs", "--xattrs-include=*", "-xpzf", blob.toString(), "-C", out.toString());
    assertOnlyHdrcharsetWarnings(x.err());
    String before = new String(sh(tmp, DESCRIBE, src.toString()), UTF_8);
    String after = new String(sh(tmp, DESCRIBE, out.toString()), UTF_8);
    assertEquals(before, after);
    assertTrue(before.contains("security.capability=0x0100000200040000000000000000000000000000"), before);
    assertTrue(before.contains("trusted.labenv=0x796573"), before);
    assertTrue(before.contains("user.note=0x00ff0a3d41"), before);
    String mtimes = new String(sh(tmp, "find \"$1\" -mindepth 1 ! -type l -printf '%T@\\n' | sort -u",
        out.toString()), UTF_8);
    assertEquals("0.0000000000\n", mtimes, "every mtime clamped to the epoch 0");

    assertEquals(r.digest().hex(), sha256sum(tmp, "sha256sum < " + blob));
    assertEquals(r.diffId().hex(), sha256sum(tmp, "gzip -dc < " + blob + " | sha256sum"));
    assertEquals(r.uncompressedSize(), Long.parseLong(new String(sh(tmp, "gzip -dc < " + blob + " | wc -c"),
        UTF_8).trim()));
  }

  private static void assertOnlyHdrcharsetWarnings(String err) {
    // GNU tar 1.34 does not know the POSIX hdrcharset keyword (used for the 150-byte non-UTF-8 name) and says so.
    List<String> other = err.lines()
        .filter(l -> !l.equals("tar: Ignoring unknown extended header keyword 'hdrcharset'"))
        .collect(Collectors.toList());
    assertEquals(List.of(), other);
  }

  private static String sha256sum(Path dir, String pipeline) throws Exception {
    String s = new String(sh(dir, pipeline.contains("sha256sum") ? pipeline : pipeline + " | sha256sum"), UTF_8);
    return s.substring(0, 64);
  }

  @Test
  void zstdAndGzipLayersDecompressWithTheCliToolsToTheSameTar() throws Exception {
    Path src = allKinds();
    Path gz = tmp.resolve("layer.tar.gz");
    Path zst = tmp.resolve("layer.tar.zst");
    Path plain = tmp.resolve("layer.tar");
    LayerResult g = pack(LayerWriter.builder().compression(Compression.GZIP).threads(1).build(), src, gz);
    LayerResult z = pack(LayerWriter.builder().compression(Compression.ZSTD).threads(2).build(), src, zst);
    LayerResult n = pack(LayerWriter.builder().compression(Compression.NONE).build(), src, plain);
    assertEquals(n.digest(), n.diffId());
    assertEquals(n.diffId(), g.diffId(), "the tar does not depend on the compression");
    assertEquals(n.diffId(), z.diffId());
    assertEquals(z.digest().hex(), sha256sum(tmp, "sha256sum < " + zst));
    assertEquals(z.diffId().hex(), sha256sum(tmp, "zstd -dc < " + zst));
    assertEquals(g.diffId().hex(), sha256sum(tmp, "pigz -dc < " + gz));
    assertEquals(n.digest().hex(), sha256sum(tmp, "sha256sum < " + plain));
    sh(tmp, "gzip -t < " + gz + " && zstd -tq < " + zst);
    // Another thread count, another day: the same bytes.
    Path gz8 = tmp.resolve("layer8.tar.gz");
    assertEquals(g, pack(LayerWriter.builder().compression(Compression.GZIP).threads(8).build(), src, gz8));
    assertArrayEquals(Files.readAllBytes(gz), Files.readAllBytes(gz8));
  }

  @Test
  void aFileOver8GiBGetsAPaxSizeThatGnuTarReads() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("big"));
    long size = 9L << 30;
    sh(src, "truncate -s " + size + " big && printf 'START' | dd of=big conv=notrunc status=none"
        + " && printf 'THE-END' | dd of=big bs=1 seek=" + (size - 7) + " conv=notrunc status=none"
        + " && echo small > small");
    Path out = Files.createDirectories(tmp.resolve("x"));
    ProcessBuilder pb = new ProcessBuilder("tar", "-xvvf", "-", "-C", out.toString(),
        "--to-command=tail -c 7 > " + out + "/tail-$TAR_FILENAME")
        .redirectOutput(tmp.resolve("listing").toFile()).redirectError(tmp.resolve("err").toFile());
    Process tar = pb.start();
    LayerResult r;
    try (OutputStream stdin = tar.getOutputStream()) {
      r = LayerWriter.builder().compression(Compression.NONE).build().write(src, stdin);
    }
    assertEquals(0, tar.waitFor(), Files.readString(tmp.resolve("err")));
    String listing = Files.readString(tmp.resolve("listing"));
    assertTrue(listing.contains(" " + size + " 1970-01-01 00:00 big"), listing);
    assertEquals("THE-END", Files.readString(out.resolve("tail-big")));
    assertEquals("small\n", Files.readString(out.resolve("tail-small")));
    assertTrue(r.uncompressedSize() > size);
    assertEquals(r.digest(), r.diffId());
  }

  @Test
  void aRealOverlayUpperBecomesALayerWithWhiteoutsAndOpaqueMarks() throws Exception {
    sh(tmp, """
        set -e
        mkdir -p l/etc l/opt/app u w m
        echo keep > l/etc/keep; echo old > l/etc/gone; echo a > l/opt/app/a; echo b > l/opt/app/b
        mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m
        trap 'umount m' EXIT
        rm m/etc/gone
        rm -rf m/opt/app && mkdir m/opt/app && echo fresh > m/opt/app/new
        echo added > m/etc/added
        """);
    ByteArrayOutputStream blob = new ByteArrayOutputStream();
    LayerResult r = LayerWriter.builder().sourceDateEpoch(0).build().writeOverlayUpper(tmp.resolve("u"), blob);
    Path layer = tmp.resolve("upper.tar.gz");
    Files.write(layer, blob.toByteArray());
    String names = new String(run(tmp, "tar", "-tzf", layer.toString()).out(), UTF_8);
    assertEquals(List.of("etc/", "etc/.wh.gone", "etc/added", "opt/", "opt/app/", "opt/app/.wh..wh..opq",
        "opt/app/new"), Arrays.asList(names.split("\n")));
    String xattrs = new String(run(tmp, "tar", "--xattrs", "-tvvzf", layer.toString()).out(), UTF_8);
    assertTrue(!xattrs.contains("overlay"), xattrs);
    assertEquals(r.diffId().hex(), sha256sum(tmp, "gzip -dc < " + layer));
    assertEquals(Digest.of(blob.toByteArray()), r.digest());
  }
}
