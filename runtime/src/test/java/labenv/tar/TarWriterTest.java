package labenv.tar;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;

/** Reads what TarWriter writes back with commons-compress (an independent reader) and checks raw header bytes. */
class TarWriterTest {

  private static byte[] tar(Consumer<TarWriter> body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarWriter w = new TarWriter(out)) {
      body.accept(w);
    }
    return out.toByteArray();
  }

  private static List<TarArchiveEntry> read(byte[] tar, List<byte[]> contents) throws IOException {
    List<TarArchiveEntry> out = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar), "ISO-8859-1")) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        out.add(e);
        if (contents != null) {
          contents.add(in.readAllBytes());
        }
      }
    }
    return out;
  }

  private static String field(byte[] tar, int block, int off, int len) {
    String s = new String(tar, block * 512 + off, len, ISO_8859_1);
    int nul = s.indexOf('\0');
    return nul >= 0 ? s.substring(0, nul) : s;
  }

  private static String paxRecords(byte[] tar) {
    int size = Integer.parseInt(field(tar, 0, 124, 12).trim(), 8);
    return new String(tar, 512, size, ISO_8859_1);
  }

  @Test
  void aPlainFileIsOneUstarHeaderWithOctalFieldsAndEndsWithTwoZeroBlocks() throws IOException {
    byte[] t = tar(w -> w.write(new TarEntry(TarEntry.Type.FILE, TarPath.of("dir/a.txt"), null, 0644, 1000, 100,
        "alice", "staff", 1700000000L, 3, 0, 0, null), new ByteArrayInputStream("abc".getBytes(UTF_8))));
    assertEquals(512 + 512 + 1024, t.length, "header, one padded data block, two zero blocks");
    assertEquals("dir/a.txt", field(t, 0, 0, 100));
    assertEquals("0000644", field(t, 0, 100, 8));
    assertEquals("0001750", field(t, 0, 108, 8));
    assertEquals("00000000003", field(t, 0, 124, 12));
    assertEquals(Long.toOctalString(1700000000L), field(t, 0, 136, 12).replaceFirst("^0+", ""));
    assertEquals("ustar\0" + "00", new String(t, 257, 8, ISO_8859_1));
    assertEquals("0000000", field(t, 0, 329, 8), "device fields are octal zeros");
    assertTrue(Arrays.equals(new byte[1024], Arrays.copyOfRange(t, 1024, 2048)));
    List<byte[]> contents = new ArrayList<>();
    TarArchiveEntry e = read(t, contents).get(0);
    assertEquals("alice", e.getUserName());
    assertEquals(100, e.getLongGroupId());
    assertEquals(1700000000L * 1000, e.getModTime().getTime());
    assertArrayEquals("abc".getBytes(UTF_8), contents.get(0));
  }

  @Test
  void directoriesEndInSlashAndEveryTypeHasItsFlag() throws IOException {
    byte[] t = tar(w -> {
      w.write(TarEntry.directory(TarPath.of("d"), 01777, 5));
      w.write(TarEntry.symlink(TarPath.of("d/l"), "../target".getBytes(UTF_8), 5));
      w.write(TarEntry.file(TarPath.of("d/f"), 04755, 0, 5));
      w.write(TarEntry.hardlink(TarPath.of("d/h"), TarPath.of("d/f"), 5));
      w.write(new TarEntry(TarEntry.Type.CHAR_DEVICE, TarPath.of("d/c"), null, 0600, 0, 0, "", "", 5, 0, 1, 3, null));
      w.write(new TarEntry(TarEntry.Type.BLOCK_DEVICE, TarPath.of("d/b"), null, 0600, 0, 0, "", "", 5, 0, 8, 1, null));
      w.write(new TarEntry(TarEntry.Type.FIFO, TarPath.of("d/p"), null, 02640, 0, 0, "", "", 5, 0, 0, 0, null));
    });
    List<TarArchiveEntry> es = read(t, null);
    assertEquals("d/", es.get(0).getName());
    assertTrue(es.get(0).isDirectory());
    assertEquals(01777, es.get(0).getMode() & 07777);
    assertTrue(es.get(1).isSymbolicLink());
    assertEquals("../target", es.get(1).getLinkName());
    assertEquals(04755, es.get(2).getMode() & 07777);
    assertTrue(es.get(3).isLink());
    assertEquals("d/f", es.get(3).getLinkName());
    assertTrue(es.get(4).isCharacterDevice());
    assertEquals(1, es.get(4).getDevMajor());
    assertEquals(3, es.get(4).getDevMinor());
    assertTrue(es.get(5).isBlockDevice());
    assertTrue(es.get(6).isFIFO());
    assertEquals(02640, es.get(6).getMode() & 07777);
    assertEquals((7 + 2) * 512, t.length, "no PAX headers for any of these");
  }

  @Test
  void aLongPathSplitsIntoPrefixAndNameWhenItCanElsePaxPath() throws IOException {
    String dir = "d".repeat(120);
    String splittable = dir + "/" + "f".repeat(90);
    byte[] t = tar(w -> w.write(TarEntry.file(TarPath.of(splittable), 0644, 0, 0)));
    assertEquals(512 + 1024, t.length, "no PAX header when prefix/name holds the path");
    assertEquals(dir, field(t, 0, 345, 155));
    assertEquals("f".repeat(90), field(t, 0, 0, 100));
    assertEquals(splittable, read(t, null).get(0).getName());

    String longer = "a".repeat(200) + "/" + "b".repeat(200) + "/" + "c".repeat(120);
    byte[] t2 = tar(w -> w.write(TarEntry.file(TarPath.of(longer), 0644, 0, 0)));
    assertEquals("x", field(t2, 0, 156, 1));
    assertTrue(field(t2, 0, 0, 100).startsWith("a".repeat(100).substring(0, 50)));
    assertTrue(paxRecords(t2).contains(" path=" + longer + "\n"));
    assertEquals(longer, read(t2, null).get(0).getName());
  }

  @Test
  void paxHeaderNameAndMtimeDependOnlyOnTheEntry() {
    String path = "usr/share/" + "x".repeat(300);
    byte[] t = tar(w -> w.write(TarEntry.file(TarPath.of(path), 0644, 0, 77)));
    assertEquals(("usr/share/PaxHeaders.0/" + "x".repeat(300)).substring(0, 100), field(t, 0, 0, 100));
    assertEquals("00000000115", field(t, 0, 136, 12), "the PAX header's mtime is the entry's (77)");
    assertEquals("0000644", field(t, 0, 100, 8));
  }

  @Test
  void nonAsciiUtf8NamesGoToPaxButNamesThatAreNotUtf8StayRawInUstarWhenTheyFit() throws IOException {
    byte[] t = tar(w -> w.write(TarEntry.file(TarPath.of("café"), 0644, 0, 0)));
    assertTrue(new String(paxRecords(t).getBytes(ISO_8859_1), UTF_8).contains(" path=café\n"));
    assertEquals("café", read(t, null).get(0).getName(), "PAX path is read as UTF-8");
    assertFalse(paxRecords(t).contains("hdrcharset"));

    byte[] latin1 = {'c', 'a', 'f', (byte) 0xe9};
    byte[] t2 = tar(w -> w.write(TarEntry.file(TarPath.ofRaw(latin1), 0644, 0, 0)));
    assertEquals(512 + 1024, t2.length, "no PAX header");
    assertArrayEquals(latin1, Arrays.copyOf(t2, 4));
    assertEquals(0, t2[4]);

    byte[] longLatin1 = new byte[300];
    Arrays.fill(longLatin1, (byte) 0xe9);
    byte[] t3 = tar(w -> w.write(TarEntry.file(TarPath.ofRaw(longLatin1), 0644, 0, 0)));
    String records = paxRecords(t3);
    assertTrue(records.contains(" hdrcharset=BINARY\n"), records);
    assertTrue(records.contains(" path=" + new String(longLatin1, ISO_8859_1) + "\n"), "raw bytes, not re-encoded");
  }

  @Test
  void xattrsAreSchilyRecordsSortedByKeyWithBinaryValues() throws IOException {
    TreeMap<String, byte[]> x = new TreeMap<>();
    x.put("user.zeta", "z".getBytes(UTF_8));
    x.put("security.capability", new byte[] {1, 0, 0, 2, 0, '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    x.put("user.alpha", "a=b\nc".getBytes(UTF_8));
    TarEntry e = TarEntry.file(TarPath.of("f"), 0755, 0, 0).withXattrs(x)
        .withOwner(3_000_000, 5, "", "");
    byte[] t = tar(w -> w.write(e));
    String records = paxRecords(t);
    List<String> keys = new ArrayList<>();
    int pos = 0;
    byte[] raw = records.getBytes(ISO_8859_1);
    while (pos < raw.length) {
      int sp = records.indexOf(' ', pos);
      int len = Integer.parseInt(records.substring(pos, sp));
      assertEquals('\n', raw[pos + len - 1], "each record's length counts the whole record");
      keys.add(records.substring(sp + 1, records.indexOf('=', sp)));
      pos += len;
    }
    assertEquals(List.of("SCHILY.xattr.security.capability", "SCHILY.xattr.user.alpha", "SCHILY.xattr.user.zeta",
        "uid"), keys);
    TarArchiveEntry r = read(t, null).get(0);
    assertEquals(3_000_000L, r.getLongUserId());
    assertEquals("0000000", field(t, 1 + (records.length() + 511) / 512, 108, 8), "ustar uid is 0 when PAX has it");
    assertEquals("a=b\nc", r.getExtraPaxHeader("SCHILY.xattr.user.alpha"));
  }

  @Test
  void mtimesOutsideTheOctalRangeAndLongLinkTargetsUsePax() throws IOException {
    String target = "t".repeat(150);
    byte[] t = tar(w -> w.write(TarEntry.symlink(TarPath.of("l"), target.getBytes(UTF_8), -86400)));
    String records = paxRecords(t);
    assertTrue(records.contains(" linkpath=" + target + "\n"));
    assertTrue(records.contains(" mtime=-86400\n"));
    TarArchiveEntry r = read(t, null).get(0);
    assertEquals(target, r.getLinkName());
    assertEquals(-86400L * 1000, r.getModTime().getTime());
  }

  @Test
  void contentThatIsShorterOrLongerThanTheHeaderSaysIsAnError() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TarWriter w = new TarWriter(out);
    TarWriter.ContentSizeMismatchException shorter = assertThrows(TarWriter.ContentSizeMismatchException.class,
        () -> w.write(TarEntry.file(TarPath.of("f"), 0644, 10, 0), new ByteArrayInputStream(new byte[4])));
    assertEquals("tar entry \"f\": content ends after 4 of 10 bytes (did the file change while packing?)",
        shorter.getMessage());
    assertThrows(IllegalStateException.class, () -> w.write(TarEntry.file(TarPath.of("g"), 0644, 0, 0)),
        "a half-written archive takes no more entries");

    TarWriter w2 = new TarWriter(new ByteArrayOutputStream());
    TarWriter.ContentSizeMismatchException longer = assertThrows(TarWriter.ContentSizeMismatchException.class,
        () -> w2.write(TarEntry.file(TarPath.of("f"), 0644, 3, 0), new ByteArrayInputStream(new byte[4])));
    assertTrue(longer.getMessage().contains("more than the 3 bytes"));
  }

  @Test
  void largeSizesGoToPaxAndTheUstarFieldIsZero() {
    long size = 9L << 30;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TarWriter w = new TarWriter(out);
    // Only the headers are of interest: the content is cut short on purpose.
    assertThrows(TarWriter.ContentSizeMismatchException.class,
        () -> w.write(TarEntry.file(TarPath.of("big"), 0644, size, 0), new ByteArrayInputStream(new byte[0])));
    byte[] t = out.toByteArray();
    assertTrue(paxRecords(t).contains(" size=" + size + "\n"));
    assertEquals("00000000000", field(t, 2, 124, 12));
  }

  @Test
  void splitUstarTakesTheLongestPrefixThatFits() {
    byte[][] s = TarWriter.splitUstar(("a/" + "b".repeat(99) + "/c").getBytes(UTF_8));
    assertEquals("a/" + "b".repeat(99), new String(s[0], UTF_8));
    assertEquals("c", new String(s[1], UTF_8));
    assertNull(TarWriter.splitUstar(("a/" + "b".repeat(101)).getBytes(UTF_8)));
    assertNull(TarWriter.splitUstar("x".repeat(101).getBytes(UTF_8)));
  }
}
