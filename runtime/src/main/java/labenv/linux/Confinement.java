package labenv.linux;

import java.util.List;

/**
 * What {@link Init} hides and keeps, in one place for Init and for the OCI config that describes the same
 * container to crun or runc ({@code labenv.oci.OciConfig}): the masked and read-only paths (Docker's). The
 * capabilities are {@link labenv.container.Capabilities}.
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
}
