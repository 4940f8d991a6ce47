package labenv.linux;

import java.util.List;
import java.util.Locale;
import labenv.LabenvException;

/** Signal names and numbers as kill(1) and runc take them: {@code TERM}, {@code SIGTERM} or {@code 15}. */
public final class Signals {
  private Signals() {}

  /** By number (x86_64 and aarch64 share the generic numbering); index 0 is no signal. */
  private static final List<String> NAMES = List.of("", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
      "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
      "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");

  /** The highest real-time signal Linux has. */
  private static final int SIGRTMAX = 64;

  public static final int SIGTERM = 15;

  /** The number of {@code signal}, given by name (with or without SIG, any case) or by number. */
  public static int parse(String signal) {
    String s = signal.strip().toUpperCase(Locale.ROOT);
    if (s.startsWith("SIG")) {
      s = s.substring(3);
    }
    int n = NAMES.indexOf(s);
    if (n > 0) {
      return n;
    }
    if (s.equals("IOT")) {
      return 6;
    }
    if (s.equals("POLL")) {
      return 29;
    }
    try {
      n = Integer.parseInt(s);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1 || n > SIGRTMAX) {
      throw LabenvException.badInput("signal \"" + signal + "\": expected a name such as TERM or KILL, or a number 1-"
          + SIGRTMAX);
    }
    return n;
  }
}
