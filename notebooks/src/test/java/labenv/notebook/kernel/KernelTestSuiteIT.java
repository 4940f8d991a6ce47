package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Jupyter project's own kernel tests (jupyter_kernel_test, Debian's python3-jupyter-kernel-test) against the
 * packaged kernel, started by jupyter_client from the kernelspec that {@code --install} wrote.
 * src/test/python/test_labenv_kernel.py gives the suite the Java samples it runs.
 */
class KernelTestSuiteIT {
  /** The suite's tests that only a kernel with a pager ("?" in IPython) can pass. */
  static final List<String> SKIPPED = List.of("test_pager");

  @Test
  void theKernelPassesJupytersKernelTests(@TempDir Path dir) throws Exception {
    JupyterFixture jupyter = JupyterFixture.install(dir);
    JupyterFixture.Run suite = jupyter.python("-m", "unittest", "-v", "test_labenv_kernel");
    assertEquals(0, suite.exitCode(), "jupyter_kernel_test failed:\n" + suite.output());
    // Passing is not enough: a test without samples skips. Every test but the pager's must have run, subtests too.
    Matcher ran = Pattern.compile("Ran (\\d+) tests").matcher(suite.output());
    assertTrue(ran.find(), suite.output());
    List<String> skipped = Pattern.compile("(?m)^\\s*(test_\\w+) .*\\.\\.\\. skipped").matcher(suite.output())
        .results().map(m -> m.group(1)).toList();
    assertEquals(SKIPPED, skipped, suite.output());
    assertTrue(Integer.parseInt(ran.group(1)) >= 12, suite.output());
    System.out.println("KernelTestSuiteIT: jupyter_kernel_test ran " + ran.group(1) + " tests, skipped " + skipped);
  }
}
