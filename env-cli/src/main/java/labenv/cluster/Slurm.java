package labenv.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import labenv.LabenvException;

/**
 * The Slurm commands labenv uses, run as the user would run them: {@code sbatch} to submit, {@code squeue} to see what
 * is queued. Found on {@code PATH} of the environment given (a login node's); {@code SLURM_CONF} and the like pass
 * through to them. No accounting ({@code sacct}) is assumed: many clusters have none, and a single-machine Slurm never.
 */
public final class Slurm {
  private static final long TIMEOUT_SECONDS = 120;

  private final Map<String, String> env;

  /** {@code env}: the environment the commands run in (and the job inherits: sbatch exports it to the tasks). */
  public Slurm(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** Fails unless sbatch and squeue are on PATH: checked before anything is built or pushed. */
  public void check() {
    for (String tool : List.of("sbatch", "squeue")) {
      if (find(tool) == null) {
        throw notFound(tool);
      }
    }
  }

  /**
   * Submits {@code script} ({@code sbatch --parsable}) from {@code workdir} (the job's working directory, where
   * relative {@code #SBATCH} paths start) and returns the job id.
   */
  public String submit(Path script, Path workdir) {
    Output o = command(List.of("sbatch", "--parsable", script.toString()), workdir);
    if (o.code() != 0) {
      throw refused(o);
    }
    // --parsable prints "JOBID" or "JOBID;CLUSTER".
    String id = o.out().strip();
    int semicolon = id.indexOf(';');
    id = semicolon < 0 ? id : id.substring(0, semicolon);
    if (!id.matches("[0-9]+")) {
      throw LabenvException.failed("sbatch " + script + " printed no job id (\"" + o.out().strip() + "\"); is it "
          + "Slurm's sbatch?");
    }
    return id;
  }

  /**
   * Asks Slurm whether it would take {@code script} ({@code sbatch --test-only}: partition, time, resources and array
   * checked by the controller, nothing submitted), so that nothing is pushed for a job it refuses.
   */
  public void test(Path script, Path workdir) {
    Output o = command(List.of("sbatch", "--test-only", script.toString()), workdir);
    if (o.code() != 0) {
      throw refused(o);
    }
  }

  private static LabenvException refused(Output o) {
    return LabenvException.failed("sbatch refused the job (exit " + o.code() + "): " + o.message());
  }

  /**
   * The state of each array task of {@code jobId} that the controller still knows ({@code squeue -t all}: finished
   * tasks stay for its MinJobAge), by task index: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT... Empty
   * when the controller has forgotten the job.
   */
  public Map<Integer, String> queue(String jobId) {
    Output o = command(List.of("squeue", "--noheader", "--array", "--states=all", "--jobs=" + jobId,
        "--format=%i %T"), null);
    if (o.code() != 0) {
      if (o.err().contains("Invalid job id")) {
        return Map.of();
      }
      throw LabenvException.failed("squeue --jobs=" + jobId + " failed (exit " + o.code() + "): " + o.message());
    }
    Map<Integer, String> states = new LinkedHashMap<>();
    for (String line : o.out().lines().toList()) {
      String[] f = line.strip().split("\\s+");
      if (f.length != 2 || !f[0].startsWith(jobId + "_")) {
        continue;
      }
      String task = f[0].substring(jobId.length() + 1);
      if (task.matches("[0-9]+")) {
        states.put(Integer.parseInt(task), f[1]);
      } else if (task.matches("\\[[0-9,\\-%]+]")) {
        // Pending tasks not yet split off: "123_[0-2,5%2]" (a throttle after %).
        String ranges = task.substring(1, task.length() - 1).replaceAll("%.*", "");
        for (String r : ranges.split(",")) {
          String[] ab = r.split("-");
          int a = Integer.parseInt(ab[0]);
          int b = ab.length == 2 ? Integer.parseInt(ab[1]) : a;
          for (int i = a; i <= b; i++) {
            states.put(i, f[1]);
          }
        }
      }
    }
    return states;
  }

  private record Output(int code, String out, String err) {
    /** stderr (else stdout) as one line: Slurm's "sbatch: error: ..." lines joined. */
    String message() {
      String text = err.isBlank() ? out : err;
      List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
      return lines.isEmpty() ? "(it printed nothing)" : String.join("; ", lines);
    }
  }

  private Output command(List<String> cmd, Path cwd) {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().clear();
    pb.environment().putAll(env);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("labenv-slurm-", ".out");
      err = Files.createTempFile("labenv-slurm-", ".err");
      pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
          Path.of("/dev/null").toFile()));
      Process p;
      try {
        p = start(pb);
      } catch (IOException e) {
        throw notFound(cmd.get(0));
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor();
        throw LabenvException.failed(cmd.get(0) + " did not answer within " + TIMEOUT_SECONDS + " s: is the Slurm "
            + "controller reachable (scontrol ping)?");
      }
      return new Output(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw LabenvException.failed("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed(cmd.get(0) + ": interrupted", e);
    } finally {
      delete(out);
      delete(err);
    }
  }

  private LabenvException notFound(String tool) {
    return LabenvException.failed(tool + " not found on PATH (" + env.getOrDefault("PATH", "unset") + "): submit, "
        + "status and collect --slurm run where Slurm's commands are, on a login node of the cluster");
  }

  /** Starts the command found on the environment's PATH (ProcessBuilder would search the JVM's own). */
  private Process start(ProcessBuilder pb) throws IOException {
    Path found = find(pb.command().get(0));
    if (found == null) {
      throw new IOException(pb.command().get(0) + " not found");
    }
    List<String> cmd = new ArrayList<>(pb.command());
    cmd.set(0, found.toString());
    return pb.command(cmd).start();
  }

  private Path find(String name) {
    for (String dir : env.getOrDefault("PATH", "").split(":")) {
      Path candidate = dir.isEmpty() ? null : Path.of(dir, name);
      if (candidate != null && Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static void delete(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // a temporary file left in /tmp
      }
    }
  }
}
