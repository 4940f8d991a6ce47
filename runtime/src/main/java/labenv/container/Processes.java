package labenv.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Processes named by pid and start time, so that a pid the kernel has given to someone else is not mistaken. */
public final class Processes {
  private Processes() {}

  /** Field 22 of {@code /proc/PID/stat} (clock ticks after boot), or -1 when there is no such process. */
  public static long startTime(long pid) {
    if (pid <= 0) {
      return -1;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // A zombie has exited: only its parent's wait is missing.
      return f[0].equals("Z") || f[0].equals("X") ? -1 : Long.parseLong(f[19]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  public static boolean alive(long pid, long startTime) {
    return pid > 0 && startTime(pid) == startTime;
  }
}
