package labenv.container;

import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import labenv.LabenvException;

/**
 * Linux capabilities by the names docker accepts ({@code NET_ADMIN}, {@code CAP_NET_ADMIN}, any case) and the
 * numbers the kernel uses; a container keeps a set of numbers in its bounding set (see
 * {@link ContainerSpec.Security#capabilities()}).
 */
public final class Capabilities {
  private Capabilities() {}

  /** capability.h's names without CAP_, indexed by number. */
  private static final List<String> NAMES = List.of("CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
      "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",
      "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
      "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
      "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
      "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE");

  /** Docker's default set: CHOWN … SETFCAP, everything else dropped. */
  public static final SortedSet<Integer> DOCKER_DEFAULT = of(Set.of(
      0 /* CHOWN */, 1 /* DAC_OVERRIDE */, 3 /* FOWNER */, 4 /* FSETID */, 5 /* KILL */, 6 /* SETGID */,
      7 /* SETUID */, 8 /* SETPCAP */, 10 /* NET_BIND_SERVICE */, 13 /* NET_RAW */, 18 /* SYS_CHROOT */,
      27 /* MKNOD */, 29 /* AUDIT_WRITE */, 31 /* SETFCAP */));

  /** An immutable, sorted copy (sorted so that config.json lists them the same way every time). */
  public static SortedSet<Integer> of(Set<Integer> numbers) {
    for (int n : numbers) {
      if (n < 0 || n > 63) {
        throw new IllegalArgumentException("capability number " + n + " is outside 0..63");
      }
    }
    return Collections.unmodifiableSortedSet(new TreeSet<>(numbers));
  }

  /** The number of {@code name} ({@code net_admin}, {@code CAP_NET_ADMIN}); -1 when there is no such capability. */
  public static int number(String name) {
    String n = name.trim().toUpperCase(Locale.ROOT);
    if (n.startsWith("CAP_")) {
      n = n.substring(4);
    }
    return NAMES.indexOf(n);
  }

  /** {@code CAP_NET_ADMIN} for 12. */
  public static String name(int number) {
    return number >= 0 && number < NAMES.size() ? "CAP_" + NAMES.get(number) : "CAP_" + number;
  }

  /**
   * Docker's {@code --cap-add}/{@code --cap-drop} on top of its default set: {@code ALL} in the additions means
   * every capability but the dropped ones; {@code ALL} in the drops means only the added ones; otherwise the
   * default, minus the drops, plus the additions.
   */
  public static SortedSet<Integer> tweak(List<String> add, List<String> drop) {
    if (add.isEmpty() && drop.isEmpty()) {
      return DOCKER_DEFAULT;
    }
    boolean addAll = add.stream().anyMatch(Capabilities::isAll);
    boolean dropAll = drop.stream().anyMatch(Capabilities::isAll);
    Set<Integer> added = numbers(add, "--cap-add");
    Set<Integer> dropped = numbers(drop, "--cap-drop");
    TreeSet<Integer> caps = new TreeSet<>();
    if (addAll) {
      for (int c = 0; c < NAMES.size(); c++) {
        caps.add(c);
      }
      caps.removeAll(dropped);
    } else if (dropAll) {
      caps.addAll(added);
    } else {
      caps.addAll(DOCKER_DEFAULT);
      caps.removeAll(dropped);
      caps.addAll(added);
    }
    return of(caps);
  }

  private static boolean isAll(String name) {
    return name.trim().equalsIgnoreCase("ALL");
  }

  private static Set<Integer> numbers(List<String> names, String option) {
    Set<Integer> numbers = new TreeSet<>();
    for (String name : names) {
      if (isAll(name)) {
        continue;
      }
      int n = number(name);
      if (n < 0) {
        throw LabenvException.badInput(option + " \"" + name + "\": unknown capability (e.g. NET_ADMIN, CAP_SYS_PTRACE, ALL)");
      }
      numbers.add(n);
    }
    return numbers;
  }

  /** The set as a bit mask, bit N for capability N. */
  public static long mask(Set<Integer> numbers) {
    long mask = 0;
    for (int n : numbers) {
      mask |= 1L << n;
    }
    return mask;
  }

  /** The set of a bit mask. */
  public static SortedSet<Integer> fromMask(long mask) {
    TreeSet<Integer> numbers = new TreeSet<>();
    for (int n = 0; n < 64; n++) {
      if ((mask & (1L << n)) != 0) {
        numbers.add(n);
      }
    }
    return Collections.unmodifiableSortedSet(numbers);
  }
}
