package labenv.linux;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link Init} hides and keeps, in one place for Init and for the OCI config that describes the same
 * container to crun or runc ({@code labenv.oci.OciConfig}): the masked and read-only paths (Docker's), and the
 * capabilities by name.
 */
public final class Confinement {
  private Confinement() {}

  /** Host information and kernel knobs that /proc and /sys would otherwise show: hidden. */
  public static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
      "/sys/firmware", "/sys/devices/virtual/powercap");

  /** Kernel settings under /proc: visible, but read-only. */
  public static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
      "/proc/sysrq-trigger");

  /** capabilities(7) by number, as the OCI runtime spec names them. */
  private static final List<String> CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
      "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
      "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
      "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
      "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
      "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE");

  /** The capabilities a container keeps (Docker's default set), by name, in number order. */
  public static List<String> keptCapabilities() {
    List<String> names = new ArrayList<>();
    for (int cap = 0; cap < CAPABILITIES.size(); cap++) {
      if (Init.KEPT_CAPABILITIES.contains(cap)) {
        names.add(CAPABILITIES.get(cap));
      }
    }
    return names;
  }

  /** The number of a capability named as the OCI spec does ({@code CAP_KILL}), or -1 for an unknown name. */
  public static int capability(String name) {
    return CAPABILITIES.indexOf(name);
  }
}
