package labenv.tar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import labenv.LabenvException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

class TarReaderTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<TarEntry> readAll(byte[] archive) {
    List<TarEntry> out = new ArrayList<>();
    TarReader r = new TarReader(new ByteArrayInputStream(archive));
    TarEntry e;
    while ((e = r.next()) != null) {
      out.add(e);
    }
    return out;
  }

  private static LabenvException readFails(byte[] archive) {
    LabenvException e = assertThrows(LabenvException.class, () -> readAll(archive));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e;
  }

  @Test
  void readsWhatCommonsCompressWrites() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
      TarArchiveEntry dir = new TarArchiveEntry("etc/", TarConstants.LF_DIR);
      dir.setMode(040755);
      dir.setModTime(1_000_000_000_000L);
      tar.putArchiveEntry(dir);
      tar.closeArchiveEntry();
      TarArchiveEntry file = new TarArchiveEntry("etc/passwd");
      file.setSize(11);
      file.setMode(0104755);
      file.setUserId(1000);
      file.setGroupId(100);
      file.setUserName("alice");
      file.setGroupName("users");
      file.setModTime(1_600_000_000_000L);
      tar.putArchiveEntry(file);
      tar.write(utf8("root:x:0:0\n"));
      tar.closeArchiveEntry();
      TarArchiveEntry big = new TarArchiveEntry("big-owner");
      big.setUserId(0x7fffffffL); // more than 7 octal digits: base-256
      big.setSize(3);
      tar.putArchiveEntry(big);
      tar.write(utf8("abc"));
      tar.closeArchiveEntry();
      TarArchiveEntry link = new TarArchiveEntry("l".repeat(150), TarConstants.LF_SYMLINK);
      link.setLinkName("t".repeat(160));
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
      TarArchiveEntry hard = new TarArchiveEntry("etc/hard", TarConstants.LF_LINK);
      hard.setLinkName("etc/passwd");
      tar.putArchiveEntry(hard);
      tar.closeArchiveEntry();
      TarArchiveEntry fifo = new TarArchiveEntry("fifo", TarConstants.LF_FIFO);
      tar.putArchiveEntry(fifo);
      tar.closeArchiveEntry();
      TarArchiveEntry dev = new TarArchiveEntry("null", TarConstants.LF_CHR);
      dev.setDevMajor(1);
      dev.setDevMinor(3);
      tar.putArchiveEntry(dev);
      tar.closeArchiveEntry();
    }
    TarReader r = new TarReader(new ByteArrayInputStream(bytes.toByteArray()));
    TarEntry e = r.next();
    assertEquals(TarEntry.Type.DIRECTORY, e.type());
    assertEquals(TarPath.of("etc/"), e.path());
    assertEquals(0755, e.mode());
    assertEquals(1_000_000_000L, e.mtime());
    e = r.next();
    assertEquals(TarEntry.Type.FILE, e.type());
    assertEquals(TarPath.of("etc/passwd"), e.path());
    assertEquals(04755, e.mode());
    assertEquals(1000, e.uid());
    assertEquals(100, e.gid());
    assertEquals("alice", e.uname());
    assertEquals("users", e.gname());
    assertEquals(1_600_000_000L, e.mtime());
    assertEquals(11, e.size());
    assertArrayEquals(utf8("root:x:0:0\n"), r.content().readAllBytes());
    e = r.next(); // content not read: must be skipped
    assertEquals(TarPath.of("big-owner"), e.path());
    assertEquals(0x7fffffffL, e.uid());
    e = r.next();
    assertEquals(TarEntry.Type.SYMLINK, e.type());
    assertEquals(TarPath.of("l".repeat(150)), e.path());
    assertArrayEquals(utf8("t".repeat(160)), e.linkTarget());
    e = r.next();
    assertEquals(TarEntry.Type.HARDLINK, e.type());
    assertArrayEquals(utf8("etc/passwd"), e.linkTarget());
    assertEquals(0, e.size());
    e = r.next();
    assertEquals(TarEntry.Type.FIFO, e.type());
    e = r.next();
    assertEquals(TarEntry.Type.CHAR_DEVICE, e.type());
    assertEquals(1, e.devMajor());
    assertEquals(3, e.devMinor());
    assertNull(r.next());
    assertNull(r.next());
  }

  @Test
  void paxRecordsOverrideTheHeaderAndKeepBytes() throws IOException {
    byte[] latin1 = {'c', 'a', 'f', (byte) 0xe9, '/', 'x'};
    byte[] content = utf8("hello");
    byte[] archive = new RawTar()
        .pax('x',
            "hdrcharset", "BINARY",
            "path", latin1,
            "size", "5",
            "uid", "4000000000",
            "gid", "5",
            "uname", "bob",
            "mtime", "1700000000.75",
            "SCHILY.xattr.user.comment", new byte[] {0, 1, (byte) 0xff},
            "LIBARCHIVE.xattr.user.a%3Db", Base64.getEncoder().withoutPadding().encodeToString(utf8("vv")))
        .add(new RawTar.Header().name("short").size(0), content) // size comes from PAX
        .pax('x', "linkpath", "target/of/link", "mtime", "-1.5")
        .add(new RawTar.Header().name("lnk").type('2').link("ignored"))
        .end();
    TarReader r = new TarReader(new ByteArrayInputStream(archive));
    TarEntry e = r.next();
    assertArrayEquals(latin1, e.path().bytes());
    assertEquals(5, e.size());
    assertEquals(4_000_000_000L, e.uid());
    assertEquals(5, e.gid());
    assertEquals("bob", e.uname());
    assertEquals(1_700_000_000L, e.mtime());
    assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, e.xattrs().get("user.comment"));
    assertArrayEquals(utf8("vv"), e.xattrs().get("user.a=b"));
    assertArrayEquals(content, r.content().readAllBytes());
    e = r.next();
    assertEquals(TarEntry.Type.SYMLINK, e.type());
    assertArrayEquals(utf8("target/of/link"), e.linkTarget());
    assertEquals(-2, e.mtime(), "whole seconds, rounded down");
    assertTrue(e.xattrs().isEmpty(), "per-entry records don't carry over");
    assertNull(r.next());
  }

  @Test
  void globalRecordsApplyUntilCancelled() {
    byte[] archive = new RawTar()
        .pax('g', "uid", "77", "SCHILY.xattr.user.g", "1")
        .add(new RawTar.Header().name("a").uid(1))
        .pax('x', "uid", "")
        .add(new RawTar.Header().name("b").uid(2))
        .pax('g', "uid", "")
        .add(new RawTar.Header().name("c").uid(3))
        .end();
    List<TarEntry> all = readAll(archive);
    assertEquals(3, all.size());
    assertEquals(77, all.get(0).uid());
    assertEquals(2, all.get(1).uid(), "an empty per-entry value falls back to the header");
    assertEquals(3, all.get(2).uid());
    assertArrayEquals(utf8("1"), all.get(2).xattrs().get("user.g"));
  }

  @Test
  void gnuLongNamesAndLinks() {
    byte[] longName = ("dir/" + "n".repeat(300)).getBytes(StandardCharsets.UTF_8);
    byte[] archive = new RawTar()
        .gnuLong('L', longName)
        .gnuLong('K', utf8("k".repeat(200)))
        .add(new RawTar.Header().gnu().name("truncated-name").type('1').link("truncated-link"))
        .end();
    TarEntry e = readAll(archive).get(0);
    assertArrayEquals(longName, e.path().bytes());
    assertArrayEquals(utf8("k".repeat(200)), e.linkTarget());
  }

  @Test
  void ustarPrefixJoinsButGnuHeadersHaveNone() {
    byte[] archive = new RawTar()
        .add(new RawTar.Header().name("c").prefix("a/b"))
        // GNU keeps atime/ctime where ustar has the prefix.
        .add(new RawTar.Header().gnu().name("d").prefix("01234567"))
        .end();
    List<TarEntry> all = readAll(archive);
    assertEquals(TarPath.of("a/b/c"), all.get(0).path());
    assertEquals(TarPath.of("d"), all.get(1).path());
  }

  @Test
  void v7HeadersAndTrailingSlashDirectories() {
    byte[] archive = new RawTar()
        .add(new RawTar.Header().v7().name("olddir/").type('\0'))
        .add(new RawTar.Header().v7().name("olddir/file").type('\0').size(2), utf8("hi"))
        .end();
    List<TarEntry> all = readAll(archive);
    assertEquals(TarEntry.Type.DIRECTORY, all.get(0).type());
    assertEquals(TarEntry.Type.FILE, all.get(1).type());
    assertEquals(2, all.get(1).size());
    assertEquals("", all.get(1).uname());
  }

  @Test
  void base256NumbersIncludingNegativeTimes() {
    byte[] archive = new RawTar()
        .add(new RawTar.Header().name("old").base256(136, 12, -86400).base256(124, 12, 3), utf8("abc"))
        .end();
    TarEntry e = readAll(archive).get(0);
    assertEquals(-86400, e.mtime());
    assertEquals(3, e.size());
  }

  @Test
  void checksumsAcceptedSignedOrUnsignedAndVerified() {
    byte[] name = {'n', (byte) 0xe9, (byte) 0xff};
    byte[] signed = new RawTar().add(new RawTar.Header().name(name).signedChecksum()).end();
    assertArrayEquals(name, readAll(signed).get(0).path().bytes());

    byte[] archive = new RawTar().file("a", "x").file("b", "y").end();
    archive[512 + 512 + 10] ^= 1; // second header, inside its name
    LabenvException e = readFails(archive);
    assertEquals("corrupt archive: header checksum mismatch at byte 1024 (after entry \"a\")", e.getMessage());
  }

  @Test
  void truncatedArchivesSayWhereTheyEnd() {
    byte[] archive = new RawTar().file("a", "x").add(new RawTar.Header().name("big").size(5000), new byte[5000]).end();
    LabenvException inContent = readFails(Arrays.copyOf(archive, 1024 + 512 + 100));
    assertTrue(inContent.getMessage().startsWith("truncated archive: entry \"big\" at byte 1024 ends at byte 1636"),
        inContent.getMessage());
    LabenvException inHeader = readFails(Arrays.copyOf(archive, 1024 + 100));
    assertEquals("truncated archive: header at byte 1024 has 100 of 512 bytes (after entry \"a\")",
        inHeader.getMessage());
    LabenvException noEnd = readFails(Arrays.copyOf(archive, archive.length - 1024));
    assertEquals("truncated archive: ends at byte 6656 without an end-of-archive marker (after entry \"big\")",
        noEnd.getMessage());
    LabenvException afterMeta = readFails(new RawTar().pax('x', "path", "p").bytes());
    assertTrue(afterMeta.getMessage().contains("after an extended header"), afterMeta.getMessage());
  }

  @Test
  void aLenientReaderTakesGoUnclosedEnds() {
    // Go's archive/tar without Close(): no padding after the last content, no end-of-archive marker (umoci).
    byte[] archive = new RawTar().file("a", "x").file("b", "last").end();
    byte[] noPadding = Arrays.copyOf(archive, 1024 + 512 + 4);
    byte[] noMarker = Arrays.copyOf(archive, 2048);
    for (byte[] cut : List.of(noPadding, noMarker)) {
      readFails(cut);
      List<String> names = new ArrayList<>();
      TarReader r = new TarReader(new ByteArrayInputStream(cut)).lenientEnd();
      TarEntry e;
      while ((e = r.next()) != null) {
        names.add(e.path().toString());
      }
      assertEquals(List.of("a", "b"), names);
    }
    // content cut short is still an error
    LabenvException shortContent = assertThrows(LabenvException.class, () -> {
      TarReader r = new TarReader(new ByteArrayInputStream(Arrays.copyOf(archive, 1024 + 512 + 2))).lenientEnd();
      while (r.next() != null) {
        // read on
      }
    });
    assertTrue(shortContent.getMessage().contains("truncated archive"), shortContent.getMessage());
  }

  @Test
  void endOfArchiveMarkers() {
    assertTrue(readAll(new byte[0]).isEmpty(), "an empty stream is an empty archive");
    byte[] oneZeroBlock = Arrays.copyOf(new RawTar().file("a", "x").bytes(), 1024 + 512);
    assertEquals(1, readAll(oneZeroBlock).size(), "a lone zero block then EOF ends the archive, as in Go and GNU tar");
    byte[] zeroThenData = new RawTar().file("a", "x").raw(new byte[512]).file("b", "y").end();
    LabenvException e = readFails(zeroThenData);
    assertTrue(e.getMessage().contains("zero block at byte 1024 is followed by data at byte 1536"), e.getMessage());
  }

  @Test
  void readsToTheEndOfTheStreamAfterTheMarker() throws IOException {
    byte[] archive = new RawTar().file("a", "x").end();
    byte[] padded = Arrays.copyOf(archive, 10240);
    boolean[] sawEof = {false};
    InputStream in = new ByteArrayInputStream(padded) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        int n = super.read(b, off, len);
        sawEof[0] |= n < 0;
        return n;
      }
    };
    TarReader r = new TarReader(in);
    r.next();
    assertNull(r.next());
    assertTrue(sawEof[0], "the stream was read to its end (so a digest or compressed trailer gets checked)");
  }

  @Test
  void unknownTypesAndGarbageAreRefused() {
    LabenvException volume = readFails(new RawTar().add(new RawTar.Header().name("label").type('V')).end());
    assertEquals("entry \"label\" at byte 0: unsupported entry type 'V'", volume.getMessage());

    byte[] garbage = new byte[4096];
    new Random(1).nextBytes(garbage);
    LabenvException g = readFails(garbage);
    assertTrue(g.getMessage().contains("at byte 0"), g.getMessage());
  }

  @Test
  void malformedExtendedHeadersAreRefused() {
    byte[] badRecord = utf8("99 path=x\n");
    LabenvException e = readFails(new RawTar()
        .add(new RawTar.Header().name("PaxHeaders/x").type('x').size(badRecord.length), badRecord)
        .file("a", "x").end());
    assertTrue(e.getMessage().startsWith("extended header at byte 0: malformed PAX record"), e.getMessage());

    LabenvException nul = readFails(new RawTar().pax('x', "path", new byte[] {'a', 0, 'b'}).file("a", "x").end());
    assertTrue(nul.getMessage().endsWith("name contains a NUL byte"), nul.getMessage());

    byte[] huge = new RawTar().add(new RawTar.Header().name("PaxHeaders/x").type('x').size(1L << 40)).end();
    LabenvException big = readFails(huge);
    assertTrue(big.getMessage().contains("at most 1048576 accepted"), big.getMessage());

    LabenvException size = readFails(new RawTar().add(new RawTar.Header().name("a").put(124, utf8("12x4"))).end());
    assertTrue(size.getMessage().startsWith("entry \"a\" at byte 0: invalid size field"), size.getMessage());
  }

  @Test
  void paxSparseEntriesExpandToTheirRealContent() throws IOException {
    // GNU sparse 0.1: "abc" at 4096 and "de" at 10000 of a 12000-byte file.
    byte[] archive = new RawTar()
        .pax('x', "GNU.sparse.size", "12000", "GNU.sparse.numblocks", "2", "GNU.sparse.map", "4096,3,10000,2",
            "GNU.sparse.name", "real/name")
        .add(new RawTar.Header().name("GNUSparseFile.1/name").size(5), utf8("abcde"))
        .end();
    TarReader r = new TarReader(new ByteArrayInputStream(archive));
    TarEntry e = r.next();
    assertEquals(TarPath.of("real/name"), e.path());
    assertEquals(12000, e.size());
    assertTrue(r.isSparse());
    byte[] expected = new byte[12000];
    expected[4096] = 'a';
    expected[4097] = 'b';
    expected[4098] = 'c';
    expected[10000] = 'd';
    expected[10001] = 'e';
    assertArrayEquals(expected, r.content().readAllBytes());
    assertNull(r.next());

    byte[] overlapping = new RawTar()
        .pax('x', "GNU.sparse.size", "100", "GNU.sparse.map", "0,10,5,10")
        .add(new RawTar.Header().name("s").size(20), new byte[20])
        .end();
    LabenvException bad = readFails(overlapping);
    assertTrue(bad.getMessage().startsWith("entry \"s\" at byte 0: sparse segment 1"), bad.getMessage());
  }

  @Test
  void oldGnuSparseWithExtensionBlocks() throws IOException {
    // 30 one-byte segments at 0, 100, 200, ...: 4 in the header, the rest in two extension blocks.
    int segments = 30;
    RawTar.Header h = new RawTar.Header().gnu().name("sparse").type('S').size(segments);
    h.octal(483, 12, 100L * segments);
    for (int i = 0; i < 4; i++) {
      h.octal(386 + i * 24, 12, 100L * i).octal(386 + i * 24 + 12, 12, 1);
    }
    h.b[482] = 1;
    ByteArrayOutputStream ext = new ByteArrayOutputStream();
    int next = 4;
    while (next < segments) {
      byte[] block = new byte[512];
      RawTar.Header writer = new RawTar.Header();
      Arrays.fill(writer.b, (byte) 0);
      for (int i = 0; i < 21 && next < segments; i++, next++) {
        writer.octal(i * 24, 12, 100L * next).octal(i * 24 + 12, 12, 1);
      }
      System.arraycopy(writer.b, 0, block, 0, 504);
      block[504] = (byte) (next < segments ? 1 : 0);
      ext.writeBytes(block);
    }
    byte[] data = new byte[segments];
    for (int i = 0; i < segments; i++) {
      data[i] = (byte) ('A' + i);
    }
    byte[] archive = new RawTar().raw(h.bytes()).raw(ext.toByteArray()).raw(Arrays.copyOf(data, 512)).end();
    TarReader r = new TarReader(new ByteArrayInputStream(archive));
    TarEntry e = r.next();
    assertEquals(TarEntry.Type.FILE, e.type());
    assertEquals(3000, e.size());
    byte[] content = r.content().readAllBytes();
    assertEquals(3000, content.length);
    for (int i = 0; i < segments; i++) {
      assertEquals('A' + i, content[100 * i]);
      assertEquals(0, content[100 * i + 1]);
    }
    assertNull(r.next());
  }
}
