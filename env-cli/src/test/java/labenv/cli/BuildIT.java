package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code labenv build} end to end: real Envfiles, real RUN containers, the real cache, over a busybox image. */
class BuildIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path ctx;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("mkdir", "wc", "chmod", "stat", "rm", "false", "tail", "seq"));
    home = RunIT.home;
  }

  static RunIT.Proc labenv(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    cmd.addAll(List.of(args));
    CliProcessIT.Proc p = CliProcessIT.exec(cmd, home);
    return new RunIT.Proc(p.code(), p.out(), p.err());
  }

  static JsonNode build(Path dir, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("build", "--format", "json"));
    args.addAll(List.of(extra));
    args.add(dir.toString());
    RunIT.Proc p = labenv(args.toArray(String[]::new));
    assertEquals(0, p.code(), p::toString);
    return new ObjectMapper().readTree(p.out());
  }

  private void write(String name, String content) throws Exception {
    Path p = ctx.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  @Test
  void buildsRunsAndRebuildsFromTheCache() throws Exception {
    write("Envfile", """
        FROM bb:1
        ARG GREETING=hello
        ENV APP_HOME=/app
        WORKDIR $APP_HOME
        COPY data/ ./data/
        RUN echo "$GREETING from $APP_HOME" > /app/greeting \\
         && cat data/a.txt >> /app/greeting
        COPY code.sh /app/
        CMD ["sh", "/app/code.sh"]
        """);
    write("data/a.txt", "line a\n");
    write("code.sh", "cat /app/greeting\n");
    JsonNode first = build(ctx, "-t", "analysis:1");
    assertEquals(0, first.get("cached").asInt(), first::toString);

    RunIT.Proc run = labenv("run", "--rm", "analysis:1");
    assertEquals(0, run.code(), run::toString);
    assertEquals("hello from /app\nline a\n", run.out());

    // Unchanged: nothing runs, same digest.
    RunIT.Proc again = labenv("build", "-t", "analysis:1", ctx.toString());
    assertEquals(0, again.code(), again::toString);
    assertEquals(first.get("digest").asText(), again.out().trim());
    assertEquals(4, count(again.err(), "cached"), again::toString); // WORKDIR, COPY, RUN, COPY

    // mtime only: still cached (the key is content, not time).
    Files.setLastModifiedTime(ctx.resolve("code.sh"), java.nio.file.attribute.FileTime.fromMillis(12345));
    assertEquals(first.get("digest").asText(), build(ctx).get("digest").asText());

    // The last COPY's source changes: only it reruns.
    write("code.sh", "echo changed; cat /app/greeting\n");
    RunIT.Proc changed = labenv("build", "-t", "analysis:2", ctx.toString());
    assertEquals(0, changed.code(), changed::toString);
    assertEquals(3, count(changed.err(), "cached"), changed::toString);
    assertNotEquals(first.get("digest").asText(), changed.out().trim());

    // A build-arg changes the RUN (and what follows) but not what comes before it.
    RunIT.Proc arg = labenv("build", "-t", "analysis:3", "--build-arg", "GREETING=hi", ctx.toString());
    assertEquals(0, arg.code(), arg::toString);
    assertEquals(2, count(arg.err(), "cached"), arg::toString);
    RunIT.Proc run3 = labenv("run", "--rm", "analysis:3");
    assertEquals("changed\nhi from /app\nline a\n", run3.out(), run3::toString);
  }

  /** How many times {@code word} occurs in {@code s} (steps the cache answered print "cached"). */
  static int count(String s, String word) {
    int n = 0;
    for (int i = s.indexOf(word); i >= 0; i = s.indexOf(word, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void twoBuildsFromNothingGiveTheSameDigest() throws Exception {
    write("Envfile", """
        FROM bb:1
        RUN mkdir -p /out && echo $SOURCE_DATE_EPOCH > /out/epoch && touch /out/stamp
        COPY f /out/f
        LABEL org.example.kind=test
        """);
    write("f", "x\n");
    String a = build(ctx, "--no-cache").get("digest").asText();
    String b = build(ctx, "--no-cache").get("digest").asText();
    assertEquals(a, b);
    RunIT.Proc check = labenv("build", "--check", "-t", "checked:1", ctx.toString());
    assertEquals(0, check.code(), check::toString);
    assertTrue(check.err().contains("reproducible"), check::toString);
    assertEquals(a, check.out().trim());
    String other = build(ctx, "--no-cache", "--source-date-epoch", "1700000000").get("digest").asText();
    assertNotEquals(a, other);
  }

  @Test
  void checkListsTheFilesThatDiffer() throws Exception {
    // /proc/sys/kernel/random/uuid differs on every read: the build is not reproducible, and --check says where.
    write("Envfile", """
        FROM bb:1
        RUN mkdir /out && cat /proc/sys/kernel/random/uuid > /out/id && echo same > /out/same
        """);
    RunIT.Proc check = labenv("build", "--check", ctx.toString());
    assertEquals(1, check.code(), check::toString);
    assertTrue(check.err().contains("not reproducible"), check::toString);
    assertTrue(check.err().contains("out/id"), check::toString);
    assertTrue(check.err().contains("/out/id: content differs"), check::toString);
    assertFalse(check.err().contains("/out/same:"), check::toString);
  }

  @Test
  void aFailingRunShowsItsLastLinesAndKeepsTheStepsBefore() throws Exception {
    write("Envfile", """
        FROM bb:1
        RUN echo prepared > /prepared
        RUN seq 1 30; echo about to fail; exit 3
        """);
    RunIT.Proc p = labenv("build", "-q", ctx.toString());
    assertEquals(1, p.code(), p::toString);
    assertTrue(p.err().contains("Envfile:3: RUN failed with exit code 3"), p::toString);
    assertTrue(p.err().contains("about to fail"), p::toString);
    assertFalse(p.err().contains("\n5\n"), "only the last lines: " + p);
    assertFalse(p.err().contains("Exception"), p::toString);

    write("Envfile", """
        FROM bb:1
        RUN echo prepared > /prepared
        RUN cat /prepared
        """);
    RunIT.Proc fixed = labenv("build", ctx.toString());
    assertEquals(0, fixed.code(), fixed::toString);
    assertEquals(1, count(fixed.err(), "cached"), fixed::toString);
  }

  @Test
  void badEnvfilesAreOneLineWithFileAndLine() throws Exception {
    write("Envfile", "FROM bb:1\nRUN echo ok\nFROBNICATE x\n");
    RunIT.Proc p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
    assertTrue(p.err().startsWith("labenv: Envfile:3:"), p::toString);
    assertEquals(1, p.err().strip().lines().count(), p::toString);

    write("Envfile", "FROM debian:bookworm\n");
    p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
    assertTrue(p.err().contains("Envfile:1:") && p.err().contains("labenv bootstrap debian:bookworm"), p::toString);

    write("Envfile", "FROM bb:1\nCOPY missing.txt /x\n");
    p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
    assertTrue(p.err().contains("Envfile:2:"), p::toString);

    write("Envfile", "FROM bb:1\nCOPY ../outside /x\n");
    p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
    assertTrue(p.err().contains("Envfile:2:"), p::toString);

    write("Envfile", "FROM bb:1\nWORKDIR /$DIR\nARG DIR=x\n");
    p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
    assertTrue(p.err().contains("Envfile:2:") && p.err().contains("DIR"), p::toString);

    write("Envfile", "FROM a AS a\nFROM bb:1 AS b\nCOPY --from=c /x /x\nFROM b AS c\nCOPY --from=b /x /y\n"
        + "COPY --from=c /x /z\n");
    p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
  }

  @Test
  void multiStageCopiesFromAnEarlierStageAndTargetsStopEarly() throws Exception {
    String base = new ObjectMapper().readTree(labenv("inspect", "bb:1").out()).path("digest").asText();
    write("Envfile", ("""
        FROM bb@BASE AS builder
        RUN mkdir /out && echo built > /out/artifact
        FROM bb:1 AS unused
        RUN exit 7
        FROM bb:1
        COPY --from=builder /out/artifact /artifact
        CMD ["cat", "/artifact"]
        """).replace("BASE", base));
    build(ctx, "-t", "multi:1");
    RunIT.Proc run = labenv("run", "--rm", "multi:1");
    assertEquals("built\n", run.out(), run::toString);
    build(ctx, "-t", "multi:builder", "--target", "builder");
    RunIT.Proc ls = labenv("run", "--rm", "multi:builder", "cat", "/out/artifact");
    assertEquals("built\n", ls.out(), ls::toString);
  }

  @Test
  void ignoreFilesHeredocsAndConfig() throws Exception {
    write(".dockerignore", "secret*\n");
    write("secret.txt", "do not ship\n");
    write("kept.txt", "kept\n");
    write("Envfile", """
        FROM bb:1
        COPY . /ctx/
        COPY <<EOF /etc/motd
        welcome $NAME
        EOF
        RUN <<EOF
        echo from heredoc > /heredoc
        EOF
        ENV NAME=world
        USER 1000:1000
        EXPOSE 8888
        VOLUME /data
        STOPSIGNAL SIGINT
        HEALTHCHECK --interval=30s CMD cat /heredoc
        ENTRYPOINT ["sh", "-c"]
        """);
    build(ctx, "-t", "cfg:1");
    RunIT.Proc ls = labenv("run", "--rm", "cfg:1", "ls /ctx; cat /heredoc /etc/motd; id -u");
    assertEquals(0, ls.code(), ls::toString);
    assertEquals("Envfile\nkept.txt\nfrom heredoc\nwelcome \n1000\n", ls.out(), ls::toString);
    RunIT.Proc inspect = labenv("inspect", "cfg:1");
    JsonNode config = new ObjectMapper().readTree(inspect.out()).path("config").path("config");
    assertEquals("SIGINT", config.path("StopSignal").asText(), inspect::toString);
    assertTrue(config.path("ExposedPorts").has("8888/tcp"), inspect::toString);
    assertTrue(config.path("Volumes").has("/data"), inspect::toString);
    assertEquals("[\"CMD-SHELL\",\"cat /heredoc\"]", config.path("Healthcheck").path("Test").toString(), inspect::toString);
    assertEquals(30_000_000_000L, config.path("Healthcheck").path("Interval").asLong(), inspect::toString);
  }

  @Test
  void runNetworkNoneHasOnlyLoopback() throws Exception {
    write("Envfile", """
        FROM bb:1
        RUN ls /sys/class/net > /default-net
        RUN --network=none ls /sys/class/net > /none-net
        RUN cat /etc/resolv.conf > /resolv
        """);
    build(ctx, "-t", "net:1");
    RunIT.Proc p = labenv("run", "--rm", "net:1", "cat", "/none-net");
    assertEquals("lo\n", p.out(), p::toString);
    RunIT.Proc d = labenv("run", "--rm", "net:1", "cat", "/default-net");
    assertNotEquals("lo\n", d.out(), d::toString);
    RunIT.Proc resolv = labenv("run", "--rm", "net:1", "cat", "/resolv");
    assertEquals(Files.readString(Path.of("/etc/resolv.conf")), resolv.out(), "RUN sees the host's resolv.conf");
    RunIT.Proc leftover = labenv("run", "--rm", "net:1", "ls", "/etc");
    assertFalse(leftover.out().contains("resolv.conf"), "the mount point is not part of the image: " + leftover);
  }

  @Test
  void untaggedBuildsAreKeptByDigestAndPruneClearsTheCache() throws Exception {
    write("Envfile", "FROM bb:1\nRUN echo pruned > /p\n");
    String digest = build(ctx).get("digest").asText();
    RunIT.Proc images = labenv("images");
    assertTrue(images.out().contains("<none>"), images::toString);
    RunIT.Proc run = labenv("run", "--rm", digest, "cat", "/p");
    assertEquals("pruned\n", run.out(), run::toString);
    assertEquals(1, build(ctx).get("cached").asInt());
    RunIT.Proc prune = labenv("prune");
    assertEquals(0, prune.code(), prune::toString);
    assertTrue(prune.out().contains("build cache entries"), prune::toString);
    assertEquals(0, build(ctx).get("cached").asInt());
  }

  @Test
  void pruneCleansUpAfterAKilledBuild() throws Exception {
    write("Envfile", "FROM bb:1\nRUN echo started > /started; sleep 60\n");
    ProcessBuilder pb = new ProcessBuilder("setsid", "java", "-jar", RunIT.JAR.toString(), "build", "-q",
        ctx.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("LABENV_HOME", home.toString());
    Process build = pb.start();
    Path work = home.resolve("build");
    // Wait (boundedly) until the RUN container is up: its overlay is mounted under <store>/build.
    for (int i = 0; i < 300 && !RunIT.mountsUnder(work).contains("merged"); i++) {
      Thread.sleep(100);
    }
    assertTrue(RunIT.mountsUnder(work).contains("merged"), "the RUN step never started");
    new ProcessBuilder("kill", "-KILL", "--", "-" + build.pid()).start().waitFor();
    build.waitFor();
    RunIT.Proc prune = labenv("prune", "--keep-build-cache");
    assertEquals(0, prune.code(), prune::toString);
    assertTrue(prune.out().contains("directories of interrupted builds"), prune::toString);
    assertEquals("", RunIT.mountsUnder(work));
    try (var left = Files.list(work)) {
      assertEquals(0, left.count());
    }
  }

  @Test
  void asAnOrdinaryUserBuildSaysItNeedsRootBeforeDoingAnything() throws Exception {
    write("Envfile", "FROM bb:1\nRUN true\n");
    Files.setPosixFilePermissions(ctx, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path userHome = ctx.resolve("store");
    CliProcessIT.Proc p = CliProcessIT.exec(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "java", "-jar", RunIT.JAR.toString(), "build", ctx.toString()), userHome);
    assertEquals(1, p.code(), p::toString);
    assertTrue(p.err().contains("needs root"), p::toString);
    assertEquals(1, p.err().strip().lines().count(), p::toString);
  }

  @Test
  void layersCanBeZstdOrUncompressed() throws Exception {
    write("Envfile", "FROM bb:1\nRUN echo z > /z\n");
    build(ctx, "-t", "comp:zstd", "--compression", "zstd");
    build(ctx, "-t", "comp:none", "--compression", "none");
    JsonNode zstd = new ObjectMapper().readTree(labenv("inspect", "comp:zstd").out()).path("layers");
    JsonNode none = new ObjectMapper().readTree(labenv("inspect", "comp:none").out()).path("layers");
    assertEquals("application/vnd.oci.image.layer.v1.tar+zstd", zstd.get(1).path("mediaType").asText(), zstd::toString);
    assertEquals("application/vnd.oci.image.layer.v1.tar", none.get(1).path("mediaType").asText(), none::toString);
    assertEquals(zstd.get(1).path("diffId"), none.get(1).path("diffId"), "the same files either way");
    RunIT.Proc p = labenv("run", "--rm", "comp:zstd", "cat", "/z");
    assertEquals("z\n", p.out(), p::toString);
  }
}
