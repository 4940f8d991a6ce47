package labenv.cli;

import com.sun.jna.Native;

/** Whether the standard streams are terminals (isatty(3)). */
final class Terminal {
  private Terminal() {}

  private static native int isatty(int fd);

  private static final boolean LOADED = load();

  private static boolean load() {
    try {
      Native.register(Terminal.class, "c");
      return true;
    } catch (UnsatisfiedLinkError e) {
      return false;
    }
  }

  static boolean stderrIsTerminal() {
    return LOADED && isatty(2) == 1;
  }

  static boolean stdoutIsTerminal() {
    return LOADED && isatty(1) == 1;
  }
}
