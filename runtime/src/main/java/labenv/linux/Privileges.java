package labenv.linux;

import com.sun.jna.LastErrorException;
import labenv.container.Capabilities;
import labenv.container.ContainerSpec;

/**
 * The last step before a container's process execs: its capabilities, no_new_privs, seccomp filter and identity.
 * Everything here changes the calling thread only (prctl, capset, seccomp without TSYNC, and raw setresuid,
 * setresgid and setgroups instead of glibc's process-wide wrappers), so it serves both {@link Init}, whose main
 * thread execs the container's first process, and {@link SetnsInit}, whose one thread joins a running container
 * while the JVM's others stay outside: what execs inherits the calling thread's state, and execve ends the rest.
 */
final class Privileges {
  private Privileges() {}

  private static final int CAPABILITY_VERSION_3 = 0x20080522;

  /**
   * runc's order: the bounding set; no_new_privs and seccomp while CAP_SYS_ADMIN still allows a filter without
   * no_new_privs (the filter leaves what follows alone); the identity while CAP_SETUID and CAP_SETGID are still
   * effective, whatever the container keeps (a change away from root makes the kernel empty the permitted and
   * effective sets); then the capability sets.
   */
  static void drop(ContainerSpec.User user, ContainerSpec.Security security) {
    long kept = Capabilities.mask(security.capabilities());
    // Every possible capability number: the kernel refuses ones it does not know with EINVAL.
    // (Reading /proc/sys/kernel/cap_last_cap through NIO can come back short.)
    for (int cap = 0; cap <= 63; cap++) {
      if ((kept & (1L << cap)) != 0) {
        continue;
      }
      try {
        Libc.prctl(Libc.PR_CAPBSET_DROP, cap, 0, 0, 0);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != Libc.EINVAL) {
          throw new ErrnoException("prctl PR_CAPBSET_DROP", Capabilities.name(cap), e.getErrorCode());
        }
      }
    }
    if (security.noNewPrivileges()) {
      try {
        Libc.prctl(Libc.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      } catch (LastErrorException e) {
        throw new ErrnoException("prctl PR_SET_NO_NEW_PRIVS", null, e.getErrorCode());
      }
    }
    if (security.seccomp()) {
      Seccomp.install();
    }
    int[] groups = user.additionalGids().stream().mapToInt(Integer::intValue).toArray();
    try {
      Libc.syscall(Libc.sysSetgroups(), groups.length, groups);
    } catch (LastErrorException e) {
      // CAP_SETGID is still effective here: EPERM means a user namespace whose setgroups is denied (unshare
      // --map-root-user), which has only the one group anyway.
      if (e.getErrorCode() != Libc.EPERM) {
        throw new ErrnoException("setgroups", null, e.getErrorCode());
      }
    }
    try {
      Libc.syscall(Libc.sysSetresgid(), user.gid(), user.gid(), user.gid());
    } catch (LastErrorException e) {
      throw new ErrnoException("setresgid", Integer.toString(user.gid()), e.getErrorCode());
    }
    try {
      Libc.syscall(Libc.sysSetresuid(), user.uid(), user.uid(), user.uid());
    } catch (LastErrorException e) {
      throw new ErrnoException("setresuid", Integer.toString(user.uid()), e.getErrorCode());
    }
    // Effective and permitted: the kept set for root, nothing for another user (as Docker), and never more than
    // this thread has (a host that withholds a capability from us withholds it from the container).
    // Inheritable: empty, as Docker has had it since CVE-2022-24769, so a file's inheritable capabilities cannot
    // raise a non-root user.
    int[] header = {CAPABILITY_VERSION_3, 0};
    int[] current = new int[6];
    try {
      Libc.syscall(Libc.sysCapget(), header, current);
    } catch (LastErrorException e) {
      throw new ErrnoException("capget", null, e.getErrorCode());
    }
    long permitted = Integer.toUnsignedLong(current[1]) | (Integer.toUnsignedLong(current[4]) << 32);
    long sets = user.uid() == 0 ? kept & permitted : 0;
    int low = (int) sets;
    int high = (int) (sets >>> 32);
    try {
      Libc.syscall(Libc.sysCapset(), header, new int[] {low, low, 0, high, high, 0});
    } catch (LastErrorException e) {
      throw new ErrnoException("capset", null, e.getErrorCode());
    }
    try {
      Libc.prctl(Libc.PR_CAP_AMBIENT, Libc.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("prctl PR_CAP_AMBIENT_CLEAR_ALL", null, e.getErrorCode());
    }
  }
}
