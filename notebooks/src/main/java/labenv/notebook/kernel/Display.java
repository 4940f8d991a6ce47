package labenv.notebook.kernel;

import java.util.function.Consumer;

/**
 * {@code display(value)} in a cell: shows a value under the cell now, rendered as its cell value would be (a
 * tablesaw Table as HTML, a Figure as a plot), and the cell goes on. Every notebook imports it statically.
 */
public final class Display {
  private static volatile Consumer<Object> sink = value -> System.out.println(value);

  private Display() {}

  /** Shows {@code value} under the running cell. */
  public static void display(Object value) {
    sink.accept(value);
  }

  /** Where display sends values: the kernel's output of the running cell. */
  static void sendTo(Consumer<Object> target) {
    sink = target;
  }
}
