package labenv.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * glibc, mapped directly (JNA direct mapping: no proxy per call). Paths are {@code byte[]} with a
 * trailing NUL (see {@link Syscalls#cstr}), so names that are not UTF-8 pass through unchanged.
 * Each call throws {@link LastErrorException} with errno on failure; {@link Syscalls} wraps the
 * common ones with the call's name and target.
 *
 * <p>Constants are the Linux generic values (x86_64 and aarch64 agree on all of them).
 */
public final class Libc {
  private Libc() {}

  static {
    Native.register(Libc.class, "c");
  }

  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_TRUNC = 01000;
  public static final int O_APPEND = 02000;
  public static final int O_NONBLOCK = 04000;
  public static final int O_DIRECTORY = 0200000;
  public static final int O_NOFOLLOW = 0400000;
  public static final int O_CLOEXEC = 02000000;
  public static final int O_PATH = 010000000;

  public static final int AT_FDCWD = -100;
  public static final int AT_SYMLINK_NOFOLLOW = 0x100;
  public static final int AT_REMOVEDIR = 0x200;
  public static final int AT_SYMLINK_FOLLOW = 0x400;
  public static final int AT_EMPTY_PATH = 0x1000;

  public static final int STATX_BASIC_STATS = 0x7ff;

  public static final int S_IFMT = 0170000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFIFO = 0010000;

  public static final int SEEK_SET = 0;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;

  public static final int XATTR_CREATE = 1;

  /** openat2(2) resolve flags. */
  public static final long RESOLVE_NO_XDEV = 0x01;
  public static final long RESOLVE_NO_MAGICLINKS = 0x02;
  public static final long RESOLVE_NO_SYMLINKS = 0x04;
  public static final long RESOLVE_BENEATH = 0x08;
  public static final long RESOLVE_IN_ROOT = 0x10;

  /** The syscall number of openat2, the same on every architecture (added after the tables were unified). */
  public static final long SYS_OPENAT2 = 437;

  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int EEXIST = 17;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ENOSPC = 28;
  public static final int ERANGE = 34;
  public static final int ENOSYS = 38;
  public static final int ENOTEMPTY = 39;
  public static final int ELOOP = 40;
  public static final int ENODATA = 61;
  public static final int EOPNOTSUPP = 95;
  public static final int EXDEV = 18;
  public static final int EPERM = 1;
  public static final int EACCES = 13;

  public static native int open(byte[] path, int flags, int mode) throws LastErrorException;

  public static native int openat(int dirfd, byte[] path, int flags, int mode) throws LastErrorException;

  /** syscall(SYS_openat2, dirfd, path, &open_how, sizeof(open_how)). */
  public static native long syscall(long number, int dirfd, byte[] path, long[] how, long size)
      throws LastErrorException;

  public static native int close(int fd) throws LastErrorException;

  public static native int statx(int dirfd, byte[] path, int flags, int mask, byte[] statxbuf)
      throws LastErrorException;

  public static native long getdents64(int fd, byte[] buf, long count) throws LastErrorException;

  public static native long readlinkat(int dirfd, byte[] path, byte[] buf, long bufsiz) throws LastErrorException;

  public static native int mkdirat(int dirfd, byte[] path, int mode) throws LastErrorException;

  public static native int symlinkat(byte[] target, int newdirfd, byte[] linkpath) throws LastErrorException;

  public static native int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags)
      throws LastErrorException;

  public static native int mknodat(int dirfd, byte[] path, int mode, long dev) throws LastErrorException;

  public static native int fchownat(int dirfd, byte[] path, int uid, int gid, int flags) throws LastErrorException;

  public static native int fchmod(int fd, int mode) throws LastErrorException;

  public static native int fchmodat(int dirfd, byte[] path, int mode, int flags) throws LastErrorException;

  /** times: {atime.sec, atime.nsec, mtime.sec, mtime.nsec}. */
  public static native int utimensat(int dirfd, byte[] path, long[] times, int flags) throws LastErrorException;

  public static native int unlinkat(int dirfd, byte[] path, int flags) throws LastErrorException;

  public static native int renameat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath)
      throws LastErrorException;

  public static native long llistxattr(byte[] path, byte[] list, long size) throws LastErrorException;

  public static native long lgetxattr(byte[] path, byte[] name, byte[] value, long size) throws LastErrorException;

  public static native int lsetxattr(byte[] path, byte[] name, byte[] value, long size, int flags)
      throws LastErrorException;

  public static native int fsync(int fd) throws LastErrorException;

  public static native long lseek(int fd, long offset, int whence) throws LastErrorException;

  public static native long read(int fd, byte[] buf, long count) throws LastErrorException;

  public static native long write(int fd, byte[] buf, long count) throws LastErrorException;

  public static native int ftruncate(int fd, long length) throws LastErrorException;

  public static native int getuid();

  public static native int geteuid();

  public static native int getgid();

  public static native int getegid();

  public static native int umask(int mask);

  public static native Pointer strerror(int errnum);

  /** The text of an errno, as strerror(3) gives it. */
  public static String errorText(int errno) {
    Pointer p = strerror(errno);
    return p == null ? "errno " + errno : p.getString(0);
  }

  // added for labenv.layer (LayerApplier): fd-based metadata, atomic no-replace rename, one sync per unpack.
  public static final int RENAME_NOREPLACE = 1;
  public static final int ENAMETOOLONG = 36;

  public static native int fsetxattr(int fd, byte[] name, byte[] value, long size, int flags)
      throws LastErrorException;

  /** write(2) from native memory: JNA copies a byte[] argument whole, both ways, whatever the count. */
  public static native long write(int fd, Pointer buf, long count) throws LastErrorException;

  public static native int renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags)
      throws LastErrorException;

  public static native int syncfs(int fd) throws LastErrorException;

  /**
   * signal(2) with {@code handler} null: SIG_DFL. Init puts every signal back to its default before exec, since
   * an ignored signal (SIGINT and SIGQUIT are, for a job a script started with &) is inherited across exec.
   */
  public static native com.sun.jna.Pointer signal(int signum, com.sun.jna.Pointer handler) throws LastErrorException;

  public static final int SYNC_FILE_RANGE_WRITE = 2;

  /** sync_file_range(2): with {@link #SYNC_FILE_RANGE_WRITE}, starts writing the file's dirty pages back, without waiting. */
  public static native int sync_file_range(int fd, long offset, long nbytes, int flags) throws LastErrorException;

  // added for labenv.layer: xattrs through an open descriptor (no path lookup), reads into native memory.
  public static native long flistxattr(int fd, byte[] list, long size) throws LastErrorException;

  public static native long fgetxattr(int fd, byte[] name, byte[] value, long size) throws LastErrorException;

  public static native long read(int fd, Pointer buf, long count) throws LastErrorException;

  // added for labenv.container: the container's mounts, pivot_root, identity, security and exec (used by Init).
  public static final long MS_RDONLY = 1;
  public static final long MS_NOSUID = 2;
  public static final long MS_NODEV = 4;
  public static final long MS_NOEXEC = 8;
  public static final long MS_REMOUNT = 32;
  public static final long MS_NOATIME = 1024;
  public static final long MS_NODIRATIME = 2048;
  public static final long MS_BIND = 4096;
  public static final long MS_REC = 16384;
  public static final long MS_PRIVATE = 1 << 18;
  public static final long MS_RELATIME = 1 << 21;
  public static final long MS_STRICTATIME = 1 << 24;
  /** statvfs(3) f_flag bits (ST_*), which a bind remount must keep when the kernel has locked them. */
  public static final long ST_RDONLY = 1;
  public static final long ST_NOSUID = 2;
  public static final long ST_NODEV = 4;
  public static final long ST_NOEXEC = 8;
  public static final long ST_NOATIME = 1024;
  public static final long ST_NODIRATIME = 2048;
  public static final long ST_RELATIME = 4096;
  public static final int MNT_DETACH = 2;
  public static final int PR_CAPBSET_DROP = 24;
  public static final int PR_SET_NO_NEW_PRIVS = 38;
  public static final int AF_INET = 2;
  public static final int SOCK_DGRAM = 2;
  public static final long SIOCGIFFLAGS = 0x8913;
  public static final long SIOCSIFFLAGS = 0x8914;
  public static final int IFF_UP = 1;
  public static final int CLOSE_RANGE_CLOEXEC = 4;
  public static final long SYS_CLOSE_RANGE = 436;
  public static final int SIG_SETMASK = 2;
  public static final int SIGKILL = 9;
  public static final int ENOEXEC = 8;
  public static final int ESRCH = 3;

  /** pivot_root has no glibc wrapper; its number differs by architecture. */
  public static long sysPivotRoot() {
    return "aarch64".equals(System.getProperty("os.arch")) ? 41 : 155;
  }

  public static native int mount(byte[] source, byte[] target, byte[] fstype, long flags, byte[] data)
      throws LastErrorException;

  public static native int umount2(byte[] target, int flags) throws LastErrorException;

  /** syscall(SYS_pivot_root, new_root, put_old). */
  public static native long syscall(long number, byte[] a, byte[] b) throws LastErrorException;

  /** syscall(number, a, b, c) with three int arguments (close_range). */
  public static native long syscall(long number, int a, int b, int c) throws LastErrorException;

  public static native int chdir(byte[] path) throws LastErrorException;

  public static native int sethostname(byte[] name, long len) throws LastErrorException;

  public static native int statvfs(byte[] path, long[] buf) throws LastErrorException;

  public static native int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws LastErrorException;

  public static native int setgroups(long size, int[] list) throws LastErrorException;

  public static native int setgid(int gid) throws LastErrorException;

  public static native int setuid(int uid) throws LastErrorException;

  public static native int socket(int domain, int type, int protocol) throws LastErrorException;

  public static native int ioctl(int fd, long request, byte[] arg) throws LastErrorException;

  public static native int sigprocmask(int how, byte[] set, byte[] oldset) throws LastErrorException;

  public static native int kill(int pid, int sig) throws LastErrorException;

  /** argv and envp: NULL-terminated arrays of C strings (JNA's StringArray). Returns only on failure. */
  public static native int execve(byte[] path, Pointer argv, Pointer envp) throws LastErrorException;
  public static final int ENODEV = 19;

  // added for labenv.linux (Init's masked paths and capability sets)
  public static final int PR_CAP_AMBIENT = 47;
  public static final int PR_CAP_AMBIENT_CLEAR_ALL = 4;

  /** capset is called raw (glibc's wrapper is deprecated); its number differs by architecture. */
  public static long sysCapset() {
    return "aarch64".equals(System.getProperty("os.arch")) ? 91 : 126;
  }

  /** syscall(SYS_capset, header, data): header {version, pid}, data two {effective, permitted, inheritable}. */
  public static native long syscall(long number, int[] header, int[] data) throws LastErrorException;

  // added for container lifecycle: sessions and pseudo-terminals
  public static final long TIOCSCTTY = 0x540E;
  public static final long TIOCGWINSZ = 0x5413;
  public static final long TIOCSWINSZ = 0x5414;
  public static final long TIOCSPTLCK = 0x40045431L;
  public static final long TIOCGPTN = 0x80045430L;
  public static final int TCSANOW = 0;
  public static final int EIO = 5;
  public static final int EAGAIN = 11;
  public static final int O_NOCTTY = 0400;

  public static native int setsid() throws LastErrorException;

  public static native int ioctl(int fd, long request, long arg) throws LastErrorException;

  public static native int isatty(int fd);

  /** termios as glibc lays it out (60 bytes on Linux); callers pass a larger buffer. */
  public static native int tcgetattr(int fd, byte[] termios) throws LastErrorException;

  public static native int tcsetattr(int fd, int action, byte[] termios) throws LastErrorException;

  public static native void cfmakeraw(byte[] termios);
  // added for labenv.container (PortForwarder): one thread joins a container's network namespace to open its
  // sockets there; the rootless forwarder process dies with the labenv process that started it.
  public static final int CLONE_NEWNET = 0x40000000;
  public static final int PR_SET_PDEATHSIG = 1;

  public static native int setns(int fd, int nstype) throws LastErrorException;

  public static native int getppid();
  // added for exec (labenv.container.Exec, SetnsInit, Privileges, Pty): per-thread identity and namespaces, ttys.
  public static final int CLONE_FS = 0x200;
  public static final int CLONE_NEWNS = 0x20000;
  public static final int CLONE_NEWCGROUP = 0x02000000;
  public static final int CLONE_NEWUTS = 0x04000000;
  public static final int CLONE_NEWIPC = 0x08000000;
  public static final int CLONE_NEWUSER = 0x10000000;
  public static final int CLONE_NEWPID = 0x20000000;
  public static final int F_GETFL = 3;
  public static final int F_SETFL = 4;
  public static final short POLLIN = 1;
  public static final short POLLHUP = 0x10;
  public static final long TIOCGPTPEER = 0x5441;
  public static final int PR_SET_DUMPABLE = 4;

  private static boolean aarch64() {
    return "aarch64".equals(System.getProperty("os.arch"));
  }

  /**
   * Raw system calls for the identity: glibc's setuid, setgid and setgroups change every thread of the process
   * (through a signal to each), where exec must change only the one thread that will exec.
   */
  public static long sysSetresuid() {
    return aarch64() ? 147 : 117;
  }

  public static long sysSetresgid() {
    return aarch64() ? 149 : 119;
  }

  public static long sysSetgroups() {
    return aarch64() ? 159 : 116;
  }

  public static long sysCapget() {
    return aarch64() ? 90 : 125;
  }

  /** syscall(SYS_setgroups, size, list). */
  public static native long syscall(long number, long size, int[] list) throws LastErrorException;

  public static native int unshare(int flags) throws LastErrorException;



  /** ioctl with an integer argument (TIOCSCTTY, TIOCGPTPEER). */

  /** ioctl with a pointer to an int (TIOCGPTN, TIOCSPTLCK). */
  public static native int ioctl(int fd, long request, int[] arg) throws LastErrorException;

  public static native int fcntl(int fd, int cmd, int arg) throws LastErrorException;

  /** fds: struct pollfd[] as ints, {fd, events | revents << 16} (little-endian, as both architectures are). */
  public static native int poll(int[] fds, long nfds, int timeout) throws LastErrorException;

  public static native int pipe2(int[] fds, int flags) throws LastErrorException;
}
