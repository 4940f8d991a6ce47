package labenv.notebook.kernel;

import io.github.spencerpark.jupyter.channels.ShellReplyEnvironment;
import io.github.spencerpark.jupyter.messages.publish.PublishStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A running cell's stdout or stderr: bytes are kept until {@link #flush}, which publishes them as one Jupyter stream
 * message. The kernel flushes every {@value JavaKernel#FLUSH_MILLIS} ms while a cell runs (output appears as it is
 * written, in batches rather than a message per line) and once when it ends.
 */
final class CellStream extends OutputStream {
  private final PublishStream.StreamType type;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private ShellReplyEnvironment env;

  CellStream(PublishStream.StreamType type) {
    this.type = type;
  }

  /** Output from now on goes to the request {@code env} answers. */
  synchronized void attach(ShellReplyEnvironment env) {
    this.env = env;
  }

  /** Publishes what is pending; later output is dropped until the next {@link #attach}. */
  synchronized void detach() {
    flush();
    pending.reset();
    env = null;
  }

  @Override
  public synchronized void write(int b) {
    pending.write(b);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    pending.write(b, off, len);
  }

  @Override
  public synchronized void flush() {
    if (env == null) {
      pending.reset();
      return;
    }
    byte[] bytes = pending.toByteArray();
    // A timed flush may fall inside a character: publish the complete ones, keep the rest for the next flush.
    int complete = completeUtf8(bytes);
    if (complete == 0) {
      return;
    }
    pending.reset();
    pending.write(bytes, complete, bytes.length - complete);
    env.publish(new PublishStream(type, new String(Arrays.copyOf(bytes, complete), StandardCharsets.UTF_8)));
  }

  /** The length of the longest prefix of {@code bytes} that does not end inside a UTF-8 sequence. */
  static int completeUtf8(byte[] bytes) {
    int end = bytes.length;
    // Look back at most 3 bytes for the lead byte of the last sequence.
    for (int i = end - 1; i >= 0 && i >= end - 4; i--) {
      int b = bytes[i] & 0xff;
      if (b < 0x80) {
        return end; // ASCII: nothing open
      }
      if (b >= 0xc0) {
        int length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        return i + length <= end ? end : i;
      }
    }
    return end; // not UTF-8 after all: let the decoder replace it
  }
}
