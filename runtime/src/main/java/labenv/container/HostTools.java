package labenv.container;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;

/** The host's programs the runtime starts (util-linux's unshare and nsenter, this JVM), and waiting for them. */
public final class HostTools {
  private HostTools() {}

  /** The path of util-linux's {@code name}; failed, saying what to install and {@code forWhat}, when missing. */
  public static String utilLinux(String name, String forWhat) {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return dir + "/" + name;
      }
    }
    throw LabenvException.failed(name + " not found: install util-linux" + (forWhat == null ? "" : " " + forWhat));
  }

  /** The java this process runs on, for the JVMs labenv starts (init, exec, monitor, forwarder). */
  public static String java() {
    return ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** Its exit status; an interrupt does not stop the wait: the process decides when it ends. */
  public static int waitFor(Process process) {
    while (true) {
      try {
        return process.waitFor();
      } catch (InterruptedException e) {
        // keep waiting
      }
    }
  }

  /** Waits for {@code t} (none when null) to end, through interrupts. */
  public static void join(Thread t) {
    while (t != null) {
      try {
        t.join();
        return;
      } catch (InterruptedException e) {
        // keep waiting: the thread ends by itself
      }
    }
  }
}
