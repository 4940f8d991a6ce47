package labenv.layer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs peer tools (GNU tar, umoci, ...) through bash for integration tests; fails with their output. */
final class Peers {
  private Peers() {}

  /** Runs {@code script} with bash -e in {@code dir}; {@code args} become $1, $2, ... */
  static String bash(Path dir, String script, String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", "-euo", "pipefail", "-c", script, "bash"));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      if (rc != 0) {
        throw new AssertionError("script failed with exit " + rc + ":\n" + script + "\n--- output:\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
