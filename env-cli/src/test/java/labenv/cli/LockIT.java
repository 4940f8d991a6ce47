package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labenv lock} and {@code labenv build --locked} as users run them, on busybox images made with
 * {@code labenv bootstrap busybox}: the lock file, a build that matches it, drift that fails with a report and moves
 * no tag, and MAVEN jars pinned by sha256 and built again without the network.
 */
class LockIT {
  @TempDir Path tmp;

  /** A repository URL nothing listens on (the discard port): a build that needs the network fails at once. */
  static final String OFFLINE_REPOSITORY = "http://127.0.0.1:9/";

  /** The packaged CLI in a separate process with the store {@code home} and the extra {@code env}. */
  static RunIT.Proc labenv(Path home, Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", CliProcessIT.JAR.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("LABENV_HOME", home.toString());
    pb.environment().remove("SOURCE_DATE_EPOCH");
    pb.environment().putAll(env);
    Path out = Files.createTempFile("out", ".txt");
    Path err = Files.createTempFile("err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(600, TimeUnit.SECONDS), "timed out: " + cmd);
    try {
      return new RunIT.Proc(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.delete(out);
      Files.delete(err);
    }
  }

  static RunIT.Proc labenv(Path home, String... args) throws Exception {
    return labenv(home, Map.of(), args);
  }

  /** The digest a successful build printed. */
  static String digest(RunIT.Proc build) {
    assertEquals(0, build.code(), build::toString);
    String d = build.out().trim();
    assertTrue(d.matches("sha256:[0-9a-f]{64}"), build::toString);
    return d;
  }

  /** The digest {@code name} points to in the store, or null when no image has that name. */
  static String digestOf(Path home, String name) throws Exception {
    RunIT.Proc p = labenv(home, "images", "--format", "json");
    assertEquals(0, p.code(), p::toString);
    for (JsonNode image : new ObjectMapper().readTree(p.out())) {
      for (JsonNode n : image.path("names")) {
        if (n.asText().equals(name)) {
          return image.path("digest").asText();
        }
      }
    }
    return null;
  }

  static JsonNode readLock(Path dir) throws Exception {
    return new ObjectMapper().readTree(dir.resolve("labenv.lock").toFile());
  }

  static int count(String s, String word) {
    int n = 0;
    for (int i = s.indexOf(word); i >= 0; i = s.indexOf(word, i + 1)) {
      n++;
    }
    return n;
  }

  /** A busybox image named {@code name} made by {@code labenv bootstrap busybox}; returns its digest. */
  static String busybox(Path home, String name, String epoch) throws Exception {
    assumeTrue(Files.isRegularFile(Path.of("/bin/busybox")), "busybox-static is not installed");
    RunIT.Proc p = labenv(home, "bootstrap", "busybox", "-t", name, "--source-date-epoch", epoch);
    assertEquals(0, p.code(), p::toString);
    return p.out().trim().split(" ")[1];
  }

  @Test
  void lockedBuildsPassUntilTheBaseImageMovesAndThenNameNothing() throws Exception {
    Path home = tmp.resolve("home");
    Path ctx = Files.createDirectories(tmp.resolve("ctx"));
    String base = busybox(home, "bb:1", "0");
    Files.writeString(ctx.resolve("Envfile"), """
        FROM bb:1
        RUN mkdir /out && echo done > /out/result
        CMD ["cat", "/out/result"]
        """);

    RunIT.Proc noLock = labenv(home, "build", "--locked", ctx.toString());
    assertEquals(2, noLock.code(), noLock::toString);
    assertTrue(noLock.err().contains("no such lock file") && noLock.err().contains("labenv lock"), noLock::toString);

    RunIT.Proc lock = labenv(home, "lock", ctx.toString());
    assertEquals(0, lock.code(), lock::toString);
    assertEquals(ctx.resolve("labenv.lock").toString(), lock.out().trim());
    assertTrue(lock.err().contains("locked 1 base image(s), 0 Debian"), lock::toString);
    JsonNode locked = readLock(ctx);
    assertEquals(1, locked.path("lockfileVersion").asInt());
    assertEquals("bb:1", locked.path("baseImages").get(0).path("image").asText(), locked::toString);
    assertEquals(base, locked.path("baseImages").get(0).path("digest").asText(), locked::toString);
    assertEquals(0, locked.path("debian").path("packages").size(), locked::toString);

    String first = digest(labenv(home, "build", "--locked", "-t", "app:1", ctx.toString()));
    assertEquals(first, digestOf(home, "app:1"));

    // The base image moves under its name, as a re-tagged image on a registry would.
    String moved = busybox(home, "bb:1", "1700000000");
    assertNotEquals(base, moved);
    RunIT.Proc drift = labenv(home, "build", "--locked", "-t", "app:1", "-t", "app:2", ctx.toString());
    assertEquals(1, drift.code(), drift::toString);
    assertTrue(drift.err().contains(ctx.resolve("labenv.lock") + ": the build differs from the lock in 1 place\n"),
        drift::toString);
    assertTrue(drift.err().contains("  base image of stage stage-0: bb:1@" + base + " \u2192 bb:1@" + moved + "\n"),
        drift::toString);
    assertTrue(drift.err().contains("run `labenv lock` again to accept them"), drift::toString);
    List<String> lines = drift.err().lines().toList();
    assertEquals("labenv: the build differs from " + ctx.resolve("labenv.lock") + " in 1 place; the image was not "
        + "tagged", lines.get(lines.size() - 1), drift::toString);
    assertEquals("", drift.out(), drift::toString);
    assertEquals(first, digestOf(home, "app:1"), "a drifted build moves no tag");
    assertEquals(null, digestOf(home, "app:2"), "and makes none");

    // Accepting the change: lock again, and the locked build names the new image.
    assertEquals(0, labenv(home, "lock", "-q", ctx.toString()).code());
    String second = digest(labenv(home, "build", "--locked", "-t", "app:1", ctx.toString()));
    assertNotEquals(first, second);
    assertEquals(second, digestOf(home, "app:1"));
    RunIT.Proc run = labenv(home, "run", "--rm", "app:1");
    assertEquals(new RunIT.Proc(0, "done\n", ""), run);

    // A lock that names a package the image does not have: removed, with the version the lock had.
    Path lockFile = ctx.resolve("labenv.lock");
    Files.writeString(lockFile, Files.readString(lockFile).replace("\"python\": { }",
        "\"python\": {\n    \"pandas\": \"2.2.2\"\n  }"));
    RunIT.Proc python = labenv(home, "build", "--locked", "-q", ctx.toString());
    assertEquals(1, python.code(), python::toString);
    assertTrue(python.err().contains("  python package pandas: removed (was 2.2.2)\n"), python::toString);
  }

  /** Resolves commons-text and its dependency from Maven Central (or $LABENV_MAVEN_REPOSITORY's mirror). */
  @Test
  @Tag("network")
  void mavenJarsAreALayerPinnedBySha256AndLockedBuildsNeedNoNetwork() throws Exception {
    Path home = tmp.resolve("home");
    Path ctx = Files.createDirectories(tmp.resolve("ctx"));
    busybox(home, "bb:1", "0");
    Files.writeString(ctx.resolve("Envfile"), """
        FROM bb:1
        MAVEN org.apache.commons:commons-text:1.10.0
        CMD ["cat", "/opt/labenv/maven/classpath"]
        """);
    String built = digest(labenv(home, "build", "-t", "mvn:1", ctx.toString()));
    String text = "/opt/labenv/maven/org/apache/commons/commons-text/1.10.0/commons-text-1.10.0.jar";
    String lang = "/opt/labenv/maven/org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar";
    assertEquals(new RunIT.Proc(0, text + "\n" + lang + "\n", ""), labenv(home, "run", "--rm", "mvn:1"));
    RunIT.Proc sums = labenv(home, "run", "--rm", "mvn:1", "sha256sum", text, lang);
    assertEquals(0, sums.code(), sums::toString);
    List<String> inImage = sums.out().lines().map(l -> "sha256:" + l.split(" +")[0]).toList();

    RunIT.Proc lock = labenv(home, "lock", ctx.toString());
    assertEquals(0, lock.code(), lock::toString);
    assertTrue(lock.err().contains("2 Maven artifacts"), lock::toString);
    JsonNode maven = readLock(ctx).path("maven");
    assertEquals("[\"org.apache.commons:commons-text:1.10.0\"]", maven.path("requested").toString());
    JsonNode artifacts = maven.path("artifacts");
    assertEquals(2, artifacts.size(), maven::toString);
    assertEquals("org.apache.commons:commons-text:1.10.0", artifacts.get(0).path("coordinates").asText());
    assertEquals("org.apache.commons:commons-lang3:3.12.0", artifacts.get(1).path("coordinates").asText());
    assertEquals(inImage, List.of(artifacts.get(0).path("digest").asText(), artifacts.get(1).path("digest").asText()),
        "the lock pins the bytes in the image");

    // With the lock, the pinned jars come from the store's Maven repository: no repository is reachable here.
    Map<String, String> offline = Map.of("LABENV_MAVEN_REPOSITORY", OFFLINE_REPOSITORY);
    RunIT.Proc pinned = labenv(home, offline, "build", "--locked", "-t", "mvn:locked", ctx.toString());
    assertEquals(built, digest(pinned), "the pinned jars are the same layer");
    assertEquals(0, count(pinned.err(), "cached"), "the MAVEN step ran from the pins: " + pinned);
    RunIT.Proc again = labenv(home, offline, "build", "--locked", "-t", "mvn:locked", ctx.toString());
    assertEquals(built, digest(again));
    assertEquals(1, count(again.err(), "cached"), again::toString);

    // The offline repository really is: a store without the jars cannot build.
    Path fresh = tmp.resolve("fresh");
    busybox(fresh, "bb:1", "0");
    RunIT.Proc none = labenv(fresh, offline, "build", ctx.toString());
    assertEquals(1, none.code(), none::toString);
    assertTrue(none.err().contains("127.0.0.1:9"), none::toString);

    // Other bytes than the pin: the build fails naming the artifact and both digests, and names nothing.
    Path lockFile = ctx.resolve("labenv.lock");
    String zeros = "sha256:" + "0".repeat(64);
    Files.writeString(lockFile, Files.readString(lockFile).replace(inImage.get(1), zeros));
    RunIT.Proc tampered = labenv(home, "build", "--locked", "-t", "mvn:tampered", ctx.toString());
    assertEquals(1, tampered.code(), tampered::toString);
    assertTrue(tampered.err().contains("maven artifact org.apache.commons:commons-lang3:3.12.0: labenv.lock pins "
        + zeros + " but "), tampered::toString);
    assertTrue(tampered.err().contains(" served " + inImage.get(1)), tampered::toString);
    assertEquals(null, digestOf(home, "mvn:tampered"));
    assertFalse(tampered.err().contains("Exception"), tampered::toString);
  }
}
