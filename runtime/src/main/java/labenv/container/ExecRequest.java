package labenv.container;

import java.nio.file.Path;
import java.util.List;

/**
 * A process to start in a running container ({@code labenv exec}).
 *
 * @param containerPid the container's first process, as the host sees it
 * @param spec the container's spec: the environment, working directory, user and security the process starts from
 * @param args the command and its arguments
 * @param extraEnv KEY=VALUE entries that override the container's by key
 * @param cwd the working directory, or null for the container's
 * @param user name, uid, name:group or uid:gid resolved in the container's /etc/passwd; null for the container's
 * @param interactive whether the command reads labenv's standard input (else /dev/null)
 * @param tty whether the command gets a pseudo-terminal of the container's
 * @param cgroupProcsFiles the {@code cgroup.procs} files of the container's cgroups the process must join (see
 *     {@link Exec#cgroupProcsFiles})
 */
public record ExecRequest(long containerPid, ContainerSpec spec, List<String> args, List<String> extraEnv, String cwd,
    String user, boolean interactive, boolean tty, List<Path> cgroupProcsFiles) {
  public ExecRequest {
    args = List.copyOf(args);
    extraEnv = List.copyOf(extraEnv);
    cgroupProcsFiles = List.copyOf(cgroupProcsFiles);
  }
}
