package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged CLI as separate processes: the launcher, other JDKs, concurrent commands, SIGKILL. */
class CliProcessIT {
  static final Path TOP = Path.of(System.getProperty("user.dir")).getParent();
  static final Path JAR = TOP.resolve("env-cli/target/labenv.jar");
  @TempDir Path tmp;

  record Proc(int code, String out, String err) {}

  static Proc exec(List<String> cmd, Path home) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("LABENV_HOME", home.toString());
    Path out = Files.createTempFile("out", ".txt");
    Path err = Files.createTempFile("err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + cmd);
    return new Proc(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  static List<String> labenv(String java, Object... args) {
    List<String> cmd = new ArrayList<>(List.of(java, "-jar", JAR.toString()));
    for (Object a : args) {
      cmd.add(a.toString());
    }
    return cmd;
  }

  static Path mixedTree(Path dir, int files, long seed) throws IOException {
    Random rnd = new Random(seed);
    for (int i = 0; i < files; i++) {
      Path f = dir.resolve("d" + (i % 7)).resolve("f" + i + (i % 3 == 0 ? ".csv" : ".bin"));
      Files.createDirectories(f.getParent());
      byte[] data = new byte[rnd.nextInt(200_000)];
      if (i % 3 == 0) {
        StringBuilder sb = new StringBuilder("a,b,c\n");
        while (sb.length() < data.length) {
          sb.append(rnd.nextInt(1000)).append(',').append(rnd.nextGaussian()).append(",x\n");
        }
        data = sb.toString().getBytes(StandardCharsets.UTF_8);
      } else {
        rnd.nextBytes(data);
      }
      Files.write(f, data);
    }
    return dir;
  }

  @Test
  void theLauncherRunsTheCliAndBadUsageExitsTwo() throws Exception {
    Path home = tmp.resolve("home");
    Proc v = exec(List.of(TOP.resolve("bin/labenv").toString(), "--version"), home);
    assertEquals(0, v.code(), v::toString);
    assertTrue(v.out().startsWith("labenv "), v::toString);
    Proc bad = exec(List.of(TOP.resolve("bin/labenv").toString(), "images", "--format", "yaml"), home);
    assertEquals(2, bad.code(), bad::toString);
    assertFalse(bad.err().contains("at labenv."), bad::toString);
  }

  @Test
  void theCompletionScriptLoadsInBash() throws Exception {
    Path script = tmp.resolve("complete.bash");
    Proc c = exec(labenv("java", "completion"), tmp.resolve("home"));
    Files.writeString(script, c.out());
    Proc b = exec(List.of("bash", "-c", "source " + script + " && complete -p labenv"), tmp.resolve("home"));
    assertEquals(0, b.code(), b::toString);
    assertTrue(b.out().contains("labenv"), b::toString);
  }

  /** Another JDK (Temurin bundles its own zlib) stands in for another host: same tree, same digests. */
  @Test
  void everyInstalledJdkPacksTheSameDigest() throws Exception {
    Path tree = mixedTree(tmp.resolve("tree"), 60, 7);
    List<String> javas = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/usr/lib/jvm"))) {
      s.map(p -> p.resolve("bin/java")).filter(Files::isExecutable).map(Path::toString).forEach(javas::add);
    }
    assumeTrue(javas.size() >= 2, "only one JDK installed");
    for (String compression : List.of("gzip", "zstd")) {
      String first = null;
      for (String java : javas) {
        Path home = Files.createTempDirectory(tmp, "home");
        Proc r = exec(labenv(java, "import", "--compression", compression, tree, "t:1"), home);
        assertEquals(0, r.code(), java + ": " + r);
        if (first == null) {
          first = r.out().trim();
        }
        assertEquals(first, r.out().trim(), java + " " + compression);
      }
    }
  }

  @Test
  void concurrentImportsIntoOneStoreAllLandAndFsckPasses() throws Exception {
    Path home = tmp.resolve("home");
    List<Process> ps = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Path tree = mixedTree(tmp.resolve("tree" + i), 20, i);
      ProcessBuilder pb = new ProcessBuilder(labenv("java", "import", tree, "img:" + i));
      pb.environment().put("LABENV_HOME", home.toString());
      pb.redirectErrorStream(true).redirectOutput(tmp.resolve("log" + i).toFile());
      ps.add(pb.start());
    }
    for (int i = 0; i < ps.size(); i++) {
      assertTrue(ps.get(i).waitFor(300, TimeUnit.SECONDS));
      assertEquals(0, ps.get(i).exitValue(), Files.readString(tmp.resolve("log" + i)));
    }
    Proc images = exec(labenv("java", "images", "-q"), home);
    assertEquals(4, images.out().lines().count(), images::toString);
    Proc fsck = exec(labenv("java", "fsck"), home);
    assertEquals(0, fsck.code(), fsck::toString);
  }

  @Test
  void anImportKilledWithSigkillLeavesAStoreThatFsckPasses() throws Exception {
    Path home = tmp.resolve("home");
    Path tree = mixedTree(tmp.resolve("tree"), 150, 3);
    assertEquals(0, exec(labenv("java", "import", tree, "before:1"), home).code());
    Random rnd = new Random();
    for (int i = 0; i < 4; i++) {
      ProcessBuilder pb = new ProcessBuilder(labenv("java", "import", "--compression", i % 2 == 0 ? "gzip" : "zstd",
          tree, "killed:" + i)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("LABENV_HOME", home.toString());
      Process p = pb.start();
      Thread.sleep(300 + rnd.nextInt(1500));
      p.destroyForcibly();
      p.waitFor();
      Proc fsck = exec(labenv("java", "fsck"), home);
      assertEquals(0, fsck.code(), "after kill " + i + ": " + fsck);
      Proc inspect = exec(labenv("java", "inspect", "before:1"), home);
      assertEquals(0, inspect.code(), inspect::toString);
    }
  }
}
