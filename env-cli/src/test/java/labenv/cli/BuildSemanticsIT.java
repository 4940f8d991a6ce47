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
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dockerfile semantics of {@code labenv build}, end to end: each test builds a real Envfile over a busybox image
 * and checks what a user sees ({@code labenv run} output, {@code labenv inspect} config, exit codes, stderr) against
 * what the Dockerfile reference, BuildKit (dockerfile2llb/convert.go) and {@code podman build} do. Where BuildKit and
 * podman disagree the comment says which one labenv follows.
 */
class BuildSemanticsIT {
  @TempDir static Path shared;
  static Path home;
  @TempDir Path ctx;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("mkdir", "chmod", "chown", "stat", "rm", "seq", "env", "sort", "pwd", "ln",
        "wc", "test", "true", "printf", "tar", "gzip", "find", "head"));
    home = RunIT.home;
  }

  // ---------------------------------------------------------------- helpers

  static RunIT.Proc labenv(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString()));
    cmd.addAll(List.of(args));
    CliProcessIT.Proc p = CliProcessIT.exec(cmd, home);
    return new RunIT.Proc(p.code(), p.out(), p.err());
  }

  private void write(String name, String content) throws Exception {
    Path p = ctx.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  /** Builds ctx as {@code tag} (with {@code extra} options); the build must succeed. Returns its stderr. */
  private String build(String tag, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("build", "-t", tag));
    args.addAll(List.of(extra));
    args.add(ctx.toString());
    RunIT.Proc p = labenv(args.toArray(String[]::new));
    assertEquals(0, p.code(), p::toString);
    return p.err();
  }

  private static String sh(String image, String script) throws Exception {
    RunIT.Proc p = labenv("run", "--rm", image, "sh", "-c", script);
    assertEquals(0, p.code(), p::toString);
    return p.out();
  }

  private static JsonNode inspect(String image) throws Exception {
    RunIT.Proc p = labenv("inspect", image);
    assertEquals(0, p.code(), p::toString);
    return new ObjectMapper().readTree(p.out()).path("config");
  }

  // ---------------------------------------------------------------- ARG and ENV

  @Test
  void argDefaultsBuildArgsAndScope() throws Exception {
    write("Envfile", """
        ARG BASE=bb:1
        ARG META=meta-default
        FROM ${BASE} AS first
        ARG META
        ARG D=def
        ARG TARGETARCH
        ARG SECRET=not-in-config
        ENV FROM_ENV=env
        ARG FROM_ENV=arg-loses
        RUN mkdir /out && echo "META=$META D=$D ARCH=$TARGETARCH SECRET=$SECRET FROM_ENV=$FROM_ENV" > /out/first
        FROM first
        RUN echo "D=[$D] SECRET=[$SECRET] FROM_ENV=[$FROM_ENV] NEVER=[$NEVER_DECLARED]" > /out/second
        """);
    String err = build("args:1", "--build-arg", "D=cli", "--build-arg", "UNUSED=1");
    assertTrue(err.contains("warning: build-args not used by any ARG: UNUSED"), err);
    JsonNode config = inspect("args:1");
    String arch = config.path("architecture").asText();
    // ARG before FROM: used in FROM, and in a stage that declares it again; --build-arg beats a default; a
    // predefined platform ARG after "ARG TARGETARCH"; ENV beats an ARG of the same name even declared later (the
    // Dockerfile reference and podman; BuildKit lets an ARG after the ENV win in RUN).
    assertEquals("META=meta-default D=cli ARCH=" + arch + " SECRET=not-in-config FROM_ENV=env\n"
        // ARGs end with their stage, also for a stage FROM it (the reference and podman; BuildKit carries them over).
        + "D=[] SECRET=[] FROM_ENV=[env] NEVER=[]\n", sh("args:1", "cat /out/first /out/second"));
    // ARG values reach RUN but are not kept in the image; a base without PATH gets the default PATH (BuildKit).
    assertEquals("[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"FROM_ENV=env\"]",
        config.path("config").path("Env").toString(), config::toString);

    build("args:2", "--build-arg", "META=from-cli");
    assertTrue(sh("args:2", "cat /out/first").startsWith("META=from-cli D=def "));
  }

  /**
   * BuildKit and podman expand an ARG declared before FROM, used in a stage that does not declare it again, to the
   * empty string (BuildKit adds an UndefinedVar lint warning), so such Dockerfiles build. labenv refuses them on
   * purpose ("ARG V is declared before FROM, which makes it visible to FROM lines only"), reading issue 4's "an ARG
   * used before it is declared" as covering it. Debatable: left for the lead to decide.
   */
  /**
   * Stricter than BuildKit on purpose: BuildKit expands an ARG declared before FROM to "" inside a stage that did
   * not declare it again (with a lint warning), which silently builds the wrong thing; labenv says what to add.
   */
  @Test
  void aMetaArgUsedInAStageWithoutArgIsAnErrorThatSaysWhatToAdd() throws Exception {
    write("in.txt", "x\n");
    write("Envfile", "ARG V=1\nFROM bb:1\nCOPY in.txt /x$V\n");
    RunIT.Proc p = labenv("build", ctx.toString());
    assertEquals(2, p.code(), p::toString);
    assertTrue(p.err().contains("Envfile:3:") && p.err().contains("ARG V"), p::toString);
    write("Envfile", "ARG V=1\nFROM bb:1\nARG V\nCOPY in.txt /x$V\n");
    build("meta:1");
    assertEquals("x\n", sh("meta:1", "cat /x1"));
  }

  @Test
  void proxyBuildArgsReachRunWithoutAnArgAndStayOutOfImageAndCache() throws Exception {
    write("Envfile", "FROM bb:1\nRUN echo \"[$http_proxy][$NO_PROXY]\" > /proxy\n");
    String err = build("proxy:1", "--build-arg", "http_proxy=http://proxy.invalid:3128", "--build-arg",
        "NO_PROXY=localhost");
    assertFalse(err.contains("warning"), err);
    assertEquals("[http://proxy.invalid:3128][localhost]\n", sh("proxy:1", "cat /proxy"));
    assertFalse(inspect("proxy:1").path("config").path("Env").toString().contains("proxy"));
    // Docker's predefined proxy ARGs are not part of the cache key (BuildKit drops ProxyEnv from it).
    String other = build("proxy:2", "--build-arg", "http_proxy=http://other.invalid:8080");
    assertEquals(1, BuildIT.count(other, "cached"), other);
  }

  @Test
  void variablesExpandWithDefaultsInEveryInstructionThatTakesThem() throws Exception {
    write("src/f.txt", "hi\n");
    write("Envfile", """
        FROM bb:1
        ARG SRC
        ARG DIR
        ARG PORT
        ARG WHO
        ENV WHERE=${DIR:-/w}
        WORKDIR ${DIR:-/w}/sub
        COPY ${SRC:-src}/f.txt ${DIR:-/w}/copied.txt
        LABEL where=${DIR:-/w} empty=[${UNSET}]
        EXPOSE ${PORT:-8080}/udp ${PORT:-9}
        USER ${WHO:-alice}
        ENV a=1 b=$a
        ENV c=$a
        ENV LEGACY some value here
        ENV Q="x y" E=x\\ y S='$a'
        """);
    build("vars:1");
    JsonNode c = inspect("vars:1").path("config");
    assertEquals("/w/sub", c.path("WorkingDir").asText(), c::toString);
    assertEquals("alice", c.path("User").asText(), c::toString);
    assertEquals("{\"empty\":\"[]\",\"where\":\"/w\"}", c.path("Labels").toString(), c::toString);
    assertTrue(c.path("ExposedPorts").has("8080/udp") && c.path("ExposedPorts").has("9/tcp"), c::toString);
    // In one ENV, b sees the a from before the instruction (unset here); the next ENV sees a=1.
    assertEquals("[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"WHERE=/w\",\"a=1\",\"b=\","
        + "\"c=1\",\"LEGACY=some value here\",\"Q=x y\",\"E=x y\",\"S=$a\"]", c.path("Env").toString(), c::toString);
    assertEquals("hi\n", sh("vars:1", "cat /w/copied.txt"));

    build("vars:2", "--build-arg", "DIR=/d", "--build-arg", "WHO=0", "--build-arg", "PORT=7");
    JsonNode d = inspect("vars:2").path("config");
    assertEquals("/d/sub", d.path("WorkingDir").asText(), d::toString);
    assertEquals("0", d.path("User").asText(), d::toString);
    assertTrue(d.path("ExposedPorts").has("7/udp") && d.path("ExposedPorts").has("7/tcp"), d::toString);
    assertEquals("hi\n", sh("vars:2", "cat /d/copied.txt"));
  }

  // ---------------------------------------------------------------- CMD, ENTRYPOINT, SHELL

  @Test
  void entrypointResetsAnInheritedCmdButNotOneOfItsOwnStage() throws Exception {
    write("Envfile", """
        FROM bb:1 AS base
        CMD ["echo", "base-cmd"]
        FROM base AS child
        ENTRYPOINT ["echo", "ep"]
        FROM base AS same
        CMD ["echo", "same-cmd"]
        ENTRYPOINT ["echo", "ep2"]
        FROM bb:1 AS shell
        SHELL ["/bin/sh", "-e", "-c"]
        RUN case $- in *e*) echo errexit > /flags;; *) echo no > /flags;; esac
        CMD echo cmd-shell
        FROM shell AS last
        ENTRYPOINT echo entry-shell
        """);
    // BuildKit's dispatchEntrypoint: "if !d.cmd.IsSet { Cmd = nil }", IsSet per stage.
    String[][] expected = {
        {"base", "null", "[\"echo\",\"base-cmd\"]"},
        {"child", "[\"echo\",\"ep\"]", "null"},
        {"same", "[\"echo\",\"ep2\"]", "[\"echo\",\"same-cmd\"]"},
        {"shell", "null", "[\"/bin/sh\",\"-e\",\"-c\",\"echo cmd-shell\"]"},
        {"last", "[\"/bin/sh\",\"-e\",\"-c\",\"echo entry-shell\"]", "null"}};
    for (String[] e : expected) {
      build("ep:" + e[0], "--target", e[0]);
      JsonNode c = inspect("ep:" + e[0]).path("config");
      assertEquals(e[1], c.path("Entrypoint").isMissingNode() ? "null" : c.path("Entrypoint").toString(), e[0]);
      assertEquals(e[2], c.path("Cmd").isMissingNode() ? "null" : c.path("Cmd").toString(), e[0]);
    }
    // SHELL changes the shell of the RUN after it (BuildKit; podman ignores SHELL in OCI images).
    assertEquals("errexit\n", sh("ep:shell", "cat /flags"), "RUN ran with sh -e");
    RunIT.Proc run = labenv("run", "--rm", "ep:last");
    assertEquals("entry-shell\n", run.out(), run::toString);
  }

  // ---------------------------------------------------------------- WORKDIR and USER

  @Test
  void workdirChainsAndCreatesOnlyWhatIsMissingOwnedByUser() throws Exception {
    write("Envfile", """
        FROM bb:1
        RUN mkdir -m 1777 /tmp && mkdir -p /home/alice /real && chown alice:alice /home/alice \\
         && chmod 700 /home/alice && ln -s /real /link
        ENV APP=/app
        WORKDIR $APP
        WORKDIR a
        WORKDIR b/../c
        RUN pwd > /app/a/c/pwd
        WORKDIR /tmp/work
        WORKDIR /link/sub
        USER alice
        WORKDIR /home/alice/work/deep
        RUN touch mine && pwd > pwd
        USER 1000:50
        WORKDIR /srv/x
        """);
    build("wd:1");
    assertEquals("/srv/x", inspect("wd:1").path("config").path("WorkingDir").asText());
    // BuildKit: llb.Mkdir(wd, 0755, WithParents, WithUser(USER)); what exists keeps its mode and owner.
    assertEquals("""
        /app/a/c
        /home/alice/work/deep
        755 0:0 /app
        755 0:0 /app/a/c
        1777 0:0 /tmp
        755 0:0 /tmp/work
        700 1000:1000 /home/alice
        755 1000:1000 /home/alice/work
        644 1000:1000 /home/alice/work/deep/mine
        symbolic link /link
        755 0:0 /real/sub
        755 1000:50 /srv
        755 1000:50 /srv/x
        """, sh("wd:1", "cat /app/a/c/pwd /home/alice/work/deep/pwd; stat -c '%a %u:%g %n' /app /app/a/c /tmp"
        + " /tmp/work /home/alice /home/alice/work /home/alice/work/deep/mine; stat -c '%F %n' /link;"
        + " stat -c '%a %u:%g %n' /real/sub /srv /srv/x"));
  }

  @Test
  void theImageDoesNotDependOnTheUmaskOfWhoeverBuildsIt() throws Exception {
    write("f.txt", "f\n");
    write("Envfile", """
        FROM bb:1
        RUN mkdir -p /u/by-run && touch /u/by-run/file
        WORKDIR /w/by/workdir
        COPY f.txt /c/d/
        """);
    build("umask:022", "-q");
    String usual = labenv("inspect", "umask:022").out();
    CliProcessIT.Proc p = CliProcessIT.exec(List.of("sh", "-c", "umask 077; exec java -jar " + RunIT.JAR
        + " build -q --no-cache -t umask:077 " + ctx), home);
    assertEquals(0, p.code(), p::toString);
    assertEquals("755 /u/by-run\n644 /u/by-run/file\n755 /w/by/workdir\n",
        sh("umask:077", "stat -c '%a %n' /u/by-run /u/by-run/file /w/by/workdir"));
    assertEquals(new ObjectMapper().readTree(usual).path("digest"),
        new ObjectMapper().readTree(labenv("inspect", "umask:077").out()).path("digest"));
  }

  @Test
  void userRunsStepsOwnsTheirFilesAndChownChmodApply() throws Exception {
    write("f.txt", "f\n");
    write("d/g.txt", "g\n");
    write("d/sub/h.txt", "h\n");
    write("Envfile", """
        FROM bb:1
        RUN mkdir -p /o && chmod 777 /o
        USER alice
        RUN id > /o/id && touch /o/by-alice && mkdir /o/dir-alice && echo "HOME=$HOME" > /o/home
        USER 1000:50
        RUN touch /o/by-1000-50
        USER root
        COPY --chown=alice:staff f.txt /c/a.txt
        COPY --chown=1000 f.txt /c/b.txt
        COPY --chown=alice f.txt /c/c.txt
        COPY --chmod=0640 f.txt /c/d.txt
        COPY --chown=alice:staff --chmod=0600 d /c/dir/
        """);
    build("user:1");
    assertEquals("""
        uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)
        HOME=/home/alice
        644 1000:50 /o/by-1000-50
        644 1000:1000 /o/by-alice
        755 1000:1000 /o/dir-alice
        644 1000:50 /c/a.txt
        644 1000:1000 /c/b.txt
        644 1000:1000 /c/c.txt
        640 0:0 /c/d.txt
        600 1000:50 /c/dir/g.txt
        600 1000:50 /c/dir/sub
        600 1000:50 /c/dir/sub/h.txt
        """, sh("user:1", "cat /o/id /o/home; cd /o; stat -c '%a %u:%g %n' /o/by-* /o/dir-alice /c/*.txt"
        + " /c/dir/g.txt /c/dir/sub /c/dir/sub/h.txt"));
  }

  // ---------------------------------------------------------------- COPY and ADD

  @Test
  void copyAndAddSources() throws Exception {
    write("data/a.csv", "a\n");
    write("data/b.csv", "b\n");
    write("data/notes.txt", "n\n");
    write("data/sub/s.csv", "s\n");
    write("tarsrc/t/inner.txt", "t\n");
    write("my file.txt", "with space\n");
    write("private/p.txt", "p\n");
    Files.setPosixFilePermissions(ctx.resolve("private"), java.nio.file.attribute.PosixFilePermissions.fromString(
        "rwx------"));
    ProcessBuilder tar = new ProcessBuilder("tar", "-czf", "arch.tar.gz", "-C", "tarsrc", "t").directory(ctx.toFile());
    assertEquals(0, tar.start().waitFor());
    Files.createSymbolicLink(ctx.resolve("link.csv"), Path.of("data/a.csv"));
    Files.createSymbolicLink(ctx.resolve("linkdir"), Path.of("data"));
    write("Envfile", """
        FROM bb:1 AS first
        RUN mkdir -p /st/sub && echo from-stage0 > /st/f && chown 1000:50 /st/f /st/sub && chmod 4751 /st/f
        FROM bb:1
        COPY data/*.csv /glob/
        COPY data/a.csv data/notes.txt /multi/
        COPY data /contents
        COPY arch.tar.gz /add/
        ADD arch.tar.gz /added/
        COPY --from=0 /st/f /from0
        COPY --from=first /st /from-first
        COPY --from=bb:1 /etc/group /from-image-group
        COPY link.csv /link-followed
        COPY linkdir /linkdir-followed
        COPY link.csv linkdir /links/
        COPY ["my file.txt", "/sp ace/"]
        COPY private /priv
        """);
    build("copy:1");
    assertEquals("""
        /add/arch.tar.gz
        /added/t/inner.txt
        /contents/a.csv
        /contents/b.csv
        /contents/notes.txt
        /contents/sub/s.csv
        /glob/a.csv
        /glob/b.csv
        /linkdir-followed/a.csv
        /linkdir-followed/b.csv
        /linkdir-followed/notes.txt
        /linkdir-followed/sub/s.csv
        /links/a.csv
        /links/b.csv
        /links/link.csv
        /links/notes.txt
        /links/sub/s.csv
        /multi/a.csv
        /multi/notes.txt
        /sp ace/my file.txt
        a
        regular file /link-followed
        from-stage0
        root:x:0:
        4751 1000:50 /from0
        4751 1000:50 /from-first/f
        755 1000:50 /from-first/sub
        755 0:0 /priv
        """, sh("copy:1", "find /add /added /contents /glob /linkdir-followed /links /multi '/sp ace' -type f | sort;"
        + " cat /link-followed; stat -c '%F %n' /link-followed; cat /from0; head -1 /from-image-group;"
        + " stat -c '%a %u:%g %n' /from0 /from-first/f /from-first/sub /priv"));
  }

  @Test
  void ignoreFilesWithExceptionsAndLabenvignoreFirst() throws Exception {
    write("secret-1", "s\n");
    write("secret-ok-1", "ok\n");
    write("plain", "p\n");
    write(".dockerignore", "secret*\n!secret-ok*\nEnvfile\n.dockerignore\n");
    write("Envfile", "FROM bb:1\nCOPY . /ctx/\n");
    build("ign:1");
    assertEquals("plain\nsecret-ok-1\n", sh("ign:1", "ls -A /ctx"));
    // .labenvignore, when there is one, is read instead of .dockerignore.
    write(".labenvignore", "plain\n.*ignore\n");
    build("ign:2");
    assertEquals("Envfile\nsecret-1\nsecret-ok-1\n", sh("ign:2", "ls -A /ctx"));
  }

  // ---------------------------------------------------------------- RUN

  @Test
  void runFormsHeredocsAndWhatADeletionLeaves() throws Exception {
    StringBuilder padding = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      padding.append("# padding so the script is longer than a shell's read buffer: line ").append(i).append('\n');
    }
    write("Envfile", """
        FROM bb:1
        RUN ["sh", "-c", "mkdir -p /r/old /r/gone && echo 1 > /r/old/keep && echo 2 > /r/gone/x && echo 3 > /r/file && echo exec $0 > /r/exec"]
        RUN <<EOF
        #!/bin/sh -e
        echo "shebang $0 $#" > /r/shebang
        cat > /r/stdin
        PADDING
        echo after > /r/after
        EOF
        RUN <<EOF
        echo line1 > /r/multi
        echo line2 >> /r/multi
        EOF
        RUN cat <<EOF > /r/catted
        hello $(hostname)
        EOF
        RUN rm /r/file && rm -rf /r/gone && rm -rf /r/old && mkdir /r/old && echo new > /r/old/new
        RUN echo sp > "/r/a b.txt" && mkdir "/r/d i r" && echo in > "/r/d i r/f g"
        """.replace("PADDING\n", padding));
    build("run:1");
    assertEquals("""
        /r/a b.txt
        /r/after
        /r/catted
        /r/d i r/f g
        /r/exec
        /r/multi
        /r/old/new
        /r/shebang
        /r/stdin
        exec sh
        shebang /dev/pipes/EOF 0
        0 /r/stdin
        line1
        line2
        hello labenv-build
        new
        sp
        in
        """, sh("run:1", "find /r -type f | sort; cat /r/exec /r/shebang; wc -c /r/stdin; cat /r/multi /r/catted"
        + " /r/old/new '/r/a b.txt' '/r/d i r/f g'"));
  }

  // ---------------------------------------------------------------- cache

  @Test
  void cacheFollowsInputsNotIgnoredFiles() throws Exception {
    write(".dockerignore", "ignored.txt\nEnvfile\n");
    write("ignored.txt", "1\n");
    write("kept.txt", "k\n");
    write("Envfile", "FROM bb:1\nCOPY . /ctx/\nENV MODE=a\nRUN echo $MODE > /mode\n");
    String first = build("cache:1");
    assertEquals(0, BuildIT.count(first, "cached"), first);

    write("ignored.txt", "2\n");
    String ignored = build("cache:2");
    assertEquals(2, BuildIT.count(ignored, "cached"), "an ignored file changed: COPY . and RUN stay cached\n" + ignored);

    write("Envfile", "FROM bb:1\nCOPY . /ctx/\nENV MODE=b\nRUN echo $MODE > /mode\n");
    String env = build("cache:3");
    assertEquals(1, BuildIT.count(env, "cached"), "ENV changed: COPY cached, RUN reruns\n" + env);
    assertEquals("b\n", sh("cache:3", "cat /mode"));

    String noCache = build("cache:4", "--no-cache");
    assertEquals(0, BuildIT.count(noCache, "cached"), noCache);
    assertEquals(inspect("cache:3").path("rootfs"), inspect("cache:4").path("rootfs"));
  }

  // ---------------------------------------------------------------- bad input

  /** One bad Envfile: the exit code, the line the one "labenv:" message names, and words it contains. */
  private record Bad(String envfile, int code, int line, String words) {}

  @Test
  void badInputIsOneLineNamingFileAndLineAndLeavesNothingBehind() throws Exception {
    write("in.txt", "x\n");
    List<Bad> cases = List.of(
        new Bad("FROM bb:1\nRUN <<EOF\necho never ends\n", 2, 2, "heredoc"),
        new Bad("FROM bb:1\nWORKDIR \"/unterminated\n", 2, 2, "\""),
        new Bad("FROM bb:1\nRUN echo ok\nFROBNICATE x\n", 2, 3, "unknown instruction"),
        new Bad("FROM bb:1\nCOPY --frob=1 in.txt /x\n", 2, 2, "--frob"),
        new Bad("FROM bb:1\nCOPY ../outside.txt /x\n", 2, 2, "outside the build context"),
        new Bad("FROM bb:1\nCOPY missing.txt /x\n", 2, 2, "missing.txt"),
        new Bad("FROM bb:1\nCOPY in.txt in.txt /notdir\n", 2, 2, "end with a /"),
        new Bad("FROM bb:1 AS a\nCOPY --from=b /x /x\nFROM bb:1 AS b\nCOPY --from=a /x /x\n", 2, 2, "cycle"),
        new Bad("FROM c AS a\nFROM a AS c\n", 2, 1, "cycle"),
        new Bad("FROM bb:1\nWORKDIR /$DIR\nARG DIR=x\n", 2, 2, "DIR is used before it is declared"),
        new Bad("FROM bb:1\nENV X=${Y:?must_be_set}\n", 2, 2, "must_be_set"),
        new Bad("FROM bb:1\nRUN echo step one ok > /ok\nRUN echo last words; exit 3\n", 1, 3, "exit code 3"));
    Path work = home.resolve("build");
    Files.createDirectories(work);
    for (Bad b : cases) {
      write("Envfile", b.envfile());
      RunIT.Proc p = labenv("build", "-q", ctx.toString());
      String what = b.envfile() + " => " + p;
      assertEquals(b.code(), p.code(), what);
      List<String> messages = p.err().lines().filter(l -> l.startsWith("labenv:")).toList();
      assertEquals(1, messages.size(), what);
      assertTrue(messages.get(0).startsWith("labenv: Envfile:" + b.line() + ": "), what);
      assertEquals(1, BuildIT.count(messages.get(0), "Envfile:"), what);
      assertTrue(messages.get(0).contains(b.words()), what);
      assertFalse(p.err().contains("Exception") || p.err().contains("\tat "), what);
      if (b.code() == 2) {
        assertEquals(1, p.err().strip().lines().count(), what);
      } else {
        // A failed RUN: with -q its last output lines, then the one message.
        assertTrue(p.err().startsWith("last words\n"), what);
        assertTrue(p.err().strip().endsWith(messages.get(0)), what);
      }
      assertEquals("", RunIT.mountsUnder(home), what);
      try (Stream<Path> left = Files.list(work)) {
        assertEquals(List.of(), left.toList(), what);
      }
    }
    // The step before the failed one stays cached.
    write("Envfile", "FROM bb:1\nRUN echo step one ok > /ok\nRUN cat /ok\n");
    String fixed = build("fixed:1");
    assertEquals(1, BuildIT.count(fixed, "cached"), fixed);
    assertNotEquals("", sh("fixed:1", "cat /ok"));
  }
}
