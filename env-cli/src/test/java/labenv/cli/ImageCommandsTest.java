package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image verbs as a user meets them: real store, real files, output and exit codes. */
class ImageCommandsTest {
  @TempDir Path tmp;
  Cli cli;
  Path rootfs;

  @BeforeEach
  void setUp() throws IOException {
    cli = new Cli(tmp.resolve("home"));
    rootfs = tmp.resolve("rootfs");
    makeTree(rootfs, 1_000_000_000L);
  }

  static void makeTree(Path dir, long mtimeSeconds) throws IOException {
    Files.createDirectories(dir.resolve("etc"));
    Files.createDirectories(dir.resolve("data/raw"));
    Files.writeString(dir.resolve("etc/motd"), "hello\n");
    Files.writeString(dir.resolve("data/raw/table.csv"), "id,value\n1,2.5\n2,3.5\n");
    Files.createSymbolicLink(dir.resolve("data/latest.csv"), Path.of("raw/table.csv"));
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        if (!Files.isSymbolicLink(p)) {
          Files.setLastModifiedTime(p, FileTime.fromMillis(mtimeSeconds * 1000));
        }
      }
    }
  }

  private String importOk(Path source, String name) {
    var r = cli.run("import", source.toString(), name);
    assertEquals(0, r.exitCode(), r::toString);
    return r.out().trim();
  }

  private JsonNode json(String text) throws IOException {
    return new ObjectMapper().readTree(text);
  }

  @Test
  void importingTheSameTreeTwiceGivesTheSameDigestWhateverTheFileTimes() throws IOException {
    String first = importOk(rootfs, "analysis:1");
    Path other = tmp.resolve("other");
    makeTree(other, 1_700_000_000L);
    String second = importOk(other, "analysis:2");
    assertTrue(first.matches("sha256:[0-9a-f]{64}"), first);
    assertEquals(first, second);
  }

  @Test
  void imagesListsNamesAndDigestsAsATableAndAsJson() throws IOException {
    String digest = importOk(rootfs, "analysis:1");
    var table = cli.run("images");
    assertEquals(0, table.exitCode(), table::toString);
    assertTrue(table.out().lines().anyMatch(l -> l.matches("analysis\\s+1\\s+" + digest.substring(7, 19) + "\\s+.*")),
        table::toString);
    var list = json(cli.run("images", "--format", "json").out());
    assertEquals(1, list.size());
    assertEquals(digest, list.get(0).get("digest").asText());
    assertEquals("analysis:1", list.get(0).get("names").get(0).asText());
  }

  @Test
  void inspectShowsTheManifestDigestConfigAndLayersWithDiffIds() throws IOException {
    String digest = importOk(rootfs, "analysis:1");
    var r = cli.run("inspect", "analysis:1");
    assertEquals(0, r.exitCode(), r::toString);
    JsonNode j = json(r.out());
    assertEquals(digest, j.get("digest").asText());
    assertEquals("linux", j.get("config").get("os").asText());
    JsonNode layer = j.get("layers").get(0);
    assertEquals(j.get("config").get("rootfs").get("diff_ids").get(0).asText(), layer.get("diffId").asText());
    assertEquals(j.get("manifest").get("layers").get(0).get("digest").asText(), layer.get("digest").asText());
    assertTrue(layer.get("size").asLong() > 0);
    // By unique prefix and by full digest, the same image.
    assertEquals(digest, json(cli.run("inspect", digest.substring(7, 14)).out()).get("digest").asText());
    assertEquals(digest, json(cli.run("inspect", digest).out()).get("digest").asText());
  }

  @Test
  void tagRmiAndPruneWorkLikeDockers() throws IOException {
    String digest = importOk(rootfs, "analysis:1");
    assertEquals(0, cli.run("tag", "analysis:1", "shared/analysis:v2").exitCode());
    assertEquals(2, json(cli.run("images", "--format", "json").out()).get(0).get("names").size());

    var untag = cli.run("rmi", "analysis:1");
    assertEquals(0, untag.exitCode(), untag::toString);
    assertEquals("Untagged: analysis:1\n", untag.out());
    var rmi = cli.run("rmi", "shared/analysis:v2");
    assertTrue(rmi.out().contains("Untagged: shared/analysis:v2"), rmi::toString);
    assertTrue(rmi.out().contains("Deleted: " + digest), rmi::toString);
    assertEquals(0, json(cli.run("images", "--format", "json").out()).size());
    var prune = cli.run("prune");
    assertEquals(0, prune.exitCode(), prune::toString);
    assertTrue(prune.out().contains("Deleted 0 blobs"), prune::toString);
    var missing = cli.run("rmi", "analysis:1");
    assertEquals(1, missing.exitCode());
    assertEquals("labenv: rmi analysis:1: image \"analysis:1\" not found\n", missing.err());
  }

  @Test
  void fsckFindsAFlippedByteAndNamesTheBlob() throws IOException {
    importOk(rootfs, "analysis:1");
    assertEquals(0, cli.run("fsck").exitCode());
    JsonNode j = json(cli.run("inspect", "analysis:1").out());
    String layer = j.get("layers").get(0).get("digest").asText();
    Path blob = cli.home.resolve("blobs/sha256/" + layer.substring(7));
    blob.toFile().setWritable(true);
    try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) {
      f.seek(f.length() / 2);
      int b = f.read();
      f.seek(f.length() / 2);
      f.write(b ^ 0xff);
    }
    var r = cli.run("fsck");
    assertEquals(1, r.exitCode(), r::toString);
    assertTrue(r.out().contains(layer), r::toString);
    assertTrue(r.out().contains("digest mismatch"), r::toString);
    var unpack = cli.run("unpack", "analysis:1", tmp.resolve("out").toString());
    assertEquals(1, unpack.exitCode(), unpack::toString);
    assertFalse(Files.exists(tmp.resolve("out")), "a failed unpack leaves no directory");
    assertTrue(unpack.err().startsWith("labenv: ") && unpack.err().lines().count() == 1, unpack::toString);
  }

  @Test
  void unpackGivesBackTheFilesThatWereImported() throws IOException {
    importOk(rootfs, "analysis:1");
    Path out = tmp.resolve("out");
    var r = cli.run("unpack", "analysis:1", out.toString());
    assertEquals(0, r.exitCode(), r::toString);
    assertEquals(snapshot(rootfs), snapshot(out));
  }

  @Test
  void saveAndLoadRoundTripKeepsTheDigestInBothFormats() throws IOException {
    String digest = importOk(rootfs, "analysis:1");
    Path oci = tmp.resolve("a.tar");
    Path docker = tmp.resolve("d.tar");
    assertEquals(0, cli.run("save", "-o", oci.toString(), "analysis:1").exitCode());
    assertEquals(0, cli.run("save", "--format", "docker", "-o", docker.toString(), "analysis:1").exitCode());
    String configDigest = json(cli.run("inspect", "analysis:1").out()).get("configDigest").asText();

    Cli other = new Cli(tmp.resolve("home2"));
    var loaded = other.run("load", "-i", oci.toString());
    assertEquals(0, loaded.exitCode(), loaded::toString);
    assertEquals("Loaded image: analysis:1\n", loaded.out());
    assertEquals(digest, json(other.run("inspect", "analysis:1").out()).get("digest").asText());

    Cli third = new Cli(tmp.resolve("home3"));
    assertEquals(0, third.run("load", "-i", docker.toString()).exitCode());
    assertEquals(configDigest, json(third.run("inspect", "analysis:1").out()).get("configDigest").asText());
  }

  @Test
  void badInputIsOneLineExitTwoAndTheStoreIsUnchanged() throws IOException {
    importOk(rootfs, "analysis:1");
    TreeMap<String, String> before = snapshot(cli.home);
    Path garbage = tmp.resolve("garbage.tar");
    Files.write(garbage, "this is not an archive at all".repeat(100).getBytes(StandardCharsets.UTF_8));
    List<Cli.Result> results = new ArrayList<>();
    results.add(cli.run("load", "-i", garbage.toString()));
    results.add(cli.run("import", rootfs.toString(), "Not_A/Valid:Name!"));
    results.add(cli.run("tag", "analysis:1", "UPPER:case"));
    results.add(cli.run("import", "--compression", "lz4", rootfs.toString(), "x:1"));
    results.add(cli.run("save", "--format", "tarball", "-o", tmp.resolve("x.tar").toString(), "analysis:1"));
    for (Cli.Result r : results) {
      assertEquals(2, r.exitCode(), r::toString);
      assertTrue(r.err().startsWith("labenv: "), r::toString);
      assertEquals(1, r.err().lines().count(), r::toString);
      assertFalse(r.err().contains("Exception"), r::toString);
    }
    assertEquals(before, snapshot(cli.home));
  }

  @Test
  void aMissingImageIsAFailedOperationNamingIt() {
    var r = cli.run("inspect", "nothing:here");
    assertEquals(1, r.exitCode());
    assertEquals("labenv: image \"nothing:here\" not found\n", r.err());
  }

  /** Every path under {@code dir} with its type, mode and content hash (locks excluded: they are not data). */
  static TreeMap<String, String> snapshot(Path dir) throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        String rel = dir.relativize(p).toString();
        if (rel.startsWith("locks")) {
          continue;
        }
        String v;
        if (Files.isSymbolicLink(p)) {
          v = "link " + Files.readSymbolicLink(p);
        } else if (Files.isDirectory(p)) {
          v = "dir " + Files.getPosixFilePermissions(p);
        } else {
          v = "file " + Files.getPosixFilePermissions(p) + " "
              + labenv.image.Digest.of(Files.readAllBytes(p));
        }
        out.put(rel, v);
      }
    }
    return out;
  }

  @Test
  void snapshotSeesContent() throws IOException {
    TreeMap<String, String> a = snapshot(rootfs);
    Files.writeString(rootfs.resolve("etc/motd"), "changed\n");
    assertFalse(a.equals(snapshot(rootfs)));
    assertArrayEquals(new byte[0], new byte[0]);
  }
}
