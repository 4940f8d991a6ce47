package labenv.notebook.kernel;

import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.history.HistoryEntry;
import io.github.spencerpark.jupyter.messages.reply.InterruptReply;
import io.github.spencerpark.jupyter.messages.reply.KernelInfoReply;
import java.util.List;

/**
 * Replies the basekernel (2.3.0) sends without the {@code "status": "ok"} that the message spec (5.x) requires of
 * every reply, and that the Jupyter project's kernel tests check. Gson writes a subclass's field with the rest; the
 * classes that cannot be subclasses are sent as raw messages of the reply's type.
 */
final class Replies {
  private Replies() {}

  static final class KernelInfo extends KernelInfoReply {
    @SuppressWarnings("unused") // serialised by Gson
    private final String status = "ok";

    KernelInfo(String protocolVersion, String implementation, String version, LanguageInfo language, String banner,
        List<LanguageInfo.Help> helpLinks) {
      super(protocolVersion, implementation, version, language, banner, helpLinks);
    }
  }

  /**
   * history_reply: the basekernel's Gson writes its entries as objects (its tuple adapter is registered only for
   * reading), so the entries are written here as the spec's lists: [session, line, input] or
   * [session, line, [input, output]].
   */
  static final class History {
    @SuppressWarnings("unused")
    private final String status = "ok";
    @SuppressWarnings("unused")
    private final List<List<Object>> history;

    History(List<HistoryEntry> entries) {
      this.history = entries.stream()
          .map(e -> List.<Object>of(e.getSession(), e.getCellNumber(),
              e.hasOutput() ? List.of(e.getInput(), e.getOutput()) : e.getInput()))
          .toList();
    }
  }

  static final class Interrupt extends InterruptReply {
    @SuppressWarnings("unused")
    private final String status = "ok";
  }

  /** execute_reply of a request queued behind a failed cell (stop_on_error), as ipykernel sends it. */
  static final class Aborted {
    @SuppressWarnings("unused")
    private final String status = "aborted";
  }

  /** shutdown_reply: the basekernel's class cannot be extended (private constructor), so a class of its own. */
  static final class Shutdown {
    @SuppressWarnings("unused")
    private final String status = "ok";
    @SuppressWarnings("unused")
    private final boolean restart;

    Shutdown(boolean restart) {
      this.restart = restart;
    }
  }
}
