package labenv.dataset;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import labenv.LabenvException;
import labenv.image.Digest;

/**
 * Runs a {@link Packer} on a thread of its own: the caller reads and hashes the next files while
 * this thread cuts and hashes chunks (a core each on a two-core machine). Files are handed over whole
 * (small files: at most {@link Packer#PACK_LIMIT} bytes each), at most {@link #MAX_QUEUED_BYTES}
 * waiting. The callbacks run on the packing thread; what they write is visible to the caller once
 * {@link #finish} returns. A failure there (a chunk that cannot be stored) is thrown to the caller by
 * the next {@link #add} or by {@link #finish}.
 */
final class PackThread implements AutoCloseable {
  static final int MAX_QUEUED_BYTES = 16 << 20;

  private record Item(byte[] bytes, Consumer<List<Chunk>> done) {}

  private static final Item END = new Item(null, null);

  private final Packer packer;
  private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(4096);
  private final Semaphore room = new Semaphore(MAX_QUEUED_BYTES);
  private final Thread thread;
  private volatile RuntimeException failure;
  private volatile boolean cancelled;
  private boolean ended;

  PackThread(Packer packer) {
    this.packer = packer;
    this.thread = new Thread(this::loop, "dataset-pack");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    try {
      while (true) {
        Item item = queue.take();
        if (item == END) {
          if (!cancelled) {
            try {
              packer.finish();
            } catch (RuntimeException e) {
              failure = e;
            }
          }
          return;
        }
        room.release(item.bytes().length);
        if (failure == null && !cancelled) {
          packer.file(item.bytes().length, item.done());
          packer.write(item.bytes(), 0, item.bytes().length);
        }
      }
    } catch (InterruptedException e) {
      failure = LabenvException.failed("dataset add: packing was interrupted", e);
    } catch (RuntimeException e) {
      failure = e;
      // keep taking (and dropping) what is queued, so that the caller never blocks on a full queue
      drainAfterFailure();
    }
  }

  private void drainAfterFailure() {
    try {
      while (true) {
        Item item = queue.take();
        if (item == END) {
          return;
        }
        room.release(item.bytes().length);
      }
    } catch (InterruptedException e) {
      // ending
    }
  }

  /** Queues a file's whole content (not empty); {@code done} gets its pieces once they are cut. */
  void add(byte[] bytes, Consumer<List<Chunk>> done) {
    throwFailure();
    room.acquireUninterruptibly(bytes.length);
    put(new Item(bytes, done));
  }

  /** Cuts the rest and waits: every file's pieces are given, and the chunks made are returned. */
  Map<Digest, Long> finish() {
    end();
    throwFailure();
    return packer.chunks();
  }

  private void end() {
    if (ended) {
      return;
    }
    ended = true;
    put(END);
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void put(Item item) {
    while (true) {
      try {
        queue.put(item);
        return;
      } catch (InterruptedException e) {
        cancelled = true;
      }
    }
  }

  private void throwFailure() {
    RuntimeException f = failure;
    if (f instanceof LabenvException le) {
      throw LabenvException.failed(le.getMessage(), le);
    } else if (f != null) {
      throw LabenvException.failed("dataset add: packing failed: " + f, f);
    }
  }

  /** Stops the thread without finishing when {@link #finish} was not reached (an earlier failure). */
  @Override
  public void close() {
    if (!ended) {
      cancelled = true;
      end();
    }
  }
}
