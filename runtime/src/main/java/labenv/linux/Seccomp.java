package labenv.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.ByteArrayOutputStream;

/**
 * The container's default seccomp filter, a deny list in classic BPF: the syscalls that administer the
 * kernel or the host (modules, kexec, mounts, namespaces, keyrings, tracing, swap, reboot) fail with
 * EPERM, everything else is allowed. Not Docker's allow list, but the same walls for what matters.
 */
final class Seccomp {
  private Seccomp() {}

  private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
  private static final int AUDIT_ARCH_AARCH64 = 0xC00000B7;
  /** x32 syscalls on x86_64 are numbered from here; they would slip past a filter of x86_64 numbers. */
  private static final int X32_SYSCALL_BIT = 0x40000000;
  private static final long CLONE_NEWUSER = 0x10000000L;
  private static final int EPERM = 1;
  private static final int ENOSYS = 38;

  private static final int RET_KILL_PROCESS = 0x80000000;
  private static final int RET_ERRNO = 0x00050000;
  private static final int RET_ALLOW = 0x7fff0000;

  // BPF opcodes: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JGE|BPF_K, BPF_JMP|BPF_JSET|BPF_K, BPF_RET|BPF_K
  private static final int LD_ABS = 0x20;
  private static final int JEQ = 0x15;
  private static final int JGE = 0x35;
  private static final int JSET = 0x45;
  private static final int RET = 0x06;

  // struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6] (both architectures are little-endian)
  private static final int NR = 0;
  private static final int ARCH = 4;
  private static final int ARG0_LOW = 16;

  /** Syscall numbers per architecture: x86_64, aarch64 (the generic table). */
  private static final int[][] DENIED = {
      {165, 40} /* mount */, {166, 39} /* umount2 */, {155, 41} /* pivot_root */,
      {246, 104} /* kexec_load */, {320, 294} /* kexec_file_load */,
      {175, 105} /* init_module */, {313, 273} /* finit_module */, {176, 106} /* delete_module */,
      {321, 280} /* bpf */, {298, 241} /* perf_event_open */,
      {250, 219} /* keyctl */, {248, 217} /* add_key */, {249, 218} /* request_key */,
      {167, 224} /* swapon */, {168, 225} /* swapoff */, {169, 142} /* reboot */,
      {308, 268} /* setns */, {304, 265} /* open_by_handle_at */, {323, 282} /* userfaultfd */,
      {101, 117} /* ptrace */, {310, 270} /* process_vm_readv */, {311, 271} /* process_vm_writev */,
      {163, 89} /* acct */, {212, 18} /* lookup_dcookie */, {179, 60} /* quotactl */, {443, 443} /* quotactl_fd */,
      {103, 116} /* syslog */,
      // the new mount API would otherwise get around the ban on mount(2)
      {428, 428} /* open_tree */, {429, 429} /* move_mount */, {430, 430} /* fsopen */, {431, 431} /* fsconfig */,
      {432, 432} /* fsmount */, {433, 433} /* fspick */, {442, 442} /* mount_setattr */,
      {467, 467} /* open_tree_attr */,
  };
  private static final int[] CLONE = {56, 220};
  private static final int[] CLONE3 = {435, 435};
  private static final int[] UNSHARE = {272, 97};

  /** The filter for this machine's architecture, as struct sock_filter[] bytes. */
  static byte[] program(boolean aarch64) {
    int a = aarch64 ? 1 : 0;
    ByteArrayOutputStream p = new ByteArrayOutputStream(64 * 8);
    // A process of another architecture would be read with the wrong numbers: kill it.
    insn(p, LD_ABS, 0, 0, ARCH);
    insn(p, JEQ, 1, 0, aarch64 ? AUDIT_ARCH_AARCH64 : AUDIT_ARCH_X86_64);
    insn(p, RET, 0, 0, RET_KILL_PROCESS);
    insn(p, LD_ABS, 0, 0, NR);
    if (!aarch64) {
      insn(p, JGE, 0, 1, X32_SYSCALL_BIT);
      insn(p, RET, 0, 0, RET_ERRNO | EPERM);
    }
    for (int[] nr : DENIED) {
      insn(p, JEQ, 0, 1, nr[a]);
      insn(p, RET, 0, 0, RET_ERRNO | EPERM);
    }
    // clone3 hides its flags behind a pointer BPF cannot follow; ENOSYS makes libc fall back to clone.
    insn(p, JEQ, 0, 1, CLONE3[a]);
    insn(p, RET, 0, 0, RET_ERRNO | ENOSYS);
    // A new user namespace would give back every capability inside it.
    insn(p, JEQ, 1, 0, UNSHARE[a]);
    insn(p, JEQ, 0, 3, CLONE[a]);
    insn(p, LD_ABS, 0, 0, ARG0_LOW);
    insn(p, JSET, 0, 1, (int) CLONE_NEWUSER);
    insn(p, RET, 0, 0, RET_ERRNO | EPERM);
    insn(p, RET, 0, 0, RET_ALLOW);
    return p.toByteArray();
  }

  /** Installs the filter on the calling thread, the one that will exec; needs no_new_privs or CAP_SYS_ADMIN. */
  static void install() {
    byte[] program = program("aarch64".equals(System.getProperty("os.arch")));
    Memory filter = new Memory(program.length);
    filter.write(0, program, 0, program.length);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    Memory fprog = new Memory(16);
    fprog.clear();
    fprog.setShort(0, (short) (program.length / 8));
    fprog.setPointer(8, filter);
    try {
      Libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, Pointer.nativeValue(fprog), 0, 0);
    } catch (LastErrorException e) {
      throw new ErrnoException("prctl PR_SET_SECCOMP", null, e.getErrorCode());
    }
    // The kernel copied the program; keep the buffers reachable until then.
    java.lang.ref.Reference.reachabilityFence(filter);
    java.lang.ref.Reference.reachabilityFence(fprog);
  }

  private static final int PR_SET_SECCOMP = 22;
  private static final int SECCOMP_MODE_FILTER = 2;

  /** struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } in little-endian order. */
  private static void insn(ByteArrayOutputStream p, int code, int jt, int jf, int k) {
    p.write(code);
    p.write(code >>> 8);
    p.write(jt);
    p.write(jf);
    p.write(k);
    p.write(k >>> 8);
    p.write(k >>> 16);
    p.write(k >>> 24);
  }
}
