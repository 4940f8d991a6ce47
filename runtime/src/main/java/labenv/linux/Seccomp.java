package labenv.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The container's default seccomp filter, a deny list in classic BPF: the syscalls that administer the
 * kernel or the host (modules, kexec, mounts, namespaces, keyrings, tracing, swap, reboot, device nodes) fail
 * with EPERM, everything else is allowed. Not Docker's allow list, but the same walls for what matters.
 */
public final class Seccomp {
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

  /** A syscall the filter denies, with its number per architecture: x86_64, aarch64 (the generic table). */
  private record Denied(String name, int x86_64, int aarch64) {
    int number(boolean aarch64) {
      return aarch64 ? this.aarch64 : x86_64;
    }
  }

  private static final Denied[] DENIED = {
      new Denied("mount", 165, 40),
      new Denied("umount2", 166, 39),
      new Denied("pivot_root", 155, 41),
      new Denied("kexec_load", 246, 104),
      new Denied("kexec_file_load", 320, 294),
      new Denied("init_module", 175, 105),
      new Denied("finit_module", 313, 273),
      new Denied("delete_module", 176, 106),
      new Denied("bpf", 321, 280),
      new Denied("perf_event_open", 298, 241),
      new Denied("keyctl", 250, 219),
      new Denied("add_key", 248, 217),
      new Denied("request_key", 249, 218),
      new Denied("swapon", 167, 224),
      new Denied("swapoff", 168, 225),
      new Denied("reboot", 169, 142),
      new Denied("setns", 308, 268),
      new Denied("open_by_handle_at", 304, 265),
      new Denied("userfaultfd", 323, 282),
      new Denied("ptrace", 101, 117),
      new Denied("process_vm_readv", 310, 270),
      new Denied("process_vm_writev", 311, 271),
      new Denied("acct", 163, 89),
      new Denied("lookup_dcookie", 212, 18),
      new Denied("quotactl", 179, 60),
      new Denied("quotactl_fd", 443, 443),
      new Denied("syslog", 103, 116),
      // the new mount API would otherwise get around the ban on mount(2)
      new Denied("open_tree", 428, 428),
      new Denied("move_mount", 429, 429),
      new Denied("fsopen", 430, 430),
      new Denied("fsconfig", 431, 431),
      new Denied("fsmount", 432, 432),
      new Denied("fspick", 433, 433),
      new Denied("mount_setattr", 442, 442),
      new Denied("open_tree_attr", 467, 467),
  };
  /**
   * mknod and mknodat, with the index of their mode argument (aarch64 has no mknod: -1). Making a device node
   * fails: without a devices cgroup, a root container could otherwise make and open the host's disks. FIFOs,
   * sockets and regular files are still made.
   */
  private record Mknod(String name, int x86_64, int aarch64, int modeArg) {}

  private static final Mknod[] MKNOD = {new Mknod("mknod", 133, -1, 1), new Mknod("mknodat", 259, 33, 2)};
  private static final int S_IFMT = 0170000;
  private static final int S_IFCHR = 0020000;
  private static final int S_IFBLK = 0060000;
  // BPF_ALU|BPF_AND|BPF_K
  private static final int AND = 0x54;

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
    for (Denied d : DENIED) {
      insn(p, JEQ, 0, 1, d.number(aarch64));
      insn(p, RET, 0, 0, RET_ERRNO | EPERM);
    }
    for (Mknod m : MKNOD) {
      int nr = aarch64 ? m.aarch64() : m.x86_64();
      if (nr < 0) {
        continue;
      }
      insn(p, JEQ, 0, 6, nr);
      insn(p, LD_ABS, 0, 0, ARG0_LOW + 8 * m.modeArg());
      insn(p, AND, 0, 0, S_IFMT);
      insn(p, JEQ, 2, 0, S_IFCHR);
      insn(p, JEQ, 1, 0, S_IFBLK);
      insn(p, RET, 0, 0, RET_ALLOW);
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

  /**
   * The same filter in the OCI runtime spec's seccomp form, for crun and runc (libseccomp compiles it): allow by
   * default; the denied syscalls fail with EPERM, clone3 with ENOSYS, clone and unshare with EPERM when their flags
   * ask for a new user namespace. libseccomp refuses other architectures' syscalls where this filter kills.
   * Plain maps and lists, in the spec's field order, so Init's path loads no JSON library.
   */
  public static Map<String, Object> ociProfile(boolean aarch64) {
    List<String> denied = new ArrayList<>();
    for (Denied d : DENIED) {
      denied.add(d.name());
    }
    Map<String, Object> profile = new LinkedHashMap<>();
    profile.put("defaultAction", "SCMP_ACT_ALLOW");
    profile.put("architectures", List.of(aarch64 ? "SCMP_ARCH_AARCH64" : "SCMP_ARCH_X86_64"));
    Map<String, Object> newUser = new LinkedHashMap<>();
    newUser.put("index", 0);
    newUser.put("value", CLONE_NEWUSER);
    newUser.put("valueTwo", CLONE_NEWUSER);
    newUser.put("op", "SCMP_CMP_MASKED_EQ");
    List<Object> rules = new ArrayList<>(List.of(
        rule(denied, EPERM, null),
        rule(List.of("clone3"), ENOSYS, null),
        rule(List.of("clone", "unshare"), EPERM, newUser)));
    for (Mknod m : MKNOD) {
      if ((aarch64 ? m.aarch64() : m.x86_64()) < 0) {
        continue;
      }
      for (int type : new int[] {S_IFCHR, S_IFBLK}) {
        Map<String, Object> device = new LinkedHashMap<>();
        device.put("index", m.modeArg());
        device.put("value", S_IFMT);
        device.put("valueTwo", type);
        device.put("op", "SCMP_CMP_MASKED_EQ");
        rules.add(rule(List.of(m.name()), EPERM, device));
      }
    }
    profile.put("syscalls", rules);
    return profile;
  }

  private static Map<String, Object> rule(List<String> names, int errno, Map<String, Object> arg) {
    Map<String, Object> rule = new LinkedHashMap<>();
    rule.put("names", names);
    rule.put("action", "SCMP_ACT_ERRNO");
    rule.put("errnoRet", errno);
    if (arg != null) {
      rule.put("args", List.of(arg));
    }
    return rule;
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
