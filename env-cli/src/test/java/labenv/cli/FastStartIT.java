package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the build puts beside labenv.jar so that `run` starts fast (env-cli/src/build/cds.sh): both JVMs
 * on the path start from their class-data archives, and files that do not fit the jar are ignored
 * without a word on the container's output.
 */
class FastStartIT {
  static final Path JAR = CliProcessIT.JAR;
  static final Path TARGET = JAR.getParent();
  @TempDir static Path shared;
  @TempDir Path tmp;

  @BeforeAll
  static void busyboxImage() throws Exception {
    RunIT.busyboxImage(shared, List.of());
  }

  static CliProcessIT.Proc exec(List<String> cmd, String javaOptions) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("LABENV_HOME", RunIT.home.toString());
    if (javaOptions != null) {
      pb.environment().put("LABENV_JAVA_OPTS", javaOptions);
    }
    Path out = Files.createTempFile("out", ".txt");
    Path err = Files.createTempFile("err", ".txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + cmd);
    return new CliProcessIT.Proc(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void bothJvmsOfRunLoadTheirClassesFromClassDataArchives() throws Exception {
    assertTrue(Files.isRegularFile(TARGET.resolve("labenv.jsa")), "the build made no archive for the CLI");
    assertTrue(Files.isRegularFile(TARGET.resolve("labenv-init.jsa")), "the build made no archive for init");
    Path cli = tmp.resolve("cli-classes.log");
    Path init = tmp.resolve("init-classes.log");
    CliProcessIT.Proc p = exec(List.of(CliProcessIT.TOP.resolve("bin/labenv").toString(), "run", "--rm",
        RunIT.IMAGE, "echo", "hi"), "-Xlog:class+load=info:file=" + cli
        + " -Dlabenv.init.javaOptions=-Xlog:class+load=info:file=" + init);
    assertEquals(0, p.code(), p::toString);
    assertEquals("hi\n", p.out(), p::toString);
    String cliClasses = Files.readString(cli);
    String initClasses = Files.readString(init);
    for (String c : List.of("labenv.cli.Main", "labenv.cli.RunCommand", "picocli.CommandLine",
        "com.fasterxml.jackson.databind.ObjectMapper", "labenv.container.Launcher")) {
      assertTrue(cliClasses.contains(" " + c + " source: shared objects file"), c + " not from the CLI's archive");
    }
    for (String c : List.of("labenv.linux.Init", "labenv.linux.Libc", "com.sun.jna.Native",
        "labenv.container.ContainerSpec")) {
      assertTrue(initClasses.contains(" " + c + " source: shared objects file"), c + " not from init's archive");
    }
  }

  @Test
  void anArchiveThatDoesNotFitTheJarIsIgnoredSilently() throws Exception {
    // A copy of the jar elsewhere with, beside it, init's archive made for the original jar, then one that
    // is no archive at all: the init JVM starts without it and says nothing on the container's output.
    Path jar = Files.copy(JAR, tmp.resolve("labenv.jar"));
    Files.setLastModifiedTime(jar, Files.getLastModifiedTime(JAR));
    Files.copy(TARGET.resolve("labenv-init.jsa"), tmp.resolve("labenv-init.jsa"));
    List<String> run = List.of("java", "-jar", jar.toString(), "run", "--rm", RunIT.IMAGE, "echo", "hi");
    for (String content : new String[] {null, "not an archive"}) {
      if (content != null) {
        Files.writeString(tmp.resolve("labenv-init.jsa"), content);
      }
      CliProcessIT.Proc p = exec(run, null);
      assertEquals(0, p.code(), p::toString);
      assertEquals("hi\n", p.out(), p::toString);
      assertEquals("", p.err(), p::toString);
    }
  }

  @Test
  void aJnaLibraryThatDoesNotLoadIsReplacedByJnasOwn() throws Exception {
    Path jar = Files.copy(JAR, tmp.resolve("labenv.jar"));
    Files.setLastModifiedTime(jar, Files.getLastModifiedTime(JAR));
    Path jna = Files.createDirectories(tmp.resolve("labenv-jna-" + com.sun.jna.Native.VERSION));
    Files.writeString(jna.resolve("libjnidispatch.so"), "not a library");
    // The JVM may warn on stderr about a file that is not a library; the run itself is unaffected.
    CliProcessIT.Proc p = exec(List.of("java", "-jar", jar.toString(), "run", "--rm", RunIT.IMAGE, "echo", "hi"),
        null);
    assertEquals(0, p.code(), p::toString);
    assertEquals("hi\n", p.out(), p::toString);
  }
}
