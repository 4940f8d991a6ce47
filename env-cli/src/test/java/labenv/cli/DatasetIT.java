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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code labenv dataset ...} end to end: the shaded jar as a separate process on a fresh store per test. */
class DatasetIT {
  @TempDir Path dir;

  Path home() {
    return dir.resolve("home");
  }

  CliProcessIT.Proc labenv(Object... args) throws Exception {
    return labenvIn(home(), args);
  }

  static CliProcessIT.Proc labenvIn(Path home, Object... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    for (Object a : args) {
      cmd.add(a.toString());
    }
    return CliProcessIT.exec(cmd, home);
  }

  JsonNode json(Object... args) throws Exception {
    CliProcessIT.Proc p = labenv(args);
    assertEquals(0, p.code(), p::toString);
    return new ObjectMapper().readTree(p.out());
  }

  JsonNode add(Object... args) throws Exception {
    List<Object> all = new ArrayList<>(List.of("dataset", "add", "--format", "json"));
    all.addAll(List.of(args));
    return json(all.toArray());
  }

  Path sample() throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("sub/deeper"));
    Files.createDirectories(src.resolve("empty"));
    Files.writeString(src.resolve("a.csv"), "id,x\n1,2\n3,4\n");
    Files.write(src.resolve("sub/blob.bin"), random(7, 3_000_000));
    Files.writeString(src.resolve("sub/deeper/run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(src.resolve("sub/deeper/run.sh"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.write(src.resolve("zero"), new byte[0]);
    Files.createSymbolicLink(src.resolve("link.csv"), Path.of("a.csv"));
    return src;
  }

  static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  long blobBytes(Path home) throws IOException {
    try (Stream<Path> s = Files.list(home.resolve("blobs/sha256"))) {
      return s.mapToLong(p -> p.toFile().length()).sum();
    }
  }

  static void assertSameTree(Path expected, Path actual) throws Exception {
    List<String> a = listing(expected);
    List<String> b = listing(actual);
    assertEquals(a, b);
  }

  static List<String> listing(Path root) throws Exception {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted().toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.add(rel + " -> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p)) {
          out.add(rel + "/");
        } else {
          out.add(rel + " " + Files.size(p) + " " + java.util.HexFormat.of().formatHex(
              java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))) + " "
              + (Files.isExecutable(p) ? "x" : "-"));
        }
      }
    }
    return out;
  }

  @Test
  void addListShowVerifyTagRemoveExport() throws Exception {
    Path src = sample();
    JsonNode added = add("data:v1", src);
    String digest = added.get("digest").asText();
    assertEquals("data:v1", added.get("name").asText());
    assertEquals(4, added.get("files").asLong());

    JsonNode ls = json("dataset", "ls", "--format", "json");
    assertEquals(2, ls.size(), ls::toString); // v1 and latest
    assertEquals("latest", ls.get(0).get("tag").asText());
    assertEquals("v1", ls.get(1).get("tag").asText());
    assertEquals(digest, ls.get(1).get("digest").asText());

    JsonNode show = json("dataset", "show", "--format", "json", "data:v1");
    assertEquals(digest, show.get("digest").asText());
    assertEquals(src.toRealPath().toString(), show.get("source").asText());
    assertTrue(show.get("created").asText().startsWith("20"), show::toString);
    List<String> paths = new ArrayList<>();
    show.get("entries").forEach(e -> paths.add(e.get("path").asText() + ":" + e.get("type").asText()));
    assertEquals(List.of("a.csv:file", "empty:dir", "link.csv:symlink", "sub:dir", "sub/blob.bin:file",
        "sub/deeper:dir", "sub/deeper/run.sh:file", "zero:file"), paths);
    assertTrue(show.get("disk").get("uniqueBytes").asLong() >= 3_000_000);
    CliProcessIT.Proc table = labenv("dataset", "show", "data");
    assertEquals(0, table.code(), table::toString);
    assertTrue(table.out().contains("sub/blob.bin") && table.out().contains(digest), table.out());

    // A short digest prefix resolves too; the default tag has the version's short digest.
    assertEquals(digest, json("dataset", "show", "--format", "json", digest.substring(7, 15)).get("digest").asText());
    JsonNode untagged = add("other", src);
    assertEquals("other:" + digest.substring(7, 19), untagged.get("name").asText());
    assertEquals(0, untagged.get("bytesStored").asLong(), "same content, nothing new to store");

    CliProcessIT.Proc verify = labenv("dataset", "verify", "data:v1");
    assertEquals(0, verify.code(), verify::toString);
    assertTrue(verify.out().contains("ok"), verify.out());

    assertEquals(0, labenv("dataset", "tag", "data:v1", "copy:x").code());
    assertEquals(digest, json("dataset", "show", "--format", "json", "copy:x").get("digest").asText());

    Path out = dir.resolve("out");
    CliProcessIT.Proc export = labenv("dataset", "export", "copy:x", out);
    assertEquals(0, export.code(), export::toString);
    assertSameTree(src, out);
    CliProcessIT.Proc again = labenv("dataset", "export", "copy:x", out);
    assertEquals(2, again.code(), again::toString);
    assertTrue(again.err().contains("not empty"), again.err());

    CliProcessIT.Proc rm = labenv("dataset", "rm", "copy:x");
    assertEquals(0, rm.code(), rm::toString);
    assertEquals("Untagged: copy:x\n", rm.out());
    CliProcessIT.Proc gone = labenv("dataset", "show", "copy:x");
    assertEquals(1, gone.code(), gone::toString);
    assertEquals(1, gone.err().lines().count(), gone.err());
    assertTrue(gone.err().contains("dataset \"copy:x\" not found"), gone.err());
  }

  /** Lines of a CSV, about 20 MB: an id, a few numbers, a word. */
  static List<String> csv(int rows) {
    Random r = new Random(11);
    List<String> out = new ArrayList<>(rows + 1);
    out.add("id,a,b,c,word");
    for (int i = 0; i < rows; i++) {
      out.add(i + "," + r.nextInt(1_000_000) + "," + r.nextDouble() + "," + r.nextLong() + ",w" + r.nextInt(5000));
    }
    return out;
  }

  @Test
  void anEditedRowOfALargeCsvStoresOnlyAFewChunksMore() throws Exception {
    List<String> rows = csv(345_000);
    Path v1 = dir.resolve("v1/table.csv");
    Files.createDirectories(v1.getParent());
    Files.write(v1, rows, StandardCharsets.UTF_8);
    long size = Files.size(v1);
    assertTrue(size > 20_000_000, "csv of " + size + " bytes");
    add("table:v1", v1.getParent());
    long before = blobBytes(home());

    rows.set(150_000, "150000,1,2.5,3,edited");
    Path v2 = dir.resolve("v2/table.csv");
    Files.createDirectories(v2.getParent());
    Files.write(v2, rows, StandardCharsets.UTF_8);
    JsonNode second = add("table:v2", v2.getParent());
    long grown = blobBytes(home()) - before;
    assertTrue(grown < 6L << 20, "the edited version added " + grown + " bytes to the store");
    assertTrue(second.get("bytesStored").asLong() < 6L << 20, second::toString);
    assertTrue(second.get("chunksStored").asInt() <= 2, second::toString);

    JsonNode show = json("dataset", "show", "--format", "json", "table:v2");
    assertTrue(show.get("disk").get("sharedBytes").asLong() > size - (6L << 20), show.get("disk")::toString);
  }

  @Test
  void reAddingAnUnchangedDirectoryReadsNothing() throws Exception {
    Path src = sample();
    // The stat cache trusts a file only once its ctime is over a second old (a write in the same clock tick
    // could keep its stat): age the files. Not a timed assertion, a precondition.
    Thread.sleep(1500);
    JsonNode first = add("d", src);
    assertEquals(first.get("bytes").asLong(), first.get("bytesHashed").asLong());
    JsonNode second = add("d", src);
    assertEquals(0, second.get("bytesHashed").asLong(), second::toString);
    assertEquals(first.get("digest"), second.get("digest"));
    JsonNode rehashed = add("--rehash", "d", src);
    assertEquals(first.get("bytes").asLong(), rehashed.get("bytesHashed").asLong(), rehashed::toString);
    assertEquals(first.get("digest"), rehashed.get("digest"));

    // Removed and pruned, the version's chunks are gone: the same unchanged source is stored again, whole.
    assertEquals(0, labenv("dataset", "rm", first.get("digest").asText()).code()); // every name of the version
    assertEquals(0, labenv("prune").code());
    JsonNode again = add("d", src);
    assertEquals(first.get("bytes").asLong(), again.get("bytesStored").asLong(), again::toString);
    assertEquals(first.get("digest"), again.get("digest"));
    assertEquals(0, labenv("dataset", "verify", "d").code());

    // A changed small file: the small files are read again (they are packed, and their stream is chunked as
    // one), the large one is not, and only the chunk that changed is stored.
    Files.writeString(src.resolve("a.csv"), "id,x\n1,2\n3,5\n");
    JsonNode changed = add("d", src);
    long small = Files.size(src.resolve("a.csv")) + Files.size(src.resolve("sub/deeper/run.sh"));
    assertEquals(small, changed.get("bytesHashed").asLong(), changed::toString);
    assertEquals(small, changed.get("bytesStored").asLong(), changed::toString);
    assertFalse(first.get("digest").equals(changed.get("digest")));

    // A changed large file is read again, and only it.
    Thread.sleep(1500);
    add("d", src);
    Files.write(src.resolve("sub/blob.bin"), random(8, 3_000_000));
    JsonNode large = add("d", src);
    assertEquals(3_000_000, large.get("bytesHashed").asLong(), large::toString);
  }

  @Test
  void verifyNamesTheFilesOfADamagedChunk() throws Exception {
    Path src = sample();
    add("d:1", src);
    // The small files, a.csv and sub/deeper/run.sh, are packed: one chunk holds both, in path order.
    String csvDigest = "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
        .digest((Files.readString(src.resolve("a.csv")) + Files.readString(src.resolve("sub/deeper/run.sh")))
            .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    Path blob = home().resolve("blobs/sha256/" + csvDigest.substring(7));
    assertTrue(Files.exists(blob), "the packed chunk " + csvDigest);
    blob.toFile().setWritable(true);
    try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) {
      f.seek(3);
      int b = f.read();
      f.seek(3);
      f.write(b ^ 1);
    }
    CliProcessIT.Proc verify = labenv("dataset", "verify");
    assertEquals(1, verify.code(), verify::toString);
    assertTrue(verify.err().contains("files affected: a.csv, sub/deeper/run.sh"), verify.err());
    assertTrue(verify.err().contains(csvDigest), verify.err());
    CliProcessIT.Proc export = labenv("dataset", "export", "d:1", dir.resolve("out"));
    assertEquals(1, export.code(), export::toString);
    assertTrue(export.err().contains("a.csv"), export.err());
    assertFalse(Files.exists(dir.resolve("out")), "a failed export leaves no directory");
  }

  @Test
  void saveAndLoadCarryADatasetIntoAFreshStore() throws Exception {
    Path src = sample();
    String digest = add("share/data:v1", src).get("digest").asText();
    Path archive = dir.resolve("data.tar");
    CliProcessIT.Proc save = labenv("save", "-o", archive, "--dataset", "share/data:v1");
    assertEquals(0, save.code(), save::toString);

    Path fresh = dir.resolve("fresh");
    CliProcessIT.Proc load = labenvIn(fresh, "load", "-i", archive);
    assertEquals(0, load.code(), load::toString);
    assertEquals("Loaded dataset: share/data:v1\n", load.out());
    CliProcessIT.Proc verify = labenvIn(fresh, "dataset", "verify", "share/data:v1");
    assertEquals(0, verify.code(), verify::toString);
    CliProcessIT.Proc images = labenvIn(fresh, "images", "-q");
    assertEquals("", images.out(), "a dataset is not an image");
    Path out = dir.resolve("out");
    assertEquals(0, labenvIn(fresh, "dataset", "export", "share/data:v1", out).code());
    assertSameTree(src, out);
    CliProcessIT.Proc show = labenvIn(fresh, "dataset", "show", "--format", "json", "share/data:v1");
    assertEquals(digest, new ObjectMapper().readTree(show.out()).get("digest").asText());
  }

  @Test
  void imagesAndDatasetsWithTheSameNameCoexist() throws Exception {
    Path rootfs = dir.resolve("rootfs");
    Files.createDirectories(rootfs.resolve("etc"));
    Files.writeString(rootfs.resolve("etc/hello"), "hi\n");
    CliProcessIT.Proc imp = labenv("import", rootfs, "same:1");
    assertEquals(0, imp.code(), imp::toString);
    Path src = sample();
    add("same:1", src);

    CliProcessIT.Proc images = labenv("images", "--format", "json");
    JsonNode list = new ObjectMapper().readTree(images.out());
    assertEquals(1, list.size(), images.out());
    assertEquals("same:1", list.get(0).get("names").get(0).asText());
    JsonNode ls = json("dataset", "ls", "--format", "json");
    assertEquals(2, ls.size());

    // Removing the image leaves the dataset, and prune keeps every chunk of it.
    CliProcessIT.Proc rmi = labenv("rmi", "same:1");
    assertEquals(0, rmi.code(), rmi::toString);
    CliProcessIT.Proc prune = labenv("prune");
    assertEquals(0, prune.code(), prune::toString);
    CliProcessIT.Proc verify = labenv("dataset", "verify", "same:1");
    assertEquals(0, verify.code(), verify::toString);

    // Tagging an image never takes a dataset's name, and the other way round.
    assertEquals(0, labenv("import", rootfs, "same:1").code());
    assertEquals(0, labenv("dataset", "verify", "same:1").code());
    assertEquals(0, labenv("dataset", "tag", "same:1", "same:2").code());
    assertEquals(1, new ObjectMapper().readTree(labenv("images", "--format", "json").out()).size());
    CliProcessIT.Proc inspect = labenv("inspect", "same:2");
    assertEquals(1, inspect.code(), "same:2 is a dataset, not an image: " + inspect);
  }

  @Test
  void pruneReclaimsWhatOnlyRemovedVersionsUsed() throws Exception {
    Path a = dir.resolve("a");
    Files.createDirectories(a);
    Files.write(a.resolve("x.bin"), random(1, 2_000_000));
    Path b = dir.resolve("b");
    Files.createDirectories(b);
    Files.write(b.resolve("y.bin"), random(2, 2_000_000));
    add("keep", a);
    add("drop:1", b);
    long before = blobBytes(home());
    assertEquals(0, labenv("dataset", "rm", "drop:1", "drop:latest").code());
    CliProcessIT.Proc prune = labenv("prune");
    assertEquals(0, prune.code(), prune::toString);
    assertTrue(before - blobBytes(home()) >= 2_000_000, "prune freed " + (before - blobBytes(home())));
    assertEquals(0, labenv("dataset", "verify").code());
  }

  @Test
  void badInputIsOneLineAndStoresNothing() throws Exception {
    Path src = sample();
    CliProcessIT.Proc missing = labenv("dataset", "add", "d", dir.resolve("nope"));
    assertEquals(2, missing.code(), missing::toString);
    assertTrue(missing.err().contains("nope: no such file or directory"), missing.err());

    CliProcessIT.Proc invalid = labenv("dataset", "add", "Bad_Name", src);
    assertEquals(2, invalid.code(), invalid::toString);
    assertTrue(invalid.err().contains("invalid dataset name \"Bad_Name\""), invalid.err());
    CliProcessIT.Proc badTag = labenv("dataset", "add", "d:-x", src);
    assertEquals(2, badTag.code(), badTag::toString);

    Path escaping = dir.resolve("escaping");
    Files.createDirectories(escaping);
    Files.createSymbolicLink(escaping.resolve("up"), Path.of("../../etc/passwd"));
    Files.createSymbolicLink(escaping.resolve("abs"), Path.of("/etc/passwd"));
    CliProcessIT.Proc links = labenv("dataset", "add", "d", escaping);
    assertEquals(2, links.code(), links::toString);
    assertTrue(links.err().contains("abs: symlink to absolute path") && links.err().contains("up: symlink to"),
        links.err());

    CliProcessIT.Proc unknown = labenv("dataset", "verify", "nothing:here");
    assertEquals(1, unknown.code(), unknown::toString);
    for (CliProcessIT.Proc p : List.of(missing, invalid, badTag, links, unknown)) {
      assertEquals(1, p.err().lines().count(), p.err());
    }
    assertEquals("[ ]", labenv("dataset", "ls", "--format", "json").out().trim());
  }

  @Test
  void unreadableFilesAreAllNamed() throws Exception {
    // As nobody, on a store nobody owns: the files root made unreadable are refused, every one of them.
    Path src = sample();
    Files.writeString(src.resolve("secret1"), "x");
    Files.writeString(src.resolve("sub/secret2"), "y");
    Files.setPosixFilePermissions(src.resolve("secret1"), java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
    Files.setPosixFilePermissions(src.resolve("sub/secret2"), java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
    Path nobodyHome = dir.resolve("nobody");
    Files.createDirectories(nobodyHome);
    for (Path p : List.of(dir, nobodyHome)) {
      Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    }
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "java", "-jar", RunIT.JAR.toString(), "dataset", "add", "d", src.toString()));
    CliProcessIT.Proc p = CliProcessIT.exec(cmd, nobodyHome);
    assertEquals(2, p.code(), p::toString);
    assertEquals(1, p.err().lines().count(), p.err());
    assertTrue(p.err().contains("secret1: permission denied") && p.err().contains("sub/secret2: permission denied"),
        p.err());
  }

  @Test
  void aDatasetOfOneFileAndAnEmptyOne() throws Exception {
    Path file = dir.resolve("only.csv");
    Files.writeString(file, "a,b\n1,2\n");
    add("one", file);
    Path out = dir.resolve("out");
    assertEquals(0, labenv("dataset", "export", "one", out).code());
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(out.resolve("only.csv")));
    Path empty = dir.resolve("empty");
    Files.createDirectories(empty);
    add("nothing", empty);
    assertEquals(0, labenv("dataset", "verify", "nothing").code());
  }
}
