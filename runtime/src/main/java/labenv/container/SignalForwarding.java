package labenv.container;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import labenv.linux.Libc;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * While a container runs, SIGINT, SIGTERM and SIGHUP to labenv go to the container's pid 1 (unshare ignores
 * them while it waits). A second signal kills it: a pid 1 without a handler ignores the first.
 * ({@code unshare} is the process this JVM started; it execs a shell whose first child is the container's pid 1.)
 */
final class SignalForwarding implements AutoCloseable {
  private final List<Signal> signals = new ArrayList<>();
  private final List<SignalHandler> previous = new ArrayList<>();
  private final Process unshare;
  private int received;

  private SignalForwarding(Process unshare) {
    this.unshare = unshare;
  }

  static SignalForwarding install(Process unshare) {
    SignalForwarding f = new SignalForwarding(unshare);
    for (String name : List.of("INT", "TERM", "HUP")) {
      Signal s = new Signal(name);
      f.signals.add(s);
      f.previous.add(Signal.handle(s, f::forward));
    }
    return f;
  }

  private synchronized void forward(Signal signal) {
    received++;
    // The second time, SIGKILL: pid 1 of a namespace ignores what it has no handler for, but not that.
    int sig = received > 1 ? Libc.SIGKILL : signal.getNumber();
    Optional<ProcessHandle> init = unshare.toHandle().children().findFirst();
    init.ifPresent(p -> {
      try {
        Libc.kill((int) p.pid(), sig);
      } catch (RuntimeException e) {
        // it ended meanwhile
      }
    });
  }

  @Override
  public void close() {
    for (int i = 0; i < signals.size(); i++) {
      Signal.handle(signals.get(i), previous.get(i));
    }
  }
}
