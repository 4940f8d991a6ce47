package labenv.oci;

import java.util.Map;

/**
 * A container's state as the runtime spec defines it ({@code runc state} prints the same fields).
 *
 * @param status creating, created, running or stopped
 * @param pid the container process as the host sees it; 0 once stopped
 * @param annotations the config's, or null when it had none
 */
public record OciState(String ociVersion, String id, String status, long pid, String bundle,
    Map<String, String> annotations) {
  public static final String CREATING = "creating";
  public static final String CREATED = "created";
  public static final String RUNNING = "running";
  public static final String STOPPED = "stopped";
}
