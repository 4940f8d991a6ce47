package labenv;

/**
 * Progress of one long piece of work (load, save, import, pull...), reported in bytes. The CLI
 * draws a bar on a terminal and stays quiet otherwise; library code only reports.
 */
public interface Progress {
  /** Reports nothing. */
  Progress NONE = new Progress() {
    @Override
    public void start(String task, long totalBytes) {}

    @Override
    public void advance(long bytes) {}

    @Override
    public void done() {}
  };

  /** A new phase named {@code task}; {@code totalBytes} is -1 when unknown. */
  void start(String task, long totalBytes);

  /** {@code bytes} more of the current phase are done. */
  void advance(long bytes);

  /** The current phase is over. */
  void done();

  /** An output stream that reports what is written to it. */
  static java.io.OutputStream counting(java.io.OutputStream out, Progress progress) {
    if (progress == NONE) {
      return out;
    }
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(int b) throws java.io.IOException {
        out.write(b);
        progress.advance(1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws java.io.IOException {
        out.write(b, off, len);
        progress.advance(len);
      }
    };
  }

  /** An input stream that reports what is read from it. */
  static java.io.InputStream counting(java.io.InputStream in, Progress progress) {
    if (progress == NONE) {
      return in;
    }
    return new java.io.FilterInputStream(in) {
      @Override
      public int read() throws java.io.IOException {
        int b = super.read();
        if (b >= 0) {
          progress.advance(1);
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws java.io.IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          progress.advance(n);
        }
        return n;
      }

      @Override
      public long skip(long n) throws java.io.IOException {
        long s = super.skip(n);
        if (s > 0) {
          progress.advance(s);
        }
        return s;
      }
    };
  }
}
