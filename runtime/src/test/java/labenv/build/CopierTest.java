package labenv.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.layer.TreeSnapshot;
import labenv.linux.Libc;
import labenv.linux.Syscalls;
import labenv.tar.RawTar;
import labenv.tar.TarPath;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * COPY and ADD on real trees: a context directory (with a .dockerignore where a test needs one), a parent image
 * root, and a staging directory whose files, modes, owners and times are what the layer will carry. Owner checks
 * need root (the JVM runs as root here).
 */
class CopierTest {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

  @TempDir Path tmp;
  private Path ctx;
  private Path parent;
  private Path staging;

  @BeforeEach
  void dirs() throws IOException {
    ctx = Files.createDirectory(tmp.resolve("ctx"));
    parent = Files.createDirectory(tmp.resolve("parent"));
    staging = Files.createDirectory(tmp.resolve("staging"));
  }

  // --- helpers

  private static Path write(Path base, String rel, String content) throws IOException {
    Path p = base.resolve(rel);
    Files.createDirectories(p.getParent());
    return Files.writeString(p, content);
  }

  private CopySource context() {
    return BuildContext.open(ctx, null).source();
  }

  private static CopyRequest copy(String dest, String... sources) {
    return CopyRequest.copy(List.of(sources), dest, 0);
  }

  private static CopyRequest add(String dest, String... sources) {
    return new CopyRequest(true, List.of(sources), dest, null, null, null, Map.of(), 0);
  }

  private void run(CopyRequest req) {
    Copier.copy(context(), req, parent, staging);
  }

  private LabenvException fails(CopyRequest req) {
    LabenvException e = assertThrows(LabenvException.class, () -> run(req));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    LabenvException d = assertThrows(LabenvException.class, () -> Copier.digest(context(), req));
    assertEquals(e.getMessage(), d.getMessage(), "digest and copy select the same way");
    return e;
  }

  /** A failure that depends on the parent image, which the digest does not read. */
  private LabenvException copyFails(CopyRequest req) {
    LabenvException e = assertThrows(LabenvException.class, () -> run(req));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    return e;
  }

  private Digest digest(CopyRequest req) {
    return Copier.digest(context(), req);
  }

  private static int attr(Path p, String name) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:" + name, NOFOLLOW);
  }

  private static int mode(Path p) throws IOException {
    return attr(p, "mode") & 07777;
  }

  private static String owner(Path p) throws IOException {
    return attr(p, "uid") + ":" + attr(p, "gid");
  }

  private static long mtime(Path p) throws IOException {
    return Files.getLastModifiedTime(p, NOFOLLOW).toMillis() / 1000;
  }

  /** The staged tree as sorted relative paths ("d/" for directories). */
  private TreeMap<String, String> staged() throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(staging)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (p.equals(staging)) {
          continue;
        }
        String rel = staging.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.put(rel, "-> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, NOFOLLOW)) {
          out.put(rel + "/", "");
        } else {
          out.put(rel, Files.readString(p));
        }
      }
    }
    return out;
  }

  private static void requireRoot() {
    assumeTrue(Syscalls.isRoot(), "owners can only be set as root");
  }

  // --- digest

  @Test
  void digestFollowsContentAndModesNotTimesOrOwners() throws IOException {
    Path a = write(ctx, "app/a.txt", "hello\n");
    write(ctx, "app/sub/b", "b\n");
    CopyRequest req = copy("/app/", "app");
    Digest d0 = digest(req);
    assertEquals(d0, digest(req), "stable");

    Files.setLastModifiedTime(a, FileTime.fromMillis(12_345_000));
    Files.setLastModifiedTime(ctx.resolve("app/sub"), FileTime.fromMillis(99_000));
    assertEquals(d0, digest(req), "mtimes are not inputs");
    if (Syscalls.isRoot()) {
      Files.setAttribute(a, "unix:uid", 1000);
      assertEquals(d0, digest(req), "owners of context files are not inputs");
    }
    Files.setPosixFilePermissions(a, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertNotEquals(d0, digest(req), "modes are");
    Files.setPosixFilePermissions(a, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    assertEquals(d0, digest(req));
    Files.writeString(a, "hellO\n");
    assertNotEquals(d0, digest(req), "content is");
    Files.writeString(a, "hello\n");
    assertEquals(d0, digest(req));
    write(ctx, "app/sub/new", "");
    assertNotEquals(d0, digest(req), "a new file is");
    Files.delete(ctx.resolve("app/sub/new"));
    Files.createSymbolicLink(ctx.resolve("app/l"), Path.of("a.txt"));
    Digest withLink = digest(req);
    assertNotEquals(d0, withLink, "a symlink is");
    Files.delete(ctx.resolve("app/l"));
    Files.createSymbolicLink(ctx.resolve("app/l"), Path.of("sub/b"));
    assertNotEquals(withLink, digest(req), "a symlink's target is");
    Files.delete(ctx.resolve("app/l"));
    assertEquals(d0, digest(req));

    assertNotEquals(d0, digest(copy("/other/", "app")), "the destination is");
    assertNotEquals(d0, digest(new CopyRequest(false, List.of("app"), "/app/", 1, 1, null, Map.of(), 0)), "--chown");
    assertNotEquals(d0, digest(new CopyRequest(false, List.of("app"), "/app/", null, null, 0700, Map.of(), 0)));
    assertNotEquals(d0, digest(new CopyRequest(true, List.of("app"), "/app/", null, null, null, Map.of(), 0)));
    assertNotEquals(d0, digest(CopyRequest.copy(List.of("app"), "/app/", 1)), "the source date epoch is");
    assertNotEquals(d0, digest(copy("/app/", "./app")), "sources are as written");
  }

  @Test
  void ignoredFilesAreInvisible() throws IOException {
    Files.writeString(ctx.resolve(".dockerignore"), "secret\n*.log\ndata\n!data/keep.csv\n");
    write(ctx, "app.py", "print()\n");
    write(ctx, "secret", "token\n");
    write(ctx, "x.log", "log\n");
    write(ctx, "data/keep.csv", "a,b\n");
    write(ctx, "data/big.bin", "0000\n");
    write(ctx, "data/sub/deep.log", "deep\n");

    run(copy("/app/", "."));
    assertEquals(new TreeMap<>(Map.of("app/", "", "app/.dockerignore", "secret\n*.log\ndata\n!data/keep.csv\n",
        "app/app.py", "print()\n", "app/data/", "", "app/data/keep.csv", "a,b\n")), staged());

    Digest d0 = digest(copy("/app/", "."));
    Files.writeString(ctx.resolve("x.log"), "changed\n");
    Files.writeString(ctx.resolve("data/big.bin"), "changed\n");
    assertEquals(d0, digest(copy("/app/", ".")), "ignored files are not inputs");
    Files.writeString(ctx.resolve("data/keep.csv"), "changed\n");
    assertNotEquals(d0, digest(copy("/app/", ".")), "a re-included file is");

    assertEquals("COPY source secret not found in the build context (excluded by .dockerignore)",
        fails(copy("/x", "secret")).getMessage());
    fails(copy("/x", "data/big.bin"));
    assertEquals("COPY source *.log matches no files in the build context", fails(copy("/x/", "*.log")).getMessage());
    Files.createSymbolicLink(ctx.resolve("to-secret"), Path.of("secret"));
    fails(copy("/x", "to-secret"));
  }

  @Test
  void globsMatchPerComponentAndNeedADirectoryForMany() throws IOException {
    write(ctx, "a.txt", "a");
    write(ctx, "b.txt", "b");
    write(ctx, "c.md", "c");
    write(ctx, "sub/d.txt", "d");
    write(ctx, "sub/deeper/e.txt", "e");
    run(copy("/out/", "*.txt", "*/*.txt"));
    assertEquals(new TreeMap<>(Map.of("out/", "", "out/a.txt", "a", "out/b.txt", "b", "out/d.txt", "d")), staged());

    assertEquals("When using COPY with more than one source file, the destination must be a directory and end with"
        + " a / (/file)", copyFails(copy("/file", "*.txt")).getMessage());
    copyFails(copy("/file", "a.txt", "c.md"));
    run(copy("/single", "c.*"));
    assertEquals("c", Files.readString(staging.resolve("single")), "one match may name the destination file");
    assertEquals("COPY source *.none matches no files in the build context",
        fails(copy("/x/", "*.none")).getMessage());
    assertEquals("COPY source [x: syntax error in pattern", fails(copy("/x/", "[x")).getMessage());
  }

  @Test
  void destinationRules() throws IOException {
    requireRoot();
    write(ctx, "src/x", "x");
    write(ctx, "src/y/z", "z");
    Path opt = Files.createDirectory(parent.resolve("opt"));
    Files.setPosixFilePermissions(opt, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-x---"));
    Files.setAttribute(opt, "unix:uid", 7);
    Files.setAttribute(opt, "unix:gid", 8);
    Files.createSymbolicLink(parent.resolve("lnk"), Path.of("/opt"));

    run(copy("/app", "src"));
    run(copy("/app/renamed", "src/x"));
    run(copy("/app/", "src/x"));
    run(copy("/opt", "src/x"));
    run(copy("/lnk", "src/y/z"));
    assertEquals(new TreeMap<>(Map.of("app/", "", "app/x", "x", "app/y/", "", "app/y/z", "z", "app/renamed", "x",
        "opt/", "", "opt/x", "x", "opt/z", "z")), staged(), "a directory copies its contents; an existing directory"
        + " of the parent (through its symlinks) takes the file under its own name");
    assertEquals(0750, mode(staging.resolve("opt")), "the parent's directory keeps its mode");
    assertEquals("7:8", owner(staging.resolve("opt")), "and its owner");

    Files.writeString(parent.resolve("afile"), "");
    assertEquals("COPY src: destination /afile is a file in the parent image, not a directory",
        copyFails(copy("/afile", "src")).getMessage());
    Files.createDirectory(parent.resolve("adir"));
    Files.createDirectory(parent.resolve("adir/x"));
    assertEquals("cannot copy file src/x to /adir/x: that is a directory in the parent image",
        copyFails(copy("/adir/", "src/x")).getMessage());
  }

  @Test
  void createdDirectoriesGetTheChownOwnerAndTheChmodAppliesToFilesAndDirectories() throws IOException {
    requireRoot();
    write(ctx, "tree/f", "f");
    write(ctx, "tree/d/g", "g");
    Files.createSymbolicLink(ctx.resolve("tree/l"), Path.of("f"));
    Files.setPosixFilePermissions(ctx.resolve("tree/f"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectory(parent.resolve("a"));

    Copier.copy(context(), new CopyRequest(false, List.of("tree/f"), "/a/b/c/file", 1234, 5678, null, Map.of(),
        1000), parent, staging);
    assertEquals("0:0", owner(staging.resolve("a")), "the parent's directory keeps its owner");
    assertEquals(0755, mode(staging.resolve("a/b")));
    assertEquals("1234:5678", owner(staging.resolve("a/b")), "created directories get the --chown owner");
    assertEquals("1234:5678", owner(staging.resolve("a/b/c")));
    assertEquals(0755, mode(staging.resolve("a/b/c/file")), "modes are the source's without --chmod");
    assertEquals("1234:5678", owner(staging.resolve("a/b/c/file")));
    assertEquals(1000, mtime(staging.resolve("a/b/c/file")));
    assertEquals(1000, mtime(staging.resolve("a/b")), "directories get the source date epoch too");

    Copier.copy(context(), new CopyRequest(false, List.of("tree"), "/t/", 1, 2, 0640, Map.of(), 77), parent,
        staging);
    assertEquals(0640, mode(staging.resolve("t/f")));
    assertEquals(0640, mode(staging.resolve("t/d")), "--chmod applies to copied directories");
    assertEquals(0640, mode(staging.resolve("t")), "and to the destination directory a directory source creates");
    assertEquals("1:2", owner(staging.resolve("t/d/g")));
    assertEquals("1:2", owner(staging.resolve("t/l")), "symlinks are chowned too");
    assertEquals(77, mtime(staging.resolve("t/l")));
    assertEquals(77, mtime(staging.resolve("t/d")));
    assertEquals(77, mtime(staging.resolve("t")));

    Copier.copy(context(), copy("/u/", "tree/f"), parent, staging);
    assertEquals("0:0", owner(staging.resolve("u/f")), "without --chown, files are 0:0 whoever owns the source");
  }

  @Test
  void symlinksResolveInsideTheRootAndAreCopiedAsSymlinksInsideDirectories() throws IOException {
    write(ctx, "etc/hostfile", "inside the context\n");
    Files.createSymbolicLink(ctx.resolve("abs"), Path.of("/etc/hostfile"));
    Files.createSymbolicLink(ctx.resolve("up"), Path.of("../../../../etc/hostfile"));
    Files.createDirectory(ctx.resolve("dir"));
    Files.createSymbolicLink(ctx.resolve("dir/rel"), Path.of("../etc/hostfile"));
    Files.createSymbolicLink(ctx.resolve("linkdir"), Path.of("/etc"));
    Files.createSymbolicLink(ctx.resolve("nowhere"), Path.of("/definitely/not/here"));

    run(copy("/x", "abs"));
    run(copy("/y", "up"));
    run(copy("/z", "linkdir/hostfile"));
    run(copy("/d", "dir"));
    run(copy("/e/", "linkdir"));
    assertEquals("inside the context\n", Files.readString(staging.resolve("x")), "an absolute symlink stays inside");
    assertEquals("inside the context\n", Files.readString(staging.resolve("y")), "\"..\" stops at the root");
    assertEquals("inside the context\n", Files.readString(staging.resolve("z")));
    assertTrue(Files.isSymbolicLink(staging.resolve("d/rel")));
    assertEquals(Path.of("../etc/hostfile"), Files.readSymbolicLink(staging.resolve("d/rel")));
    assertEquals("inside the context\n", Files.readString(staging.resolve("e/hostfile")),
        "a symlink to a directory copies the directory's contents");
    assertEquals("COPY source nowhere not found in the build context", fails(copy("/n", "nowhere")).getMessage());
  }

  @Test
  void sourcesCannotLeaveTheContext() throws IOException {
    write(ctx, "x", "x");
    assertEquals("COPY source ../x is outside the build context", fails(copy("/x", "../x")).getMessage());
    assertEquals("COPY source a/../../x is outside the build context", fails(copy("/x", "a/../../x")).getMessage());
    run(copy("/x", "a/../x"));
    run(copy("/y", "/x"));
    assertEquals("x", Files.readString(staging.resolve("x")));
    assertEquals("x", Files.readString(staging.resolve("y")), "a leading / is the context's root");
  }

  @Test
  void heredocsAreFiles() throws IOException {
    CopyRequest req = new CopyRequest(false, List.of("<<EOF"), "/etc/motd", null, null, null,
        Map.of("EOF", "hello\n"), 0);
    run(req);
    assertEquals("hello\n", Files.readString(staging.resolve("etc/motd")));
    assertEquals(0644, mode(staging.resolve("etc/motd")));
    Digest d = digest(req);
    assertNotEquals(d, digest(new CopyRequest(false, List.of("<<EOF"), "/etc/motd", null, null, null,
        Map.of("EOF", "hello!\n"), 0)), "the heredoc's content is an input");
    run(new CopyRequest(false, List.of("<<run.sh", "<<b"), "/bin/", null, null, 0755,
        Map.of("run.sh", "#!/bin/sh\n", "b", ""), 0));
    assertEquals(0755, mode(staging.resolve("bin/run.sh")));
    assertEquals("", Files.readString(staging.resolve("bin/b")));
  }

  @Test
  void fromAStageNothingIsIgnoredAndSymlinksStayInItsRoot() throws IOException {
    Path stage = Files.createDirectory(tmp.resolve("stage"));
    write(stage, "usr/bin/tool", "#!tool\n");
    Files.createSymbolicLink(stage.resolve("bin"), Path.of("usr/bin"));
    Files.createSymbolicLink(stage.resolve("abs"), Path.of("/usr/bin/tool"));
    write(stage, ".dockerignore", "*\n");
    CopySource src = CopySource.stage(stage, "builder");
    Copier.copy(src, copy("/t1", "bin/tool"), parent, staging);
    Copier.copy(src, copy("/t2", "abs"), parent, staging);
    assertEquals("#!tool\n", Files.readString(staging.resolve("t1")));
    assertEquals("#!tool\n", Files.readString(staging.resolve("t2")));
    LabenvException e = assertThrows(LabenvException.class, () -> Copier.copy(src, copy("/x", "nope"), parent,
        staging));
    assertEquals("COPY source nope not found in stage builder", e.getMessage());
  }

  @Test
  void specialFiles() throws IOException {
    write(ctx, "dir/f", "f");
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(ctx.resolve("dir/sock")));
      run(copy("/d", "dir"));
      assertEquals(new TreeMap<>(Map.of("d/", "", "d/f", "f")), staged(), "sockets are skipped");
      Libc.mknodat(Libc.AT_FDCWD, Syscalls.cstr(ctx.resolve("dir/fifo").toString()), Libc.S_IFIFO | 0644, 0);
      assertEquals("\"dir/fifo\" in the build context is a fifo; only files, directories and symlinks can be copied",
          fails(copy("/d", "dir")).getMessage());
      assertEquals("COPY source dir/fifo: \"dir/fifo\" in the build context is a fifo; only files, directories and"
          + " symlinks can be copied", fails(copy("/d", "dir/fifo")).getMessage());
    }
  }

  // --- ADD

  private static byte[] tarball() {
    RawTar t = new RawTar();
    t.add(new RawTar.Header().name("pkg/").type('5').mode(0750).uid(33).gid(44));
    byte[] a = "AAA\n".getBytes(StandardCharsets.UTF_8);
    t.add(new RawTar.Header().name("pkg/a").mode(04755).uid(33).gid(44).size(a.length).mtime(5000), a);
    t.add(new RawTar.Header().name("pkg/l").type('2').link("a").uid(33).gid(44));
    t.add(new RawTar.Header().name("pkg/.wh.gone").size(0));
    return t.end();
  }

  private static byte[] compress(byte[] data, String how) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = how.equals("gzip") ? new GZIPOutputStream(bytes) : new ZstdOutputStream(bytes)) {
      out.write(data);
    }
    return bytes.toByteArray();
  }

  @Test
  void addExtractsLocalArchivesRecognisedByContent() throws IOException {
    requireRoot();
    Files.write(ctx.resolve("pkg.tar.gz"), compress(tarball(), "gzip"));
    Files.write(ctx.resolve("blob.bin"), compress(tarball(), "zstd"));
    Files.write(ctx.resolve("plain.tar"), tarball());
    Files.write(ctx.resolve("notes.gz"), compress("just text\n".getBytes(StandardCharsets.UTF_8), "gzip"));

    run(add("/opt", "pkg.tar.gz"));
    assertEquals("AAA\n", Files.readString(staging.resolve("opt/pkg/a")));
    assertEquals(04755, mode(staging.resolve("opt/pkg/a")), "the archive's modes are kept");
    assertEquals("33:44", owner(staging.resolve("opt/pkg/a")), "and its owners without --chown");
    assertEquals(5000, mtime(staging.resolve("opt/pkg/a")), "and its times");
    assertEquals(0750, mode(staging.resolve("opt/pkg")));
    assertEquals(Path.of("a"), Files.readSymbolicLink(staging.resolve("opt/pkg/l")));

    run(new CopyRequest(true, List.of("blob.bin", "plain.tar"), "/z/", 1, 2, null, Map.of(), 0));
    assertEquals("AAA\n", Files.readString(staging.resolve("z/pkg/a")), "zstd, whatever the name");
    assertEquals("1:2", owner(staging.resolve("z/pkg/a")), "--chown gives extracted files its owner");
    assertEquals(04755, mode(staging.resolve("z/pkg/a")), "keeping setuid bits that chown clears");
    assertEquals("1:2", owner(staging.resolve("z/pkg/l")));

    run(add("/n/", "notes.gz"));
    assertArrayEquals(Files.readAllBytes(ctx.resolve("notes.gz")), Files.readAllBytes(staging.resolve("n/notes.gz")),
        "a compressed file that is not a tar is copied as it is");
    run(copy("/c/", "pkg.tar.gz"));
    assertTrue(Files.isRegularFile(staging.resolve("c/pkg.tar.gz")), "COPY never extracts");
    try (Stream<Path> s = Files.list(staging)) {
      assertEquals(Set.of("opt", "z", "n", "c"), s.map(p -> p.getFileName().toString())
          .collect(java.util.stream.Collectors.toSet()), "no temporary directory is left");
    }
  }

  @Test
  void hostileArchivesAreRefusedAndWriteNothingOutside() throws IOException {
    Files.createDirectories(tmp.resolve("canary"));
    Files.writeString(tmp.resolve("canary/file"), "host\n");
    Files.write(ctx.resolve("dotdot.tar"), new RawTar().file("../../canary/file", "pwned\n").end());
    Files.write(ctx.resolve("abs.tar"), new RawTar().file(tmp.resolve("canary/file").toString(), "pwned\n").end());
    RawTar viaLink = new RawTar();
    viaLink.add(new RawTar.Header().name("up").type('2').link(tmp.resolve("canary").toString()));
    viaLink.file("up/file", "pwned\n");
    Files.write(ctx.resolve("link.tgz"), compress(viaLink.end(), "gzip"));
    TreeMap<TarPath, String> before = TreeSnapshot.of(tmp, TreeSnapshot.Fields.all(), Set.of("staging"));

    for (String name : List.of("dotdot.tar", "abs.tar", "link.tgz")) {
      LabenvException e = assertThrows(LabenvException.class, () -> run(add("/x/", name)));
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
      assertTrue(e.getMessage().startsWith("ADD " + name + ": unsafe archive: entry "), e.getMessage());
      assertFalse(e.getMessage().contains("\n"));
      try (Stream<Path> s = Files.list(staging)) {
        assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".labenv-add-")), "temp dir removed");
      }
    }
    assertEquals(before, TreeSnapshot.of(tmp, TreeSnapshot.Fields.all(), Set.of("staging")),
        "nothing outside the staging tree changed");
    assertEquals("host\n", Files.readString(tmp.resolve("canary/file")));
  }

  @Test
  void addOfAUrlIsRefused() {
    assertEquals("ADD of a URL is not supported; use RUN with curl/wget (https://example.com/x.tgz)",
        fails(add("/x", "https://example.com/x.tgz")).getMessage());
    assertTrue(fails(add("/x", "git@github.com:o/r.git")).getMessage().startsWith("ADD of a URL is not supported"));
  }

  // --- stat cache

  @Test
  void statCacheSkipsRehashingUnchangedFilesAndIsRevalidatedByTheirStat() throws Exception {
    Path cacheDir = tmp.resolve("cache");
    Path big = write(ctx, "data.bin", "content that would be 200 MB\n");
    CopyRequest req = copy("/d/", "data.bin");
    Digest truth = digest(req);

    assertEquals(truth, Copier.digest(context(), req, cacheDir));
    assertEquals(0, StatCache.load(cacheDir).size(), "a file changed within the last second is not remembered");

    Thread.sleep(1100); // age the file's ctime past the racy window
    assertEquals(truth, Copier.digest(context(), req, cacheDir));
    assertEquals(1, StatCache.load(cacheDir).size(), "now it is");

    // Plant a wrong hash under the file's key: a digest that uses it proves the file was not read.
    StatCache cache = StatCache.load(cacheDir);
    int fd = Libc.open(Syscalls.cstr(big.toString()), Libc.O_RDONLY, 0);
    StatCache.Key key;
    try {
      key = StatCache.keyOf(fd);
    } finally {
      Syscalls.close(fd);
    }
    cache.put(key, key, System.currentTimeMillis() * 1_000_000L, new byte[32]);
    cache.save();
    assertNotEquals(truth, Copier.digest(context(), req, cacheDir), "hit: the remembered hash was used");

    Files.setLastModifiedTime(big, FileTime.fromMillis(1_000));
    assertEquals(truth, Copier.digest(context(), req, cacheDir), "miss after the file's stat changed: rehashed");
  }

  @Test
  void aCorruptStatCacheIsIgnoredAndReplaced() throws Exception {
    Path cacheDir = Files.createDirectory(tmp.resolve("cache"));
    write(ctx, "f", "data\n");
    CopyRequest req = copy("/d/", "f");
    Digest truth = digest(req);
    Thread.sleep(1100);
    for (byte[] junk : List.of(new byte[0], "garbage".getBytes(StandardCharsets.UTF_8), new byte[4096])) {
      Files.write(cacheDir.resolve(StatCache.FILE_NAME), junk);
      assertEquals(truth, Copier.digest(context(), req, cacheDir));
      assertEquals(1, StatCache.load(cacheDir).size(), "rewritten whole");
    }
    byte[] good = Files.readAllBytes(cacheDir.resolve(StatCache.FILE_NAME));
    good[20] ^= 1; // one flipped bit: the checksum no longer matches
    Files.write(cacheDir.resolve(StatCache.FILE_NAME), good);
    assertEquals(0, StatCache.load(cacheDir).size());
    assertEquals(truth, Copier.digest(context(), req, cacheDir));
  }

  // --- --chown and --chmod

  @Test
  void chownNamesResolveThroughTheImagesPasswdAndGroup() throws IOException {
    write(parent, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
    write(parent, "etc/group", "root:x:0:\nstaff:x:50:app\n");
    assertArrayEquals(new int[] {1000, 1001}, Copier.resolveChown("app", parent), "the user's primary group");
    assertArrayEquals(new int[] {1000, 50}, Copier.resolveChown("app:staff", parent));
    assertArrayEquals(new int[] {1000, 7}, Copier.resolveChown("app:7", parent));
    assertArrayEquals(new int[] {42, 42}, Copier.resolveChown("42", parent), "a bare uid is also the gid");
    assertArrayEquals(new int[] {42, 50}, Copier.resolveChown("42:staff", parent));
    assertArrayEquals(new int[] {0, 50}, Copier.resolveChown(":staff", parent));
    LabenvException e = assertThrows(LabenvException.class, () -> Copier.resolveChown("nobody", parent));
    assertEquals("--chown=nobody: no user \"nobody\" in the image's /etc/passwd", e.getMessage());
    assertEquals(2, e.exitCode());
    e = assertThrows(LabenvException.class, () -> Copier.resolveChown("app:wheel", parent));
    assertEquals("--chown=app:wheel: no group \"wheel\" in the image's /etc/group", e.getMessage());
    e = assertThrows(LabenvException.class, () -> Copier.resolveChown("app", tmp.resolve("staging")));
    assertEquals("--chown=app: no user \"app\" in the image's /etc/passwd (the image has no /etc/passwd)",
        e.getMessage());
  }

  @Test
  void chmodIsOctal() {
    assertEquals(0755, Copier.parseChmod("755"));
    assertEquals(0644, Copier.parseChmod("0644"));
    assertEquals(04755, Copier.parseChmod("4755"));
    for (String bad : List.of("u+x", "999", "17777", "", "0x1ff")) {
      LabenvException e = assertThrows(LabenvException.class, () -> Copier.parseChmod(bad));
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
      assertTrue(e.getMessage().startsWith("--chmod=" + bad + ": not an octal mode"), e.getMessage());
    }
  }
}
