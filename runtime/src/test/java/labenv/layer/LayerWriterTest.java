package labenv.layer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerWriterTest {
  private static final long EPOCH = 1_000_000_000L;

  @TempDir Path tmp;

  record Packed(byte[] blob, LayerResult result) {}

  record Item(TarArchiveEntry entry, byte[] content) {
    String name() {
      return entry.getName();
    }
  }

  static Packed pack(LayerWriter w, Path dir) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerResult r = w.write(dir, out);
    return new Packed(out.toByteArray(), r);
  }

  static LayerWriter writer(Compression c, int threads) {
    return LayerWriter.builder().compression(c).threads(threads).sourceDateEpoch(EPOCH).build();
  }

  static byte[] uncompress(Compression c, byte[] blob) throws IOException {
    InputStream in = switch (c) {
      case NONE -> new ByteArrayInputStream(blob);
      case GZIP -> new GZIPInputStream(new ByteArrayInputStream(blob));
      case ZSTD -> new ZstdInputStream(new ByteArrayInputStream(blob));
    };
    try (in) {
      return in.readAllBytes();
    }
  }

  /** The entries by name (names as raw bytes in ISO-8859-1, so bytes that are not UTF-8 survive). */
  static Map<String, Item> entries(byte[] tar) throws IOException {
    Map<String, Item> out = new LinkedHashMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar), "ISO-8859-1")) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        out.put(e.getName(), new Item(e, in.readAllBytes()));
      }
    }
    return out;
  }

  static void write(Path p, String content, long mtime) throws IOException {
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
    Files.setLastModifiedTime(p, FileTime.fromMillis(mtime * 1000));
  }

  /** The same content, created in the given order with the given mtimes. */
  static Path buildTree(Path root, boolean reversed, long mtime) throws IOException {
    Files.createDirectories(root);
    List<String> files = new ArrayList<>(List.of("a.txt", "a/b/deep.txt", "a-c", "z/last", "big.bin", "é/ü.txt"));
    if (reversed) {
      java.util.Collections.reverse(files);
    }
    Random r = new Random(42);
    byte[] big = new byte[3 * ParallelGzipOutputStream.BLOCK_SIZE + 99];
    r.nextBytes(big);
    for (String f : files) {
      if (f.equals("big.bin")) {
        Files.write(root.resolve(f), big);
        Files.setLastModifiedTime(root.resolve(f), FileTime.fromMillis(mtime * 1000));
      } else {
        write(root.resolve(f), "content of " + f + "\n", mtime + f.length());
      }
    }
    Files.createDirectories(root.resolve("empty"));
    Files.createSymbolicLink(root.resolve("link"), Path.of("a/b/deep.txt"));
    if (reversed) {
      Files.createLink(root.resolve("hard2"), root.resolve("a.txt"));
      Files.createLink(root.resolve("hard1"), root.resolve("a.txt"));
    } else {
      Files.createLink(root.resolve("hard1"), root.resolve("a.txt"));
      Files.createLink(root.resolve("hard2"), root.resolve("a.txt"));
    }
    Files.setPosixFilePermissions(root.resolve("z/last"), PosixFilePermissions.fromString("rwxr-x---"));
    UserDefinedFileAttributeView x = Files.getFileAttributeView(root.resolve("a-c"), UserDefinedFileAttributeView.class);
    x.write("labenv.test", ByteBuffer.wrap("yes".getBytes(UTF_8)));
    // Directory mtimes change as entries are created: set them last, differently per tree.
    try (var s = Files.walk(root)) {
      for (Path p : s.filter(Files::isDirectory).toList()) {
        Files.setLastModifiedTime(p, FileTime.fromMillis((mtime + 7) * 1000));
      }
    }
    return root;
  }

  @Test
  void theSameTreeBuiltInAnotherOrderWithOtherMtimesPacksToTheSameBytes() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    Path one = buildTree(tmp.resolve("one"), false, now);
    Path two = buildTree(tmp.resolve("two"), true, 1_600_000_000L);
    for (Compression c : Compression.values()) {
      Packed a = pack(writer(c, 1), one);
      Packed b = pack(writer(c, 4), two);
      assertArrayEquals(a.blob(), b.blob(), c + ": same bytes");
      assertEquals(a.result(), b.result());
      assertEquals(Digest.of(a.blob()), a.result().digest());
      assertEquals(a.blob().length, a.result().size());
      byte[] tar = uncompress(c, a.blob());
      assertEquals(Digest.of(tar), a.result().diffId(), c + ": diffID is the sha256 of the tar");
      assertEquals(tar.length, a.result().uncompressedSize());
      assertEquals(c.mediaType(), a.result().mediaType());
      assertEquals(c.mediaType(), a.result().descriptor().mediaType());
      assertEquals(a.result().digest(), a.result().descriptor().digest());
    }
    // And the epoch matters: a later epoch than the tree's mtimes keeps them, so the trees differ.
    LayerWriter late = LayerWriter.builder().sourceDateEpoch(now + 1000).build();
    assertNotEquals(pack(late, one).result().digest(), pack(late, two).result().digest());
  }

  @Test
  void entriesAreSortedByNameWithParentsFirstClampedAndOwnedByRoot() throws Exception {
    Path root = buildTree(tmp.resolve("t"), false, 2_000_000_000L);
    write(root.resolve("old.txt"), "old", 500);
    try (ServerSocketChannel s = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(root.resolve("sock")));
      Libc.mknodat(Libc.AT_FDCWD, Syscalls.cstr(root.resolve("fifo").toString()), Libc.S_IFIFO | 0640, 0);
      Packed p = pack(writer(Compression.GZIP, 2), root);
      Map<String, Item> es = entries(uncompress(Compression.GZIP, p.blob()));
      List<String> names = new ArrayList<>(es.keySet());
      assertEquals(List.of("a-c", "a.txt", "a/", "a/b/", "a/b/deep.txt", "big.bin", "empty/", "fifo", "hard1",
          "hard2", "link", "old.txt", "z/", "z/last", "é/", "é/ü.txt"), names,
          "sorted by the bytes of the names as written (directories with '/'); no socket; no root entry");
      for (Item i : es.values()) {
        assertEquals(0, i.entry().getLongUserId());
        assertEquals(0, i.entry().getLongGroupId());
        assertEquals("", i.entry().getUserName());
        long expected = i.name().equals("old.txt") ? 500 : EPOCH;
        assertEquals(expected * 1000, i.entry().getModTime().getTime(), i.name());
      }
      assertTrue(es.get("a.txt").entry().isFile());
      assertEquals("content of a.txt\n", new String(es.get("a.txt").content(), UTF_8));
      assertTrue(es.get("hard1").entry().isLink(), "later paths of a hardlinked file are links");
      assertEquals("a.txt", es.get("hard1").entry().getLinkName());
      assertEquals("a.txt", es.get("hard2").entry().getLinkName());
      assertEquals("a/b/deep.txt", es.get("link").entry().getLinkName());
      assertTrue(es.get("fifo").entry().isFIFO());
      assertEquals(0640, es.get("fifo").entry().getMode() & 07777);
      assertEquals(0750, es.get("z/last").entry().getMode() & 07777);
      assertEquals("yes", es.get("a-c").entry().getExtraPaxHeader("SCHILY.xattr.user.labenv.test"));
    }
  }

  @Test
  void namesThatAreNotUtf8AreKeptAsBytes() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("raw"));
    byte[] name = {'c', 'a', 'f', (byte) 0xe9};
    int dirfd = Libc.open(Syscalls.cstr(root.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
    try {
      int fd = Syscalls.openat(dirfd, name, Libc.O_WRONLY | Libc.O_CREAT, 0644);
      Libc.write(fd, "latin".getBytes(UTF_8), 5);
      Syscalls.close(fd);
      Libc.mkdirat(dirfd, Syscalls.cstr(new byte[] {'d', (byte) 0xff}), 0755);
    } finally {
      Syscalls.close(dirfd);
    }
    Map<String, Item> es = entries(uncompress(Compression.GZIP, pack(writer(Compression.GZIP, 2), root).blob()));
    assertEquals(List.of("caf\u00e9", "d\u00ff/"), new ArrayList<>(es.keySet()));
    assertEquals("latin", new String(es.get("caf\u00e9").content(), UTF_8));
  }

  @Test
  void sparseFilesAreReadAroundTheirHolesAndPackedAsPlainFiles() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("sparse"));
    Path f = root.resolve("holes");
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(20L << 20);
      raf.seek(0);
      raf.write("start".getBytes(UTF_8));
      raf.seek(7L << 20);
      raf.write("middle".getBytes(UTF_8));
      raf.seek((20L << 20) - 3);
      raf.write("end".getBytes(UTF_8));
    }
    Path tail = root.resolve("tail-hole");
    try (RandomAccessFile raf = new RandomAccessFile(tail.toFile(), "rw")) {
      raf.write("head".getBytes(UTF_8));
      raf.setLength(5L << 20);
    }
    assertTrue((long) Files.getAttribute(f, "unix:size") > 0);
    Map<String, Item> es = entries(uncompress(Compression.ZSTD, pack(writer(Compression.ZSTD, 2), root).blob()));
    assertArrayEquals(Files.readAllBytes(f), es.get("holes").content());
    assertArrayEquals(Files.readAllBytes(tail), es.get("tail-hole").content());
    assertTrue(es.get("holes").entry().isFile());
  }

  @Test
  void keepOwnersKeepsNumericIdsButNoNames() throws Exception {
    assumeTrue(Syscalls.isRoot(), "chown needs root");
    Path root = Files.createDirectories(tmp.resolve("own"));
    write(root.resolve("f"), "x", 1);
    Libc.fchownat(Libc.AT_FDCWD, Syscalls.cstr(root.resolve("f").toString()), 1234, 5678, 0);
    LayerWriter keep = LayerWriter.builder().keepOwners(true).sourceDateEpoch(0).build();
    TarArchiveEntry e = entries(uncompress(Compression.GZIP, pack(keep, root).blob())).get("f").entry();
    assertEquals(1234, e.getLongUserId());
    assertEquals(5678, e.getLongGroupId());
    assertEquals("", e.getUserName());
    TarArchiveEntry d = entries(uncompress(Compression.GZIP, pack(writer(Compression.GZIP, 1), root).blob()))
        .get("f").entry();
    assertEquals(0, d.getLongUserId());
  }

  @Test
  void changesHoldWhatIsNewOrDifferentWithParentsAndWhiteoutsForWhatIsGone() throws Exception {
    Path lower = tmp.resolve("lower");
    write(lower.resolve("same.txt"), "same", 100);
    write(lower.resolve("edited.txt"), "aaaa", 100);
    write(lower.resolve("chmod.txt"), "mode", 100);
    write(lower.resolve("gone.txt"), "bye", 100);
    write(lower.resolve("gonedir/inside"), "bye", 100);
    write(lower.resolve("usr/lib/x/old.so"), "lib", 100);
    write(lower.resolve("usr/share/doc"), "doc", 100);
    write(lower.resolve("was-dir/child"), "c", 100);
    Path upper = tmp.resolve("upper");
    write(upper.resolve("same.txt"), "same", 200);
    write(upper.resolve("edited.txt"), "bbbb", 100);
    write(upper.resolve("chmod.txt"), "mode", 100);
    Files.setPosixFilePermissions(upper.resolve("chmod.txt"), PosixFilePermissions.fromString("rwx------"));
    write(upper.resolve("usr/lib/x/old.so"), "lib", 100);
    write(upper.resolve("usr/lib/x/new.so"), "new", 100);
    write(upper.resolve("usr/share/doc"), "doc", 100);
    write(upper.resolve("was-dir"), "now a file", 100);
    LayerWriter w = LayerWriter.builder().compression(Compression.GZIP).sourceDateEpoch(0).threads(2).build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerResult r = w.writeChanges(lower, upper, out);
    byte[] tar = uncompress(Compression.GZIP, out.toByteArray());
    assertEquals(Digest.of(tar), r.diffId());
    Map<String, Item> es = entries(tar);
    assertEquals(List.of(".wh.gone.txt", ".wh.gonedir", "chmod.txt", "edited.txt", "usr/", "usr/lib/", "usr/lib/x/",
        "usr/lib/x/new.so", "was-dir"), new ArrayList<>(es.keySet()),
        "mtime-only changes (clamped away) and equal content are not changes; parents of a change are there");
    assertEquals("bbbb", new String(es.get("edited.txt").content(), UTF_8));
    assertEquals(0700, es.get("chmod.txt").entry().getMode() & 07777);
    assertEquals(0, es.get(".wh.gone.txt").entry().getSize());
    assertTrue(es.get("was-dir").entry().isFile());
  }

  @Test
  void anOverlayUpperTurnsWhiteoutDevicesAndOpaqueDirectoriesIntoOciWhiteouts() throws Exception {
    assumeTrue(Syscalls.isRoot(), "overlay whiteouts are character devices: mknod needs root");
    Path upper = tmp.resolve("upperdir");
    write(upper.resolve("etc/new.conf"), "x", 1);
    Libc.mknodat(Libc.AT_FDCWD, Syscalls.cstr(upper.resolve("etc/removed.conf").toString()), Libc.S_IFCHR, 0);
    Files.createDirectories(upper.resolve("opt/replaced"));
    write(upper.resolve("opt/replaced/only"), "y", 1);
    byte[] y = {'y'};
    Libc.lsetxattr(Syscalls.cstr(upper.resolve("opt/replaced").toString()), Syscalls.cstr("trusted.overlay.opaque"), y,
        1, 0);
    Libc.lsetxattr(Syscalls.cstr(upper.resolve("etc").toString()), Syscalls.cstr("trusted.overlay.origin"), y, 1, 0);
    Libc.lsetxattr(Syscalls.cstr(upper.resolve("etc").toString()), Syscalls.cstr("user.kept"), y, 1, 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerWriter.builder().sourceDateEpoch(0).build().writeOverlayUpper(upper, out);
    Map<String, Item> es = entries(uncompress(Compression.GZIP, out.toByteArray()));
    assertEquals(List.of("etc/", "etc/.wh.removed.conf", "etc/new.conf", "opt/", "opt/replaced/",
        "opt/replaced/.wh..wh..opq", "opt/replaced/only"), new ArrayList<>(es.keySet()));
    TarArchiveEntry etc = es.get("etc/").entry();
    assertEquals("y", etc.getExtraPaxHeader("SCHILY.xattr.user.kept"));
    assertFalse(etc.getExtraPaxHeaders().keySet().stream().anyMatch(k -> k.contains("overlay")),
        "overlay's own xattrs are not copied");
    assertFalse(es.get("opt/replaced/").entry().getExtraPaxHeaders().keySet().stream()
        .anyMatch(k -> k.contains("overlay")));

    Libc.lsetxattr(Syscalls.cstr(upper.resolve("opt").toString()), Syscalls.cstr("trusted.overlay.redirect"),
        "/x".getBytes(UTF_8), 2, 0);
    LabenvException e = assertThrows(LabenvException.class,
        () -> LayerWriter.builder().build().writeOverlayUpper(upper, new ByteArrayOutputStream()));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().contains("trusted.overlay.redirect is not supported"), e.getMessage());
  }

  @Test
  void aMissingTreeIsAOneLineErrorAndLeavesNoThreads() {
    LabenvException e = assertThrows(LabenvException.class,
        () -> writer(Compression.GZIP, 2).write(tmp.resolve("nope"), new ByteArrayOutputStream()));
    assertTrue(e.getMessage().contains("No such file or directory"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
    assertFalse(Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().startsWith("labenv-gzip-") && t.isAlive()));
  }
}
