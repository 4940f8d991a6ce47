package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real Jupyter side of the kernel's integration tests: Debian's python with jupyter_client and
 * jupyter_kernel_test (installed like bin/test installs its peers, when missing), and the kernel installed from
 * target/labenv-kernel.jar with its own --install into a directory that JUPYTER_PATH names.
 */
final class JupyterFixture {
  /** Debian's python: the one on PATH may be a build without Jupyter. */
  static final String PYTHON = "/usr/bin/python3";

  static final List<String> PACKAGES = List.of("python3-jupyter-client", "python3-jupyter-kernel-test");

  static final Path KERNEL_JAR = Path.of("target", "labenv-kernel.jar").toAbsolutePath();

  static final Path PYTHON_TESTS = Path.of("src", "test", "python").toAbsolutePath();

  /** The output and exit code of a finished process. */
  record Run(int exitCode, String output) {}

  private final Path home;

  private JupyterFixture(Path home) {
    this.home = home;
  }

  /** Installs what is missing, then the kernel under {@code dir}. */
  static JupyterFixture install(Path dir) throws IOException, InterruptedException {
    ensurePackages();
    assertTrue(Files.isRegularFile(KERNEL_JAR), KERNEL_JAR + " is missing: run mvn package first");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Run install = run(List.of(java.toString(), "-jar", KERNEL_JAR.toString(), "--install", dir.toString(),
        "--java", java.toString()), dir, Map.of());
    assertEquals(0, install.exitCode(), install.output());
    assertTrue(Files.isRegularFile(dir.resolve("share/jupyter/kernels/labenv-java/kernel.json")), install.output());
    return new JupyterFixture(dir);
  }

  /** Runs Debian's python with Jupyter's directories in the fixture's, from the python tests' directory. */
  Run python(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(PYTHON);
    command.addAll(List.of(args));
    return run(command, PYTHON_TESTS, Map.of(
        "JUPYTER_PATH", home.resolve("share/jupyter").toString(),
        "JUPYTER_DATA_DIR", home.resolve("data").toString(),
        "JUPYTER_RUNTIME_DIR", home.resolve("runtime").toString(),
        "JUPYTER_CONFIG_DIR", home.resolve("config").toString(),
        "PYTHONDONTWRITEBYTECODE", "1",
        "PYTHONUNBUFFERED", "1"));
  }

  private static Run run(List<String> command, Path dir, Map<String, String> env)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("labenv-kernel-it", ".log");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile());
      builder.environment().putAll(env);
      Process process = builder.start();
      // A guard against a hang, not a measurement: the suites take seconds.
      if (!process.waitFor(10, TimeUnit.MINUTES)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        throw new AssertionError(command + " did not end in 10 minutes:\n" + Files.readString(log));
      }
      return new Run(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** As bin/test does: apt-get install what dpkg does not have, quietly. */
  private static void ensurePackages() throws IOException, InterruptedException {
    List<String> missing = new ArrayList<>();
    for (String p : PACKAGES) {
      Run status = run(List.of("dpkg-query", "-W", "-f=${Status}", p), Path.of("."), Map.of());
      if (!status.output().contains("ok installed")) {
        missing.add(p);
      }
    }
    if (missing.isEmpty()) {
      return;
    }
    List<String> sudo = "root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo");
    List<String> update = new ArrayList<>(sudo);
    update.addAll(List.of("apt-get", "update", "-qq"));
    run(update, Path.of("."), Map.of());
    List<String> install = new ArrayList<>(sudo);
    install.addAll(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends"));
    install.addAll(missing);
    Run result = run(install, Path.of("."), Map.of("DEBIAN_FRONTEND", "noninteractive"));
    assertEquals(0, result.exitCode(), "cannot install " + missing + ":\n" + result.output());
  }
}
