package labenv.container;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * Resource limits for a container, enforced through cgroups.
 *
 * @param memoryBytes the memory limit in bytes, 0 for none
 * @param cpuQuotaMicros CPU time allowed per {@link #CPU_PERIOD_MICROS}, 0 for none
 * @param pids the most tasks (processes and threads) at once, 0 for none
 */
public record Limits(long memoryBytes, long cpuQuotaMicros, long pids) {
  public static final Limits NONE = new Limits(0, 0, 0);
  public static final long CPU_PERIOD_MICROS = 100_000;
  /** Docker's floor: below this not even a shell starts. */
  static final long MIN_MEMORY = 6L << 20;

  private static final Pattern MEMORY = Pattern.compile("(\\d+)(?:([bkmg])b?)?");
  private static final Pattern DECIMAL = Pattern.compile("\\d+(\\.\\d+)?|\\.\\d+");

  public boolean any() {
    return memoryBytes > 0 || cpuQuotaMicros > 0 || pids > 0;
  }

  public Limits withMemory(long bytes) {
    return new Limits(bytes, cpuQuotaMicros, pids);
  }

  public Limits withCpuQuota(long micros) {
    return new Limits(memoryBytes, micros, pids);
  }

  public Limits withPids(long n) {
    return new Limits(memoryBytes, cpuQuotaMicros, n);
  }

  /** Docker's {@code --memory}: a number of bytes with an optional unit b, k, m or g (1024-based). */
  public static long memory(String value) {
    Matcher m = MEMORY.matcher(value.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw LabenvException.badInput("--memory \"" + value + "\": expected a number with an optional unit b, k, m or g");
    }
    int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      default -> 0;
    };
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      n = Long.MAX_VALUE;
    }
    if (n > (Long.MAX_VALUE >> shift)) {
      throw LabenvException.badInput("--memory \"" + value + "\": too large");
    }
    long bytes = n << shift;
    if (bytes < MIN_MEMORY) {
      throw LabenvException.badInput("--memory \"" + value + "\": below the minimum of 6m");
    }
    return bytes;
  }

  /** Docker's {@code --cpus}: a decimal number of CPUs, as microseconds of CPU time per 100ms period. */
  public static long cpuQuota(String value) {
    if (!DECIMAL.matcher(value).matches()) {
      throw LabenvException.badInput("--cpus \"" + value + "\": expected a decimal number such as 0.5 or 2");
    }
    double cpus = Double.parseDouble(value);
    int available = Runtime.getRuntime().availableProcessors();
    if (cpus <= 0 || cpus > 1024) {
      throw LabenvException.badInput("--cpus \"" + value + "\": must be above 0 (this machine has " + available + ")");
    }
    // The kernel's smallest quota is 1ms per period.
    long quota = Math.round(cpus * CPU_PERIOD_MICROS);
    if (quota < 1000) {
      throw LabenvException.badInput("--cpus \"" + value + "\": below the minimum of 0.01");
    }
    return quota;
  }

  /** Docker's {@code --pids-limit}: a positive number, or -1 for unlimited (returned as 0). */
  public static long pids(String value) {
    long n;
    try {
      n = Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw LabenvException.badInput("--pids-limit \"" + value + "\": expected a whole number (-1 for unlimited)");
    }
    if (n == -1) {
      return 0;
    }
    if (n <= 0) {
      throw LabenvException.badInput("--pids-limit \"" + value + "\": must be positive, or -1 for unlimited");
    }
    return n;
  }

  /** Bytes in the largest unit that states them exactly: 32m, 1g, 1500k, 100b. */
  public static String bytes(long n) {
    for (var unit : new Object[][] {{30, "g"}, {20, "m"}, {10, "k"}}) {
      int shift = (Integer) unit[0];
      if (n >= (1L << shift) && n % (1L << shift) == 0) {
        return (n >> shift) + (String) unit[1];
      }
    }
    return n + "b";
  }
}
