package labenv.notebook.kernel;

import java.lang.reflect.Field;
import java.util.Map;
import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * Runs cells in the kernel's own JVM, so a cell's value is a live object the kernel can render (a tablesaw Table as
 * HTML), not only the string JShell makes of it.
 *
 * <p>It is JShell's {@link LocalExecutionControl}, whose stop works on every JDK (Thread.stop on 17; on 21 and
 * later, checks it weaves into the cell's loops), so an interrupt ends even {@code while (true) {}}. Values are
 * read where JShell reads a variable's value ({@link #varValue}): the variable's field, kept before it becomes a
 * string.
 */
final class CellExecutionControl extends LocalExecutionControl {
  private Object lastValue;
  private volatile boolean cancelled;
  private volatile boolean stopped;

  /** Refuses to start snippets until {@link #resume}: the rest of an interrupted cell does not run. */
  void cancel() {
    cancelled = true;
  }

  void resume() {
    cancelled = false;
  }

  boolean cancelled() {
    return cancelled;
  }

  /** Whether the last snippet was stopped (JShell reports a stopped snippet as one that returned nothing). */
  boolean takeStopped() {
    boolean was = stopped;
    stopped = false;
    return was;
  }

  @Override
  public String invoke(String className, String methodName)
      throws RunException, InternalException, EngineTerminationException {
    try {
      if (cancelled) {
        throw new StoppedException();
      }
      return super.invoke(className, methodName);
    } catch (StoppedException e) {
      stopped = true;
      throw e;
    }
  }

  @Override
  public String varValue(String className, String varName)
      throws RunException, EngineTerminationException, InternalException {
    try {
      Field field = findClass(className).getDeclaredField(varName);
      field.setAccessible(true);
      lastValue = field.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new InternalException("cannot read " + className + "." + varName + ": " + e);
    }
    return super.varValue(className, varName);
  }

  /** The object of the last {@link #varValue} call, forgotten so that a large table is not kept alive. */
  Object takeLastValue() {
    Object value = lastValue;
    lastValue = null;
    return value;
  }

  /** Hands JShell this control and keeps it, so the evaluator can ask it for values. */
  static final class Provider implements ExecutionControlProvider {
    private CellExecutionControl control;

    @Override
    public String name() {
      return "labenv-cell";
    }

    @Override
    public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
      control = new CellExecutionControl();
      return control;
    }

    CellExecutionControl control() {
      return control;
    }
  }
}
