package labenv.notebook.kernel;

/**
 * What a cell can do with the output under it, beyond printing: {@code display(value)} shows a value now, rendered
 * as a cell value is (a tablesaw Table as HTML, a Figure as a plot), and the cell goes on; {@code clearOutput()}
 * empties the output so far (for a progress display that redraws itself). Every notebook imports both statically.
 */
public final class Display {
  /** Where cells' displays go: the kernel's output of the running cell. */
  interface Output {
    void display(Object value);

    void clear(boolean wait);
  }

  private static volatile Output output = new Output() {
    @Override
    public void display(Object value) {
      System.out.println(value);
    }

    @Override
    public void clear(boolean wait) {}
  };

  private Display() {}

  /** Shows {@code value} under the running cell. */
  public static void display(Object value) {
    output.display(value);
  }

  /** Clears the running cell's output; what comes next replaces it. */
  public static void clearOutput() {
    output.clear(false);
  }

  /** Clears the running cell's output when the next output arrives, so a redraw does not flicker. */
  public static void clearOutput(boolean wait) {
    output.clear(wait);
  }

  static void sendTo(Output target) {
    output = target;
  }
}
