package labenv.container;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import labenv.LabenvException;
import labenv.linux.ErrnoException;
import labenv.linux.Libc;
import labenv.linux.Syscalls;

/**
 * Opens TCP connections to a container's loopback. A socket belongs to the network namespace of the thread that
 * creates it, and setns(CLONE_NEWNET) moves only the calling thread: so one dedicated thread joins the container's
 * namespace for good and creates every socket, and connecting happens on the caller's thread. That thread never
 * runs anything else, and ends with {@link #close}.
 */
final class NetnsConnector implements AutoCloseable {
  private static final CompletableFuture<SocketChannel> STOP = new CompletableFuture<>();
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final BlockingQueue<CompletableFuture<SocketChannel>> requests = new LinkedBlockingQueue<>();
  private boolean closed;

  private NetnsConnector() {}

  /**
   * Joins the network namespace of host process {@code pid}, which must differ from this process's: a process that
   * has not yet left the host's namespace would have its connections land on the host.
   */
  static NetnsConnector join(long pid) {
    String ns = "/proc/" + pid + "/ns/net";
    int fd;
    try {
      fd = Libc.open(Syscalls.cstr(ns), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw LabenvException.failed("cannot publish ports: container process " + pid + " is gone ("
          + Libc.errorText(e.getErrorCode()) + ")");
    }
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      String self = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
      if (target.equals(self)) {
        throw LabenvException.failed("cannot publish ports: process " + pid
            + " shares the host's network namespace (ports are published for a container with its own network)");
      }
    } catch (IOException e) {
      Libc.close(fd);
      throw LabenvException.failed("cannot publish ports: " + ns + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      Libc.close(fd);
      throw e;
    }
    NetnsConnector connector = new NetnsConnector();
    CompletableFuture<Void> joined = new CompletableFuture<>();
    Thread thread = new Thread(() -> connector.serve(fd, ns, joined), "labenv-netns-" + pid);
    thread.setDaemon(true);
    thread.start();
    try {
      joined.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof LabenvException l ? l.withContext("cannot publish ports")
          : LabenvException.failed("cannot publish ports: " + e.getCause(), e.getCause());
    }
    return connector;
  }

  private void serve(int fd, String ns, CompletableFuture<Void> joined) {
    try {
      Libc.setns(fd, Libc.CLONE_NEWNET);
    } catch (LastErrorException e) {
      joined.completeExceptionally(new ErrnoException("setns", ns, e.getErrorCode()));
      return;
    } finally {
      Libc.close(fd);
    }
    joined.complete(null);
    while (true) {
      CompletableFuture<SocketChannel> request;
      try {
        request = requests.take();
      } catch (InterruptedException e) {
        continue; // only STOP ends this thread: a request left unanswered would hang its caller
      }
      if (request == STOP) {
        return;
      }
      try {
        request.complete(SocketChannel.open(StandardProtocolFamily.INET));
      } catch (IOException | RuntimeException e) {
        request.completeExceptionally(e);
      }
    }
  }

  /** A connection to {@code port} on the container's 127.0.0.1; fails as connect(2) does (refused, unreachable). */
  SocketChannel connect(int port) throws IOException {
    CompletableFuture<SocketChannel> request = new CompletableFuture<>();
    synchronized (this) {
      if (closed) {
        throw new ClosedChannelException();
      }
      requests.add(request);
    }
    SocketChannel channel;
    try {
      channel = request.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      // The socket may still arrive: close it then, rather than leak it.
      request.thenAccept(NetnsConnector::closeQuietly);
      throw new java.io.InterruptedIOException("interrupted while opening a socket in the container");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
    try {
      channel.connect(new InetSocketAddress(LOOPBACK, port));
      return channel;
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      requests.add(STOP);
    }
  }

  static void closeQuietly(java.io.Closeable c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        // closing a socket: nothing left to do about it
      }
    }
  }
}
