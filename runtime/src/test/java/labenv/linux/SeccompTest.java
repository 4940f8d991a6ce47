package labenv.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The filter's decisions, run through a classic-BPF interpreter of the six instructions it may use
 * (any other opcode fails the test), on seccomp_data as the kernel lays it out. The kernel's own verdict
 * on a real container is SecurityIT's.
 */
class SeccompTest {
  static final int X86_64 = 0xC000003E;
  static final int AARCH64 = 0xC00000B7;
  static final int ALLOW = 0x7fff0000;
  static final int EPERM = 0x00050001;
  static final int ENOSYS = 0x00050026;
  static final int KILL = 0x80000000;

  @Test
  void deniedSyscallsGetEpermOthersPassOnBothArchitectures() {
    // mount, umount2, pivot_root, init_module, finit_module, bpf, keyctl, setns, ptrace, reboot, fsopen
    int[] x86 = {165, 166, 155, 175, 313, 321, 250, 308, 101, 169, 430};
    int[] arm = {40, 39, 41, 105, 273, 280, 219, 268, 117, 142, 430};
    for (int i = 0; i < x86.length; i++) {
      assertEquals(EPERM, run(false, X86_64, x86[i], 0), "x86_64 " + x86[i]);
      assertEquals(EPERM, run(true, AARCH64, arm[i], 0), "aarch64 " + arm[i]);
    }
    // read, write, openat, execve, exit_group
    for (int nr : new int[] {0, 1, 257, 59, 231}) {
      assertEquals(ALLOW, run(false, X86_64, nr, 0), "x86_64 " + nr);
    }
    for (int nr : new int[] {63, 64, 56, 221, 94}) {
      assertEquals(ALLOW, run(true, AARCH64, nr, 0), "aarch64 " + nr);
    }
  }

  @Test
  void onlyANewUserNamespaceIsRefusedToUnshareAndClone() {
    long newUser = 0x10000000L;
    long newNs = 0x00020000L | 0x04000000L; // CLONE_NEWNS | CLONE_NEWUTS: left to capabilities
    assertEquals(EPERM, run(false, X86_64, 272, newUser), "unshare");
    assertEquals(EPERM, run(false, X86_64, 56, newUser | 0x11), "clone");
    assertEquals(EPERM, run(true, AARCH64, 97, newUser | newNs), "unshare aarch64");
    assertEquals(ALLOW, run(false, X86_64, 272, newNs), "unshare");
    assertEquals(ALLOW, run(false, X86_64, 56, 0x01200011L), "fork's clone");
    assertEquals(ALLOW, run(true, AARCH64, 220, 0x01200011L), "fork's clone aarch64");
    assertEquals(ENOSYS, run(false, X86_64, 435, 0), "clone3 falls back to clone");
  }

  @Test
  void anotherArchitectureIsKilledAndX32IsRefused() {
    assertEquals(KILL, run(false, 0x40000003 /* i386 */, 1, 0));
    assertEquals(KILL, run(true, X86_64, 63, 0));
    assertEquals(EPERM, run(false, X86_64, 0x40000000 | 165, 0), "x32 mount");
    assertEquals(EPERM, run(false, X86_64, 0x40000000, 0), "x32 read");
  }

  @Test
  void theProgramFitsTheKernelsLimit() {
    int length = Seccomp.program(false).length / 8;
    // x86_64 has two more instructions (x32) and mknod's seven (aarch64 has only mknodat)
    assertTrue(length < 4096 && length == Seccomp.program(true).length / 8 + 9, "instructions: " + length);
  }

  /** Device nodes are refused whatever the capabilities (no devices cgroup stands behind them); the rest is not. */
  @Test
  void mknodOfADeviceIsRefusedAndOfAFifoOrFileAllowed() {
    int chr = 0020000 | 0600;
    int blk = 0060000 | 0600;
    int fifo = 0010000 | 0600;
    int file = 0100000 | 0644;
    for (int mode : new int[] {chr, blk}) {
      assertEquals(EPERM, run(false, X86_64, 133, 0, mode, 0), "mknod " + Integer.toOctalString(mode));
      assertEquals(EPERM, run(false, X86_64, 259, 0, 0, mode), "mknodat " + Integer.toOctalString(mode));
      assertEquals(EPERM, run(true, AARCH64, 33, 0, 0, mode), "mknodat aarch64 " + Integer.toOctalString(mode));
    }
    for (int mode : new int[] {fifo, file}) {
      assertEquals(ALLOW, run(false, X86_64, 133, 0, mode, 0), "mknod " + Integer.toOctalString(mode));
      assertEquals(ALLOW, run(false, X86_64, 259, 0, 0, mode), "mknodat " + Integer.toOctalString(mode));
      assertEquals(ALLOW, run(true, AARCH64, 33, 0, 0, mode), "mknodat aarch64 " + Integer.toOctalString(mode));
    }
    // what the mode check loads does not leak into the checks after it
    assertEquals(ENOSYS, run(false, X86_64, 435, 0), "clone3 after the mknod checks");
  }

  /** Runs the filter on struct seccomp_data {nr, arch, ip, args[6]} with args[0] = arg0. */
  static int run(boolean aarch64, int arch, int nr, long arg0) {
    return run(aarch64, arch, nr, arg0, 0, 0);
  }

  static int run(boolean aarch64, int arch, int nr, long arg0, long arg1, long arg2) {
    ByteBuffer data = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt(0, nr).putInt(4, arch).putLong(16, arg0).putLong(24, arg1).putLong(32, arg2);
    ByteBuffer prog = ByteBuffer.wrap(Seccomp.program(aarch64)).order(ByteOrder.LITTLE_ENDIAN);
    int n = prog.capacity() / 8;
    int a = 0;
    for (int pc = 0; pc < n; pc++) {
      int code = prog.getShort(pc * 8) & 0xffff;
      int jt = prog.get(pc * 8 + 2) & 0xff;
      int jf = prog.get(pc * 8 + 3) & 0xff;
      int k = prog.getInt(pc * 8 + 4);
      switch (code) {
        case 0x20 -> a = data.getInt(k);
        case 0x15 -> pc += a == k ? jt : jf;
        case 0x35 -> pc += Integer.compareUnsigned(a, k) >= 0 ? jt : jf;
        case 0x45 -> pc += (a & k) != 0 ? jt : jf;
        case 0x54 -> a &= k;
        case 0x06 -> {
          return k;
        }
        default -> throw new AssertionError("opcode " + code + " at " + pc);
      }
    }
    throw new AssertionError("fell off the end");
  }
}
