package labenv.container;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import labenv.LabenvException;
import labenv.linux.Libc;

/**
 * Publishes container ports on the host ({@code run -p}). {@link #bind} listens on every host port before the
 * container starts, so a port in use is reported before anything runs; {@link #forwardTo} then relays each
 * connection to the container's loopback; {@link #close} stops it all and frees the ports.
 *
 * <p>As root, connections into the container are made in this process, by a thread that has joined the
 * container's network namespace ({@link NetnsConnector}). Rootless, joining that namespace needs capabilities in
 * the container's user namespace, and a multi-threaded JVM cannot enter a user namespace: so a helper JVM started
 * through {@code nsenter -U} (root in the container's user namespace, still in the host's network namespace)
 * listens and relays instead ({@link ForwarderProcess}, entered at {@link #main}).
 */
public final class PortForwarder implements AutoCloseable {
  private static final int BUFFER = 16 * 1024;

  private final List<PortMapping> ports;
  private final boolean inProcess;
  private final List<ServerSocketChannel> listeners;
  private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
  private final ExecutorService relays;
  private final List<Thread> acceptors = new ArrayList<>();
  private NetnsConnector connector;
  private ForwarderProcess helper;
  private boolean forwarding;
  private volatile boolean closed;

  private PortForwarder(List<PortMapping> ports, boolean inProcess, List<ServerSocketChannel> listeners) {
    this.ports = ports;
    this.inProcess = inProcess;
    this.listeners = listeners;
    this.relays = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "labenv-port-relay");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Listens on every host address and port of {@code ports}; none accepts until {@link #forwardTo}. Fails with one
   * line (BAD_INPUT) on a port in use, a privileged port for an ordinary user, or an address the host does not
   * have, after closing what it had bound.
   */
  public static PortForwarder bind(List<PortMapping> ports) {
    return bind(ports, Libc.geteuid() == 0);
  }

  static PortForwarder bind(List<PortMapping> ports, boolean inProcess) {
    Set<String> seen = new HashSet<>();
    for (PortMapping p : ports) {
      if (!seen.add(p.hostEndpoint())) {
        throw LabenvException.badInput("port " + p.hostEndpoint() + " is published twice: give each -p its own host"
            + " port");
      }
    }
    List<ServerSocketChannel> listeners = new ArrayList<>();
    try {
      for (PortMapping p : ports) {
        listeners.add(listen(p));
      }
    } catch (RuntimeException e) {
      listeners.forEach(NetnsConnector::closeQuietly);
      throw e;
    }
    return new PortForwarder(List.copyOf(ports), inProcess, listeners);
  }

  private static ServerSocketChannel listen(PortMapping p) {
    ServerSocketChannel channel = null;
    try {
      channel = ServerSocketChannel.open(p.hostAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6
          : StandardProtocolFamily.INET);
      // So that a port just freed (connections in TIME_WAIT) can be published again at once; it never lets two
      // listeners share a port on Linux.
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(new InetSocketAddress(p.hostAddress(), p.hostPort()), 128);
      return channel;
    } catch (BindException e) {
      NetnsConnector.closeQuietly(channel);
      throw bindFailure(p, e);
    } catch (IOException e) {
      NetnsConnector.closeQuietly(channel);
      throw LabenvException.failed("cannot listen on " + p.hostEndpoint() + ": " + e.getMessage(), e);
    }
  }

  private static LabenvException bindFailure(PortMapping p, BindException e) {
    String why = String.valueOf(e.getMessage());
    if (why.contains("already in use")) {
      return LabenvException.badInput("port " + p.hostEndpoint() + " is already in use: choose another host port");
    }
    if (why.contains("Permission denied")) {
      return LabenvException.badInput("port " + p.hostEndpoint() + " is privileged: only root may publish host ports"
          + " below " + unprivilegedPortStart() + "; choose a higher host port");
    }
    if (why.contains("Cannot assign requested address")) {
      return LabenvException.badInput("port " + p.hostEndpoint() + ": " + PortMapping.literal(p.hostAddress())
          + " is not an address of this host");
    }
    return LabenvException.failed("cannot listen on " + p.hostEndpoint() + ": " + why, e);
  }

  private static String unprivilegedPortStart() {
    try {
      return Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).trim();
    } catch (IOException e) {
      return "1024";
    }
  }

  public List<PortMapping> ports() {
    return ports;
  }

  /**
   * Starts relaying connections to the container whose process has host pid {@code containerPid} (any process
   * of the container: its network namespace is what counts). Call it once, after that process has entered the
   * container's namespaces. On failure, {@link #close} still has to be called.
   */
  public synchronized void forwardTo(long containerPid) {
    if (closed || forwarding) {
      throw new IllegalStateException(closed ? "closed" : "already forwarding");
    }
    forwarding = true;
    if (ports.isEmpty()) {
      return;
    }
    if (inProcess) {
      connector = NetnsConnector.join(containerPid);
      for (int i = 0; i < ports.size(); i++) {
        ServerSocketChannel listener = listeners.get(i);
        PortMapping port = ports.get(i);
        Thread t = new Thread(() -> accept(listener, port), "labenv-port-" + port.hostEndpoint());
        t.setDaemon(true);
        t.start();
        acceptors.add(t);
      }
    } else {
      // The helper binds the ports itself (it cannot be handed these sockets): held until now, so that nobody else
      // took them while the container started.
      listeners.forEach(NetnsConnector::closeQuietly);
      helper = ForwarderProcess.start(ports, containerPid);
    }
  }

  private void accept(ServerSocketChannel listener, PortMapping port) {
    while (!closed) {
      SocketChannel host;
      try {
        host = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        // Out of descriptors, say: the listener still works once connections end.
        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
        continue;
      }
      try {
        relays.execute(() -> relay(host, port));
      } catch (RejectedExecutionException e) {
        NetnsConnector.closeQuietly(host);
      }
    }
  }

  private void relay(SocketChannel host, PortMapping port) {
    connections.add(host);
    SocketChannel container;
    try {
      if (closed) {
        throw new ClosedChannelException();
      }
      container = connector.connect(port.containerPort());
    } catch (IOException e) {
      // Nothing listens there (yet): the client sees its connection closed, as docker's proxy does.
      end(host, null);
      return;
    }
    connections.add(container);
    if (closed) {
      end(host, container);
      return;
    }
    AtomicInteger directions = new AtomicInteger(2);
    try {
      relays.execute(() -> pump(container, host, directions));
    } catch (RejectedExecutionException e) {
      end(host, container);
      return;
    }
    pump(host, container, directions);
  }

  /** Copies one direction until EOF, then half-closes the other side: the peer may still answer. */
  private void pump(SocketChannel from, SocketChannel to, AtomicInteger directions) {
    ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
    try {
      while (from.read(buffer) >= 0) {
        buffer.flip();
        while (buffer.hasRemaining()) {
          to.write(buffer);
        }
        buffer.clear();
      }
      to.shutdownOutput();
    } catch (IOException e) {
      // A reset or a close on either side ends both directions.
      end(from, to);
      return;
    }
    if (directions.decrementAndGet() == 0) {
      end(from, to);
    }
  }

  private void end(SocketChannel a, SocketChannel b) {
    for (SocketChannel c : new SocketChannel[] {a, b}) {
      if (c != null) {
        NetnsConnector.closeQuietly(c);
        connections.remove(c);
      }
    }
  }

  /**
   * Stops listening and relaying and frees the host ports; connections in progress are cut. Returns once the
   * threads are done: a socket closed while a thread is blocked on it stays open in the kernel until that thread
   * wakes, so the port would otherwise be free only a moment later.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    listeners.forEach(NetnsConnector::closeQuietly);
    if (helper != null) {
      helper.close();
    }
    if (connector != null) {
      connector.close();
    }
    relays.shutdownNow();
    connections.forEach(NetnsConnector::closeQuietly);
    boolean interrupted = false;
    for (Thread t : acceptors) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    while (!relays.isTerminated()) {
      try {
        relays.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    connections.clear();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The rootless helper ({@link ForwarderProcess}): {@code PARENT_PID CONTAINER_PID PORT...}, run in the
   * container's user namespace. Prints {@code ready} once it forwards, or {@code error KIND MESSAGE}; forwards until
   * its standard input ends or its parent dies.
   */
  public static void main(String[] args) {
    try {
      // The parent's stdin pipe would tell us too, but only once it is read: this also covers a helper stuck
      // in startup when its parent is killed.
      Libc.prctl(Libc.PR_SET_PDEATHSIG, Libc.SIGKILL, 0, 0, 0);
      if (Libc.getppid() != Long.parseLong(args[0])) {
        System.exit(1); // the parent died before the line above
      }
    } catch (RuntimeException e) {
      System.out.println("error FAILED port forwarder: " + e.getMessage());
      System.exit(1);
    }
    List<PortMapping> ports = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      ports.add(PortMapping.parse(args[i]));
    }
    int status = 0;
    try (PortForwarder forwarder = bind(ports, true)) {
      forwarder.forwardTo(Long.parseLong(args[1]));
      System.out.println(ForwarderProcess.READY);
      System.out.flush();
      while (System.in.read() >= 0) {
        // the parent writes nothing: this waits for the end of the pipe
      }
    } catch (LabenvException e) {
      System.out.println("error " + e.kind() + " " + e.getMessage().replace('\n', ' '));
      status = 1;
    } catch (IOException | RuntimeException e) {
      System.out.println("error FAILED port forwarder: " + e);
      status = 1;
    }
    System.out.flush();
    System.exit(status);
  }
}
