package labenv.container;

import java.time.Instant;
import java.util.List;

/**
 * What {@code ps}, {@code stop}, {@code logs} and the rest know of a container: {@code containers/<id>/state.json},
 * replaced whole on every change. Written by the process that supervises the container (the {@code run} in the
 * foreground, a {@link Monitor} when detached); when that process is gone, {@link Containers#reconcile} finishes
 * the record from what the kernel still shows.
 *
 * <p>Processes are named by pid and start time (field 22 of {@code /proc/PID/stat}), so a recycled pid is never
 * mistaken for the container.
 *
 * @param pid the host pid of the container's first process (the command, once it has exec'd); 0 before it starts
 * @param exitCode null while it runs, and when nobody saw it end
 * @param error why labenv could not start it or lost track of it; null otherwise
 */
public record ContainerState(String id, String name, String image, String imageDigest, List<String> command,
    String created, Status status, long pid, long pidStartTime, long monitorPid, long monitorStartTime,
    String startedAt, String finishedAt, Integer exitCode, boolean oomKilled, String error, boolean autoRemove,
    boolean detached, boolean tty, List<String> ports, List<String> cgroups, Limits limits) {

  public enum Status { created, running, exited }

  public ContainerState {
    command = command == null ? List.of() : List.copyOf(command);
    ports = ports == null ? List.of() : List.copyOf(ports);
    cgroups = cgroups == null ? List.of() : List.copyOf(cgroups);
    limits = limits == null ? Limits.NONE : limits;
  }

  /** A container just made, not started. */
  public static ContainerState created(Container c, String image, String imageDigest, boolean autoRemove,
      boolean detached, boolean tty, List<String> ports, Limits limits) {
    return new ContainerState(c.id(), c.name(), image, imageDigest, c.spec().process().args(), Instant.now().toString(),
        Status.created, 0, 0, 0, 0, null, null, null, false, null, autoRemove, detached, tty, ports, List.of(), limits);
  }

  public ContainerState supervisedBy(long monitorPid, long monitorStartTime) {
    return new ContainerState(id, name, image, imageDigest, command, created, status, pid, pidStartTime, monitorPid,
        monitorStartTime, startedAt, finishedAt, exitCode, oomKilled, error, autoRemove, detached, tty, ports, cgroups,
        limits);
  }

  public ContainerState running(long pid, long pidStartTime, List<String> cgroups) {
    return new ContainerState(id, name, image, imageDigest, command, created, Status.running, pid, pidStartTime,
        monitorPid, monitorStartTime, Instant.now().toString(), null, null, false, null, autoRemove, detached, tty,
        ports, cgroups, limits);
  }

  public ContainerState exited(Integer exitCode, boolean oomKilled, String error) {
    return new ContainerState(id, name, image, imageDigest, command, created, Status.exited, pid, pidStartTime,
        monitorPid, monitorStartTime, startedAt, Instant.now().toString(), exitCode, oomKilled, error, autoRemove,
        detached, tty, ports, cgroups, limits);
  }

  public String shortId() {
    return id.substring(0, Math.min(12, id.length()));
  }

  /** Derived from status: not a field of state.json. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isRunning() {
    return status == Status.running;
  }
}
