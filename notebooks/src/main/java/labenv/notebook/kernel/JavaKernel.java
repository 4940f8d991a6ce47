package labenv.notebook.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.ShellReplyEnvironment;
import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import io.github.spencerpark.jupyter.kernel.history.HistoryEntry;
import io.github.spencerpark.jupyter.kernel.history.HistoryManager;
import io.github.spencerpark.jupyter.messages.Header;
import io.github.spencerpark.jupyter.messages.KernelTimestamp;
import io.github.spencerpark.jupyter.messages.Message;
import io.github.spencerpark.jupyter.messages.MessageType;
import io.github.spencerpark.jupyter.messages.publish.PublishClearOutput;
import io.github.spencerpark.jupyter.messages.publish.PublishDisplayData;
import io.github.spencerpark.jupyter.messages.publish.PublishError;
import io.github.spencerpark.jupyter.messages.publish.PublishExecuteInput;
import io.github.spencerpark.jupyter.messages.publish.PublishExecuteResult;
import io.github.spencerpark.jupyter.messages.publish.PublishStream;
import io.github.spencerpark.jupyter.messages.reply.ErrorReply;
import io.github.spencerpark.jupyter.messages.reply.ExecuteReply;
import io.github.spencerpark.jupyter.messages.request.ExecuteRequest;
import io.github.spencerpark.jupyter.messages.request.HistoryRequest;
import io.github.spencerpark.jupyter.messages.request.InterruptRequest;
import io.github.spencerpark.jupyter.messages.request.KernelInfoRequest;
import io.github.spencerpark.jupyter.messages.request.ShutdownRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import labenv.notebook.kernel.CellEvaluator.CellValue;
import tech.tablesaw.api.Table;

/**
 * The Jupyter kernel: the basekernel's protocol (sockets, signatures, message types) around a {@link CellEvaluator}.
 *
 * <p>It answers execute, kernel_info, history, interrupt and shutdown requests itself: the basekernel's handlers
 * leave out the reply status the message spec requires, name errors by Java class only, and count every request
 * (silent ones and those without store_history too). Completion, inspection, is_complete and comms are the
 * basekernel's, calling this class's {@link #complete}, {@link #inspect} and {@link #isComplete}.
 */
public final class JavaKernel extends BaseKernel {
  /** How often a running cell's output is published. */
  static final long FLUSH_MILLIS = 100;

  static final String IMPLEMENTATION = "labenv-java";

  private final CompletableFuture<CellEvaluator> evaluator;
  private final CellHistory history = new CellHistory();
  private final LanguageInfo languageInfo = new LanguageInfo.Builder("java")
      .version(Runtime.version().toString())
      .mimetype("text/x-java-source")
      // A notebook saved as a script is a sequence of JShell snippets, which `jshell FILE` runs, not a .java file.
      .fileExtension(".jshell")
      .pygments("java")
      .codemirror("java")
      .build();
  private final CellStream stdout = new CellStream(PublishStream.StreamType.OUT);
  private final CellStream stderr = new CellStream(PublishStream.StreamType.ERR);
  private final PrintStream out = new PrintStream(stdout, false, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(stderr, false, StandardCharsets.UTF_8);
  private final ScheduledExecutorService flusher =
      Executors.newSingleThreadScheduledExecutor(daemon("labenv-kernel-flush"));
  private volatile ShellReplyEnvironment running;
  /** When the last cell with stop_on_error failed: requests sent before then were queued behind it. */
  private Instant stoppedOnError = Instant.MIN;

  /**
   * A kernel whose cells see this JVM's classpath plus {@code classpath}. JShell starts in the background (about a
   * second), so the kernel answers kernel_info at once; the first request that needs JShell waits for it.
   */
  public JavaKernel(List<Path> classpath) {
    // jshell's notes (a declaration that needs another first) go under the cell, on its stderr.
    evaluator = CompletableFuture.supplyAsync(
        () -> CellEvaluator.start(classpath, note -> err.println("note: " + note)),
        Executors.newSingleThreadExecutor(daemon("labenv-kernel-start")));
    Renderings.register(getRenderer());
    Display.sendTo(new Display.Output() {
      @Override
      public void display(Object value) {
        JavaKernel.this.display(value);
      }

      @Override
      public void clear(boolean wait) {
        clearOutput(wait);
      }
    });
  }

  private CellEvaluator evaluator() {
    try {
      return evaluator.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  @Override
  public void becomeHandlerForConnection(JupyterConnection connection) {
    super.becomeHandlerForConnection(connection);
    connection.setHandler(MessageType.EXECUTE_REQUEST, this::execute);
    connection.setHandler(MessageType.KERNEL_INFO_REQUEST, this::kernelInfo);
    connection.setHandler(MessageType.HISTORY_REQUEST, this::history);
    connection.setHandler(MessageType.INTERRUPT_REQUEST, this::interrupt);
    connection.setHandler(MessageType.SHUTDOWN_REQUEST, this::shutdown);
  }

  private synchronized void execute(ShellReplyEnvironment env, Message<ExecuteRequest> message) {
    commManager.setMessageContext(message);
    ExecuteRequest request = message.getContent();
    if (sentBefore(message, stoppedOnError)) {
      // "Run all" sends every cell at once; after a failure, the cells queued behind it do not run (as in IPython).
      env.setBusyDeferIdle();
      env.defer().reply(raw(env, MessageType.EXECUTE_REPLY, new Replies.Aborted()));
      return;
    }
    String code = request.getCode();
    boolean silent = request.isSilent();
    boolean store = !silent && request.shouldStoreHistory();
    int count = store ? executionCount.getAndIncrement() : executionCount.get();
    env.setBusyDeferIdle();
    if (!silent) {
      env.publish(new PublishExecuteInput(code, count));
    }
    PrintStream systemOut = System.out;
    PrintStream systemErr = System.err;
    InputStream systemIn = System.in;
    stdout.attach(env);
    stderr.attach(env);
    running = env;
    System.setOut(out);
    System.setErr(err);
    // No stdin: a cell reading it gets end of input instead of waiting forever on the kernel's own stdin.
    System.setIn(InputStream.nullInputStream());
    ScheduledFuture<?> flushing = flusher.scheduleWithFixedDelay(this::flushOutput, FLUSH_MILLIS, FLUSH_MILLIS,
        TimeUnit.MILLISECONDS);
    try {
      Optional<CellValue> value = evaluator().eval(code, count);
      flushOutput();
      String text = "";
      if (value.isPresent()) {
        DisplayData data = render(value.get());
        text = String.valueOf(data.getData(MIMEType.TEXT_PLAIN));
        if (!silent) {
          env.publish(new PublishExecuteResult(count, data));
        }
      }
      if (store) {
        history.add(count, code, text);
      }
      env.defer().reply(new ExecuteReply(count, Map.of()));
    } catch (CellError e) {
      if (request.shouldStopOnError()) {
        stoppedOnError = Instant.now();
      }
      fail(env, count, e.name(), e.value(), e.traceback(), silent);
      if (store) {
        history.add(count, code, "");
      }
    } catch (RuntimeException e) {
      // JShell itself failed (it would not start, or broke): say so under the cell rather than leave it waiting.
      String name = e.getClass().getName();
      String value = String.valueOf(e.getMessage());
      fail(env, count, name, value, List.of(name + ": " + value), silent);
    } finally {
      flushing.cancel(false);
      running = null;
      stdout.detach();
      stderr.detach();
      System.setOut(systemOut);
      System.setErr(systemErr);
      System.setIn(systemIn);
    }
  }

  /**
   * Whether the client made {@code message} before {@code instant}, by its header's date. The client is the notebook
   * server, on this machine: the same clock. A date that cannot be read counts as later (the cell runs).
   */
  static boolean sentBefore(Message<?> message, Instant instant) {
    KernelTimestamp date = message.getHeader().getTimestamp();
    if (date == null || date.getDateString() == null) {
      return false;
    }
    try {
      return OffsetDateTime.parse(date.getDateString()).toInstant().isBefore(instant);
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  private void fail(ShellReplyEnvironment env, int count, String name, String value, List<String> traceback,
      boolean silent) {
    flushOutput();
    if (!silent) {
      env.publish(new PublishError(name, value, traceback));
    }
    ErrorReply reply = new ErrorReply(name, value, traceback);
    reply.setExecutionCount(count);
    env.defer().replyError(ExecuteReply.MESSAGE_TYPE.error(), reply);
  }

  private void flushOutput() {
    out.flush();
    err.flush();
  }

  /** {@link Display#display} from a cell: output so far first, so the value appears where it was displayed. */
  private void display(Object value) {
    ShellReplyEnvironment env = running;
    if (env == null) {
      return; // a thread of an earlier cell: that cell's output is closed
    }
    flushOutput();
    env.publish(new PublishDisplayData(value instanceof DisplayData data ? data : getRenderer().render(value)));
  }

  private void clearOutput(boolean wait) {
    ShellReplyEnvironment env = running;
    if (env != null) {
      flushOutput();
      env.publish(wait ? PublishClearOutput.BEFORE_NEXT_OUTPUT : PublishClearOutput.NOW);
    }
  }

  /**
   * A cell value's bundle: the renderer's (HTML for tables and figures, PNG for images), with JShell's text as
   * text/plain where the renderer had nothing better than {@code String.valueOf} (JShell quotes strings, lists
   * arrays).
   */
  DisplayData render(CellValue value) {
    Object object = value.object();
    if (object instanceof DisplayData data) {
      return data;
    }
    if (object == null) {
      return new DisplayData(value.text());
    }
    DisplayData data = getRenderer().render(object);
    if (String.valueOf(object).equals(data.getData(MIMEType.TEXT_PLAIN))) {
      data.putText(value.text());
    }
    return data;
  }

  private void kernelInfo(ShellReplyEnvironment env, Message<KernelInfoRequest> message) {
    env.setBusyDeferIdle();
    env.reply(new Replies.KernelInfo(Header.PROTOCOL_VERISON, IMPLEMENTATION, version(), getLanguageInfo(),
        getBanner(), getHelpLinks()));
  }

  private void history(ShellReplyEnvironment env, Message<HistoryRequest> message) {
    env.setBusyDeferIdle();
    HistoryRequest request = message.getContent();
    Set<HistoryManager.ResultFlag> flags = EnumSet.noneOf(HistoryManager.ResultFlag.class);
    if (request.includeOutput()) {
      flags.add(HistoryManager.ResultFlag.INCLUDE_OUTPUT);
    }
    List<HistoryEntry> entries = switch (request.getAccessType()) {
      case TAIL -> history.lookupTail(((HistoryRequest.Tail) request).getMaxReturnLength(), flags);
      case RANGE -> {
        HistoryRequest.Range range = (HistoryRequest.Range) request;
        yield history.lookupRange(range.getSessionIndex(), range.getStart(), range.getStop(), flags);
      }
      case SEARCH -> {
        HistoryRequest.Search search = (HistoryRequest.Search) request;
        if (search.filterUnique()) {
          flags.add(HistoryManager.ResultFlag.UNIQUE);
        }
        yield history.search(search.getPattern(), search.getMaxReturnLength(), flags);
      }
    };
    env.reply(raw(env, MessageType.HISTORY_REPLY, new Replies.History(entries)));
  }

  private void interrupt(ShellReplyEnvironment env, Message<InterruptRequest> message) {
    env.setBusyDeferIdle();
    env.defer().reply(new Replies.Interrupt());
    interrupt();
  }

  /** A message of {@code type} whose content is not the basekernel's class for it (see {@link Replies}). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Message<?> raw(ShellReplyEnvironment env, MessageType<?> type, Object content) {
    return new Message(env.getContext(), type, content);
  }

  private void shutdown(ShellReplyEnvironment env, Message<ShutdownRequest> message) {
    boolean restart = message.getContent().isRestart();
    env.setBusyDeferIdle();
    env.defer().reply(raw(env, MessageType.SHUTDOWN_REPLY, new Replies.Shutdown(restart)));
    onShutdown(restart);
    env.resolveDeferrals();
    env.markForShutdown();
  }

  /** Stops the running cell (interrupt_request, or SIGINT through {@link Main}). */
  @Override
  public void interrupt() {
    if (evaluator.isDone() && !evaluator.isCompletedExceptionally()) {
      evaluator.join().interrupt();
    }
  }

  @Override
  public void onShutdown(boolean isRestarting) {
    if (evaluator.isDone() && !evaluator.isCompletedExceptionally()) {
      evaluator.join().close();
    }
    flusher.shutdownNow();
  }

  @Override
  public DisplayData eval(String code) throws Exception {
    // Only the basekernel's own execute handler calls this, and this kernel replaces that handler.
    Optional<CellValue> value = evaluator().eval(code, executionCount.get());
    return value.map(this::render).orElse(null);
  }

  @Override
  public ReplacementOptions complete(String code, int cursor) {
    // Jupyter counts the cursor in code points, Java strings in UTF-16 units.
    int at = charIndex(code, cursor);
    CellEvaluator.Completion completion = evaluator().complete(code, at);
    return new ReplacementOptions(completion.matches(), code.codePointCount(0, completion.start()),
        code.codePointCount(0, completion.end()));
  }

  @Override
  public DisplayData inspect(String code, int cursor, boolean extraDetail) {
    return evaluator().inspect(code, charIndex(code, cursor)).map(DisplayData::new).orElse(null);
  }

  @Override
  public String isComplete(String code) {
    CellEvaluator.Readiness readiness = evaluator().readiness(code);
    return switch (readiness.status()) {
      case CellEvaluator.Readiness.COMPLETE -> IS_COMPLETE_YES;
      case CellEvaluator.Readiness.INVALID -> IS_COMPLETE_BAD;
      default -> readiness.indent(); // the basekernel's way of saying "incomplete"
    };
  }

  private static int charIndex(String code, int codePoints) {
    int points = Math.max(0, Math.min(codePoints, code.codePointCount(0, code.length())));
    return code.offsetByCodePoints(0, points);
  }

  @Override
  public LanguageInfo getLanguageInfo() {
    return languageInfo;
  }

  @Override
  public String getBanner() {
    return "labenv Java kernel " + version() + ": JShell on Java " + Runtime.version() + ", with tablesaw "
        + tablesawVersion()
        + "\nA cell's last expression is shown (tables as HTML); display(value) shows one at any point.";
  }

  /** From tablesaw's Maven metadata: its manifest has no version, and this jar's manifest is the kernel's. */
  static String tablesawVersion() {
    Properties properties = new Properties();
    try (InputStream in = Table.class.getResourceAsStream(
        "/META-INF/maven/tech.tablesaw/tablesaw-core/pom.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      // unknown: the banner says so
    }
    return properties.getProperty("version", "(version unknown)");
  }

  @Override
  public List<LanguageInfo.Help> getHelpLinks() {
    return List.of(
        new LanguageInfo.Help("JShell", "https://docs.oracle.com/en/java/javase/17/jshell/"),
        new LanguageInfo.Help("tablesaw", "https://jtablesaw.github.io/tablesaw/"));
  }

  @Override
  public HistoryManager getHistoryManager() {
    return history;
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread thread = new Thread(r, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  static String version() {
    return Optional.ofNullable(JavaKernel.class.getPackage().getImplementationVersion()).orElse("development");
  }
}
