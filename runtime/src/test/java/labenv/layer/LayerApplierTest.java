package labenv.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import labenv.LabenvException;
import labenv.linux.Libc;
import labenv.linux.Stat;
import labenv.linux.Syscalls;
import labenv.tar.RawTar;
import labenv.tar.RawTar.Header;
import labenv.tar.TarPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The applier against hostile and ordinary layers, built byte by byte in the test. Every hostile case checks that
 * nothing beside the target changed (a canary directory holds files an escape would hit), that the error names the
 * entry, and, for unpack, that no target and no temporary directory are left behind.
 */
class LayerApplierTest {
  private static final LayerApplier.Options ROOTLESS = new LayerApplier.Options(false, false);

  @TempDir Path base;
  private Path canary;
  private Path target;

  @BeforeEach
  void canary() throws IOException {
    canary = base.resolve("canary");
    Files.createDirectories(canary.resolve("sub"));
    Files.writeString(canary.resolve("secret"), "host data\n");
    Files.writeString(canary.resolve("sub/file"), "more\n");
    target = base.resolve("target");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static LayerSource layer(String name, byte[] tar) {
    return new LayerSource(name, () -> new ByteArrayInputStream(tar));
  }

  /** Everything under base except base's own mtime, which creating and removing the temp directory changes. */
  private TreeMap<TarPath, String> world() {
    TreeMap<TarPath, String> s = TreeSnapshot.of(base);
    s.remove(TarPath.of("."));
    return s;
  }

  /** Unpacks {@code layers} (named sha256:layer1, ...), expecting a BAD_INPUT failure that leaves no trace. */
  private LabenvException unpackFails(LayerApplier.Options options, byte[]... layers) {
    TreeMap<TarPath, String> before = world();
    List<LayerSource> sources = new ArrayList<>();
    for (int i = 0; i < layers.length; i++) {
      sources.add(layer("sha256:layer" + (i + 1), layers[i]));
    }
    LabenvException e = assertThrows(LabenvException.class, () -> new LayerApplier(options).unpack(sources, target));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    assertEquals(2, e.exitCode());
    assertFalse(e.getMessage().contains("\n"));
    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS), "no target after a failed unpack");
    assertEquals("", TreeSnapshot.diff(before, world()), "nothing outside the target changed");
    return e;
  }

  private LabenvException unpackFails(byte[]... layers) {
    return unpackFails(LayerApplier.Options.forCurrentUser(), layers);
  }

  private static void assertUnsafe(LabenvException e, String message) {
    assertInstanceOf(UnsafeArchiveEntryException.class, e, e.getMessage());
    assertEquals(message, e.getMessage());
  }

  // --- hostile names

  @Test
  void absoluteNamesAreRefused() {
    String abs = canary.resolve("pwned").toString();
    LabenvException e = unpackFails(new RawTar().file("ok", "fine").file(abs, "x").end());
    assertUnsafe(e, "layer sha256:layer1: entry \"" + abs + "\": absolute path leaves the root");
    assertEquals(TarPath.of(abs), ((UnsafeArchiveEntryException) e).entry());
  }

  @Test
  void theRootWrittenAsSlashIsTheRoot() throws Exception {
    // umoci insert writes the layer's top directory as "/": it names the root, nothing outside it.
    byte[] tar = new RawTar().add(new Header().name("/").type('5').mode(0755)).add(new Header().name("bin/")
        .type('5').mode(0755)).file("bin/tool", "x").end();
    new LayerApplier().unpack(List.of(layer("sha256:layer1", tar)), target);
    assertEquals("x", Files.readString(target.resolve("bin/tool")));
    // (any other absolute name is still refused: absoluteNamesAreRefused)
  }

  @Test
  void dotDotTraversalIsRefusedPlainOrHidden() {
    assertUnsafe(unpackFails(new RawTar().file("../canary/pwned", "x").end()),
        "layer sha256:layer1: entry \"../canary/pwned\": path leaves the root");
    assertUnsafe(unpackFails(new RawTar().add(new Header().name("a/").type('5')).file("a/../../canary/pwned", "x").end()),
        "layer sha256:layer1: entry \"a/../../canary/pwned\": path leaves the root");
    assertUnsafe(unpackFails(new RawTar().file("./a/b/./../../../canary/secret", "x").end()),
        "layer sha256:layer1: entry \"./a/b/./../../../canary/secret\": path leaves the root");
    assertUnsafe(unpackFails(new RawTar().file("a/../b", "x").end()),
        "layer sha256:layer1: entry \"a/../b\": path has a \"..\" component");
  }

  @Test
  void gnuLongNamesAndPaxPathsAreCheckedToo() {
    assertUnsafe(unpackFails(new RawTar().gnuLong('L', utf8("../canary/pwned")).add(new Header().gnu().name("x")).end()),
        "layer sha256:layer1: entry \"../canary/pwned\": path leaves the root");
    assertUnsafe(unpackFails(new RawTar().pax('x', "path", "x/../../canary/secret").file("innocent", "x").end()),
        "layer sha256:layer1: entry \"x/../../canary/secret\": path leaves the root");
    assertUnsafe(unpackFails(new RawTar().pax('x', "path", "/" + canary.resolve("secret")).file("innocent", "x").end()),
        "layer sha256:layer1: entry \"/" + canary.resolve("secret") + "\": absolute path leaves the root");
  }

  // --- symlinks

  @Test
  void writingThroughASymlinkPlantedInTheSameLayerIsRefused() {
    byte[] tar = new RawTar()
        .add(new Header().name("evil").type('2').link("../canary"))
        .file("evil/pwned", "x")
        .end();
    assertUnsafe(unpackFails(tar),
        "layer sha256:layer1: entry \"evil/pwned\": path leaves the root through symlink \"evil\" -> \"../canary\"");
  }

  @Test
  void writingThroughASymlinkPlantedByAnEarlierLayerIsRefused() {
    byte[] lower = new RawTar()
        .add(new Header().name("usr/").type('5'))
        .add(new Header().name("usr/lib").type('2').link(canary.toString()))
        .end();
    byte[] upper = new RawTar().file("usr/lib/secret", "overwritten").end();
    assertUnsafe(unpackFails(lower, upper), "layer sha256:layer2: entry \"usr/lib/secret\": path leaves the root"
        + " through symlink \"usr/lib\" -> \"" + canary + "\"");
  }

  @Test
  void aSymlinkToSlashDoesNotLeadToTheHost() {
    String through = "rootlink" + canary.resolve("pwned");
    byte[] tar = new RawTar()
        .add(new Header().name("rootlink").type('2').link("/"))
        .file(through, "x")
        .end();
    assertUnsafe(unpackFails(tar),
        "layer sha256:layer1: entry \"" + through + "\": path leaves the root through symlink \"rootlink\" -> \"/\"");
  }

  @Test
  void symlinkChainsAndLoopsAreRefused() {
    byte[] chain = new RawTar()
        .add(new Header().name("a").type('2').link("b"))
        .add(new Header().name("b").type('2').link("c/.."))
        .add(new Header().name("c/").type('5'))
        .add(new Header().name("d").type('2').link("a/../canary"))
        .file("d/secret", "x")
        .end();
    LabenvException e = unpackFails(chain);
    assertInstanceOf(UnsafeArchiveEntryException.class, e);
    assertTrue(e.getMessage().startsWith("layer sha256:layer1: entry \"d/secret\": path leaves the root"),
        e.getMessage());

    byte[] loop = new RawTar()
        .add(new Header().name("x").type('2').link("y"))
        .add(new Header().name("y").type('2').link("x"))
        .file("x/f", "x")
        .end();
    assertUnsafe(unpackFails(loop),
        "layer sha256:layer1: entry \"x/f\": too many levels of symbolic links in \"x\"");
  }

  @Test
  void aPlantedSymlinkAsTheFinalComponentIsReplacedNotFollowed() throws IOException {
    TreeMap<TarPath, String> before = world();
    byte[] tar = new RawTar()
        .add(new Header().name("f").type('2').link("../canary/secret"))
        .file("f", "replaced")
        .add(new Header().name("d").type('2').link("../canary"))
        .add(new Header().name("d/").type('5').mode(0700))
        .file("d/secret", "inside")
        .add(new Header().name("l").type('2').link("../canary/secret"))
        .add(new Header().name("hl").type('1').link("l"))
        .add(new Header().name("fifo").type('2').link("../canary/secret"))
        .add(new Header().name("fifo").type('6'))
        .end();
    new LayerApplier().unpack(List.of(layer("sha256:layer1", tar)), target);
    assertEquals("replaced", Files.readString(target.resolve("f")));
    assertTrue(Files.isDirectory(target.resolve("d"), LinkOption.NOFOLLOW_LINKS));
    assertEquals("inside", Files.readString(target.resolve("d/secret")));
    // A hardlink to a symlink links the symlink itself.
    assertTrue(Files.isSymbolicLink(target.resolve("hl")));
    assertEquals(Files.getAttribute(target.resolve("l"), "unix:ino", LinkOption.NOFOLLOW_LINKS),
        Files.getAttribute(target.resolve("hl"), "unix:ino", LinkOption.NOFOLLOW_LINKS));
    assertEquals(1, Files.getAttribute(canary.resolve("secret"), "unix:nlink"));
    assertEquals("fifo", TreeSnapshot.of(target).get(TarPath.of("fifo")).split(" ")[0]);
    TreeMap<TarPath, String> after = world();
    after.keySet().removeIf(p -> p.toString().startsWith("target"));
    assertEquals("", TreeSnapshot.diff(before, after));
  }

  // --- hardlinks

  @Test
  void hardlinksMustPointInside() {
    assertUnsafe(unpackFails(new RawTar().add(new Header().name("h").type('1').link("/etc/passwd")).end()),
        "layer sha256:layer1: entry \"h\": hardlink target \"/etc/passwd\" is absolute: leaves the root");
    assertUnsafe(unpackFails(new RawTar().add(new Header().name("h").type('1').link("../canary/secret")).end()),
        "layer sha256:layer1: entry \"h\": hardlink target \"../canary/secret\" leaves the root");
    byte[] viaSymlink = new RawTar()
        .add(new Header().name("evil").type('2').link("../canary"))
        .add(new Header().name("h").type('1').link("evil/secret"))
        .end();
    assertUnsafe(unpackFails(viaSymlink), "layer sha256:layer1: entry \"h\": hardlink target \"evil/secret\""
        + " leaves the root through symlink \"evil\" -> \"../canary\"");
    byte[] toDirectory = new RawTar()
        .add(new Header().name("dir/").type('5'))
        .add(new Header().name("h").type('1').link("dir"))
        .end();
    assertUnsafe(unpackFails(toDirectory), "layer sha256:layer1: entry \"h\": hardlink target \"dir\" is a directory");
    LabenvException missing = unpackFails(new RawTar().add(new Header().name("h").type('1').link("nothing")).end());
    assertEquals("layer sha256:layer1: entry \"h\": hardlink target \"nothing\" does not exist", missing.getMessage());
  }

  // --- whiteouts

  @Test
  void whiteoutsThatPointOutsideAreRefused() {
    assertUnsafe(unpackFails(new RawTar().file("../x/.wh.y", "").end()),
        "layer sha256:layer1: entry \"../x/.wh.y\": path leaves the root");
    assertUnsafe(unpackFails(new RawTar().file(".wh...", "").end()),
        "layer sha256:layer1: entry \".wh...\": whiteout of \"..\" points outside its directory");
    assertUnsafe(unpackFails(new RawTar().file("a/.wh.", "").end()),
        "layer sha256:layer1: entry \"a/.wh.\": whiteout names nothing");
    byte[] lower = new RawTar().add(new Header().name("evil").type('2').link("../canary")).end();
    assertUnsafe(unpackFails(lower, new RawTar().file("evil/.wh.secret", "").end()),
        "layer sha256:layer2: entry \"evil/.wh.secret\": path leaves the root through symlink \"evil\" -> \"../canary\"");
    assertUnsafe(unpackFails(lower, new RawTar().file("evil/.wh..wh..opq", "").end()),
        "layer sha256:layer2: entry \"evil/.wh..wh..opq\": path leaves the root through symlink \"evil\" -> \"../canary\"");
  }

  // --- devices and the root

  @Test
  void deviceNodesNeedRoot() {
    byte[] tar = new RawTar()
        .add(new Header().name("dev/").type('5'))
        .add(new Header().name("dev/null").type('3').dev(1, 3))
        .end();
    assertUnsafe(unpackFails(ROOTLESS, tar),
        "layer sha256:layer1: entry \"dev/null\": device node (char 1:3): creating device nodes needs root");
    byte[] block = new RawTar().add(new Header().name("sda").type('4').dev(8, 0)).end();
    assertUnsafe(unpackFails(ROOTLESS, block),
        "layer sha256:layer1: entry \"sda\": device node (block 8:0): creating device nodes needs root");
  }

  @Test
  void nothingReplacesTheRoot() {
    assertUnsafe(unpackFails(new RawTar().add(new Header().name("./").type('2').link("/")).end()),
        "layer sha256:layer1: entry \"./\": a symlink would replace the root directory");
  }

  @Test
  void corruptLayersFailCleanlyAndNameTheLayer() {
    byte[] good = new RawTar().file("a", "x").add(new Header().name("big").size(4000), new byte[4000]).end();
    LabenvException e = unpackFails(good, java.util.Arrays.copyOf(good, 2000));
    assertEquals("layer sha256:layer2: truncated archive: entry \"big\" at byte 1024 ends at byte 2000 before its"
        + " content does", e.getMessage());
  }

  @Test
  void aTruncatedGzipLayerFailsCleanly() throws IOException {
    byte[] tar = new RawTar().file("a", "x".repeat(100_000)).end();
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (var out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write(tar);
    }
    byte[] cut = java.util.Arrays.copyOf(gz.toByteArray(), gz.size() - 4);
    LabenvException e = unpackFails(new RawTar().file("first", "ok").end(), cut);
    assertTrue(e.getMessage().startsWith("layer sha256:layer2: truncated gzip stream (input ends after "),
        e.getMessage());
  }

  // --- ordinary layers

  @Test
  void whiteoutsAndOpaqueDirectoriesAcrossLayers() throws IOException {
    byte[] lower = new RawTar()
        .add(new Header().name("a/").type('5'))
        .file("a/x", "x").file("a/y", "y")
        .add(new Header().name("b/").type('5'))
        .file("b/old", "old")
        .add(new Header().name("b/sub/").type('5'))
        .file("b/sub/lower", "lower")
        .file("c", "file that becomes a dir")
        .add(new Header().name("d/").type('5'))
        .add(new Header().name("d/deep/").type('5'))
        .file("d/deep/f", "dir that becomes a file")
        .add(new Header().name("e/").type('5'))
        .file("e/gone", "whited out with its dir")
        .end();
    byte[] upper = new RawTar()
        .file("a/.wh.x", "")
        .file("a/.wh.not-there", "")
        .file("b/new", "same layer, before the marker")
        .add(new Header().name("b/sub/").type('5'))
        .file("b/sub/upper", "upper")
        .file("b/.wh..wh..opq", "")
        .add(new Header().name("c/").type('5'))
        .file("c/inside", "now a dir")
        .file("d", "now a file")
        .file("d/.wh.deep", "") // umoci writes this when a directory became a file: nothing left to remove
        .file(".wh.e", "")
        .file("f", "kept")
        .file(".wh.f", "") // whiteouts never hide their own layer
        .end();
    LayerApplier applier = new LayerApplier();
    applier.unpack(List.of(layer("sha256:lower", lower), layer("sha256:upper", upper)), target);
    assertEquals(Set.of("a/y", "b/new", "b/sub/upper", "c/inside", "d", "f"), files(target));
    assertTrue(Files.isDirectory(target.resolve("b/sub")));
    assertFalse(Files.exists(target.resolve("e")));
    assertFalse(Files.exists(target.resolve("a/.wh.x")), "whiteouts are not created");
  }

  @Test
  void overlayWhiteoutsBecomeDevicesAndOpaqueXattrsAndDeleteNothing() throws IOException {
    assumeTrue(Syscalls.isRoot(), "overlayfs whiteouts need root");
    byte[] lower = new RawTar()
        .add(new Header().name("b/").type('5'))
        .file("b/old", "old")
        .file("gone", "gone")
        .end();
    byte[] upper = new RawTar()
        .file(".wh.gone", "")
        .file("b/.wh..wh..opq", "")
        .file("b/new", "new")
        .file("opq-first/.wh..wh..opq", "") // marker before its directory: the directory is made for it
        .add(new Header().name("opq-first/").type('5').mode(0750))
        .file("kept", "kept")
        .file(".wh.kept", "") // a whiteout never hides its own layer
        .file(".wh.later", "")
        .file("later", "a later entry replaces the whiteout")
        .end();
    LayerApplier applier = new LayerApplier(LayerApplier.Options.forCurrentUser().withOverlayWhiteouts());
    applier.unpack(List.of(layer("sha256:lower", lower), layer("sha256:upper", upper)), target);
    // Applied onto one tree, nothing is deleted: the whiteouts stand beside what they hide.
    assertEquals(Set.of("b/old", "b/new", "gone", "kept", "later"), files(target));
    Stat gone = stat(target.resolve("gone"));
    assertEquals(Libc.S_IFCHR, gone.type());
    assertEquals(List.of(0, 0), List.of(gone.rdevMajor(), gone.rdevMinor()));
    assertTrue(stat(target.resolve("later")).isRegular());
    assertEquals("y", opaque(target.resolve("b")));
    assertEquals("y", opaque(target.resolve("opq-first")));
    assertEquals(0750, stat(target.resolve("opq-first")).permissions());
    assertEquals(null, opaque(target));
    assertFalse(Files.exists(target.resolve(".wh.gone"), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void overlayWhiteoutsWithoutRootAreRefused() {
    LabenvException e = unpackFails(new LayerApplier.Options(false, false, true),
        new RawTar().file(".wh.x", "").end());
    assertTrue(e.getMessage().contains("overlayfs whiteouts need root"), e.getMessage());
  }

  @Test
  void aLayerCannotPlantOverlayXattrsEvenInOverlayMode() throws IOException {
    assumeTrue(Syscalls.isRoot(), "trusted.* xattrs need root");
    byte[] tar = new RawTar()
        .pax('x', "SCHILY.xattr.trusted.overlay.opaque", "y")
        .add(new Header().name("d/").type('5'))
        .end();
    List<String> warnings = new LayerApplier(LayerApplier.Options.forCurrentUser().withOverlayWhiteouts())
        .unpack(List.of(layer("sha256:l", tar)), target);
    assertEquals(null, opaque(target.resolve("d")));
    assertEquals(1, warnings.size(), warnings.toString());
  }

  private static String opaque(Path dir) throws IOException {
    Process p = new ProcessBuilder("getfattr", "--absolute-names", "--only-values", "-n", "trusted.overlay.opaque",
        dir.toString()).redirectErrorStream(false).start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      return p.waitFor() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
    } catch (InterruptedException x) {
      throw new IOException(x);
    }
  }

  @Test
  void anOpaqueMarkerFirstEmptiesTheDirectoryForTheRestOfTheLayer() throws IOException {
    byte[] lower = new RawTar().add(new Header().name("b/").type('5')).file("b/old", "old").end();
    byte[] upper = new RawTar()
        .add(new Header().name("b/").type('5'))
        .file("b/.wh..wh..opq", "")
        .file("b/new", "new")
        .end();
    new LayerApplier().unpack(List.of(layer("sha256:l", lower), layer("sha256:u", upper)), target);
    assertEquals(Set.of("b/new"), files(target));
  }

  @Test
  void aDirectoryOverADirectoryKeepsItsContentAndTakesTheNewMetadata() throws IOException {
    byte[] lower = new RawTar().add(new Header().name("d/").type('5').mode(0700).mtime(1000)).file("d/f", "f").end();
    byte[] upper = new RawTar().add(new Header().name("d/").type('5').mode(0751).mtime(2000)).end();
    new LayerApplier().unpack(List.of(layer("sha256:l", lower), layer("sha256:u", upper)), target);
    assertEquals(Set.of("d/f"), files(target));
    Stat st = stat(target.resolve("d"));
    assertEquals(0751, st.permissions());
    assertEquals(2000, st.mtimeSec());
  }

  @Test
  void directoryModesAndTimesAreSetAfterTheirChildren() throws IOException {
    List<LayerApplier.Options> both = List.of(LayerApplier.Options.forCurrentUser(), ROOTLESS);
    for (int i = 0; i < both.size(); i++) {
      LayerApplier.Options options = both.get(i);
      Path t = base.resolve("t" + i);
      byte[] tar = new RawTar()
          .add(new Header().name("./").type('5').mode(0750).mtime(111))
          .add(new Header().name("ro/").type('5').mode(0555).mtime(1234))
          .add(new Header().name("ro/locked/").type('5').mode(0000).mtime(5678))
          .file("ro/locked/f", "written below a mode-0000 directory")
          .add(new Header().name("ro/x").type('2').link("locked/f").mtime(42))
          .add(new Header().name("sticky/").type('5').mode(01777).mtime(7))
          .add(new Header().name("setgid/").type('5').mode(02775).mtime(8))
          .end();
      new LayerApplier(options).unpack(List.of(layer("sha256:l", tar)), t);
      TreeMap<TarPath, String> snap = TreeSnapshot.of(t, new TreeSnapshot.Fields(true, false, false, n -> true),
          Set.of());
      assertEquals("dir mode=0750 mtime=111", snap.get(TarPath.of(".")));
      assertEquals("dir mode=0555 mtime=1234", snap.get(TarPath.of("ro")));
      assertEquals("dir mode=0000 mtime=5678", snap.get(TarPath.of("ro/locked")));
      assertTrue(snap.get(TarPath.of("ro/x")).endsWith("mtime=42"), "symlink times are set on the link");
      assertEquals("dir mode=1777 mtime=7", snap.get(TarPath.of("sticky")));
      assertEquals("dir mode=2775 mtime=8", snap.get(TarPath.of("setgid")));
      // A second layer can still write below the locked directory, and the mode is back afterwards.
      byte[] more = new RawTar().file("ro/locked/g", "later").file("ro/locked/.wh.f", "").end();
      new LayerApplier(options).apply(t, new ByteArrayInputStream(more), "sha256:more");
      Path locked = t.resolve("ro/locked");
      assertEquals(0000, stat(locked).permissions());
      Files.setPosixFilePermissions(locked, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      assertEquals(Set.of("g"), files(locked));
    }
  }

  @Test
  void missingParentsAreCreated() throws IOException {
    new LayerApplier().unpack(List.of(layer("sha256:l", new RawTar().file("x/y/z", "deep").end())), target);
    assertEquals("deep", Files.readString(target.resolve("x/y/z")));
    assertEquals(0755, stat(target.resolve("x/y")).permissions());
  }

  @Test
  void namesThatAreNotUtf8() {
    byte[] dir = {'c', 'a', 'f', (byte) 0xe9};
    byte[] file = {'c', 'a', 'f', (byte) 0xe9, '/', (byte) 0xff, (byte) 0xfe};
    byte[] link = {'l', (byte) 0x80};
    byte[] hard = {'h', (byte) 0xc3};
    byte[] tar = new RawTar()
        .pax('x', "path", dir).add(new Header().name("d").type('5'))
        .pax('x', "path", file).add(new Header().name("f").size(3), utf8("abc"))
        .pax('x', "path", link, "linkpath", file).add(new Header().name("l").type('2'))
        .pax('x', "path", hard, "linkpath", file).add(new Header().name("h").type('1'))
        .end();
    new LayerApplier().unpack(List.of(layer("sha256:l", tar)), target);
    TreeMap<TarPath, String> snap = TreeSnapshot.of(target);
    assertTrue(snap.get(TarPath.ofRaw(dir)).startsWith("dir"));
    assertTrue(snap.get(TarPath.ofRaw(file)).startsWith("file"), snap.toString());
    assertTrue(snap.get(TarPath.ofRaw(link)).contains("-> " + java.util.HexFormat.of().formatHex(file)));
    assertTrue(snap.get(TarPath.ofRaw(hard)).contains("hardlink-of=" + TarPath.ofRaw(file)));
  }

  @Test
  void hardlinksToLowerLayers() throws IOException {
    byte[] lower = new RawTar().file("bin/tool", "#!/bin/sh\n").end();
    byte[] upper = new RawTar().add(new Header().name("bin/alias").type('1').link("./bin/tool")).end();
    new LayerApplier().unpack(List.of(layer("sha256:l", lower), layer("sha256:u", upper)), target);
    assertEquals(2, Files.getAttribute(target.resolve("bin/tool"), "unix:nlink"));
    assertEquals(Files.getAttribute(target.resolve("bin/tool"), "unix:ino"),
        Files.getAttribute(target.resolve("bin/alias"), "unix:ino"));
  }

  @Test
  void sparseEntriesKeepTheirHoles() throws IOException {
    long size = 1L << 30;
    byte[] tar = new RawTar()
        .pax('x', "GNU.sparse.size", size, "GNU.sparse.map", "0,4,1073741000,3")
        .add(new Header().name("huge").size(7), utf8("headend"))
        .end();
    new LayerApplier().unpack(List.of(layer("sha256:l", tar)), target);
    Stat st = stat(target.resolve("huge"));
    assertEquals(size, st.size());
    assertTrue(st.blocks() < 1024, "1 GiB file takes " + st.blocks() + " blocks");
    try (var ch = java.nio.channels.FileChannel.open(target.resolve("huge"))) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(3);
      ch.read(b, 1073741000);
      assertArrayEquals(utf8("end"), b.array());
    }
  }

  @Test
  void ownersAndSetuidBitsAsRoot() {
    assumeTrue(Syscalls.isRoot(), "needs root");
    byte[] tar = new RawTar()
        .add(new Header().name("su").mode(04755).uid(1000).gid(1000).size(2), utf8("#!"))
        .add(new Header().name("sg/").type('5').mode(02770).uid(1001).gid(1002))
        .add(new Header().name("ln").type('2').link("su").uid(1003).gid(1004))
        .end();
    new LayerApplier().unpack(List.of(layer("sha256:l", tar)), target);
    TreeMap<TarPath, String> snap = TreeSnapshot.of(target, new TreeSnapshot.Fields(false, true, false, n -> true),
        Set.of());
    assertTrue(snap.get(TarPath.of("su")).startsWith("file mode=4755 owner=1000:1000"), snap.toString());
    assertEquals("dir mode=2770 owner=1001:1002", snap.get(TarPath.of("sg")));
    assertTrue(snap.get(TarPath.of("ln")).startsWith("symlink owner=1003:1004"));
  }

  @Test
  void withoutRootOwnersAreIgnored() {
    byte[] tar = new RawTar().add(new Header().name("f").uid(1234).gid(1234).mode(0640)).end();
    new LayerApplier(ROOTLESS).unpack(List.of(layer("sha256:l", tar)), target);
    Stat st = stat(target.resolve("f"));
    assertEquals(Libc.geteuid(), st.uid());
    assertEquals(0640, st.permissions());
  }

  @Test
  void xattrsAreSetAndTheUnsettableAreWarnings() {
    byte[] tar = new RawTar()
        .pax('x', "SCHILY.xattr.user.note", "hello", "SCHILY.xattr.trusted.overlay.opaque", "y")
        .add(new Header().name("f").size(1), utf8("1"))
        .pax('x', "SCHILY.xattr.user.onlink", "x")
        .add(new Header().name("l").type('2').link("f"))
        .end();
    List<String> warnings = new LayerApplier().unpack(List.of(layer("sha256:l", tar)), target);
    String f = TreeSnapshot.of(target).get(TarPath.of("f"));
    assertTrue(f.contains("user.note=" + java.util.HexFormat.of().formatHex(utf8("hello"))), f);
    assertFalse(f.contains("trusted.overlay"), f);
    assertTrue(warnings.contains(
        "layer sha256:l: entry \"f\": xattr trusted.overlay.opaque not set: reserved for overlayfs"), warnings.toString());
    // The kernel refuses user.* xattrs on symlinks, root or not.
    assertTrue(warnings.contains("layer sha256:l: entry \"l\": xattr user.onlink not set: Operation not permitted"),
        warnings.toString());
  }

  @Test
  void unpackNeverReplacesAnExistingTarget() throws IOException {
    Files.createDirectory(target);
    Files.writeString(target.resolve("mine"), "keep");
    LabenvException e = assertThrows(LabenvException.class,
        () -> new LayerApplier().unpack(List.of(layer("sha256:l", new RawTar().file("x", "y").end())), target));
    assertEquals("unpack into \"" + target + "\": already exists", e.getMessage());
    assertEquals(Set.of("mine"), files(target));
  }

  // --- helpers

  private static Set<String> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .map(p -> root.relativize(p).toString())
          .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }
  }

  private static Stat stat(Path p) {
    return Syscalls.lstat(Libc.AT_FDCWD, utf8(p.toString()));
  }
}
