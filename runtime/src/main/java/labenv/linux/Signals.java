package labenv.linux;

import java.util.List;
import java.util.Locale;
import labenv.LabenvException;

/** Signal names and numbers as Linux numbers them on x86-64 and arm64. */
public final class Signals {
  private Signals() {}

  private static final List<String> NAMES = List.of("", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
      "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
      "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");

  /** {@code TERM}, {@code SIGTERM}, {@code sigterm} or {@code 15}; real-time signals as numbers (34-64). */
  public static int number(String signal) {
    String s = signal.trim().toUpperCase(Locale.ROOT);
    if (s.matches("\\d+")) {
      int n = Integer.parseInt(s);
      if (n >= 1 && n <= 64 && (n < NAMES.size() || n >= 34)) {
        return n;
      }
    } else {
      int n = NAMES.indexOf(s.startsWith("SIG") ? s.substring(3) : s);
      if (n > 0) {
        return n;
      }
    }
    throw LabenvException.badInput("signal \"" + signal + "\": expected a name like TERM or SIGKILL, or a number");
  }

  /** SIGTERM for 15; the number for signals without a name. */
  public static String name(int number) {
    return number > 0 && number < NAMES.size() ? "SIG" + NAMES.get(number) : Integer.toString(number);
  }
}
