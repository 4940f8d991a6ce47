package labenv.build;

import java.io.OutputStream;

/** What a build tells its user as it goes (the CLI prints it; tests may collect it). */
public interface BuildListener {
  /** Step {@code number} of {@code total} starts: {@code text} is the instruction, {@code stage} its stage's name. */
  void step(int number, int total, String stage, String text);

  /** The step just started was taken from the cache. */
  void cached();

  /** The step just started finished after {@code millis}. */
  void done(long millis);

  /** Where a RUN step's output goes (stdout and stderr merged); must stay open. */
  OutputStream output();

  void warning(String message);

  BuildListener QUIET = new BuildListener() {
    @Override
    public void step(int number, int total, String stage, String text) {}

    @Override
    public void cached() {}

    @Override
    public void done(long millis) {}

    @Override
    public OutputStream output() {
      return OutputStream.nullOutputStream();
    }

    @Override
    public void warning(String message) {}
  };
}
