package labenv.linux;

/** What statx(2) says of one file. Times are seconds and nanoseconds since the epoch. */
public record Stat(
    int mode,
    int uid,
    int gid,
    long nlink,
    long ino,
    long size,
    long blocks,
    long mtimeSec,
    int mtimeNsec,
    int rdevMajor,
    int rdevMinor,
    int devMajor,
    int devMinor) {

  public int type() {
    return mode & Libc.S_IFMT;
  }

  public int permissions() {
    return mode & 07777;
  }

  public boolean isDirectory() {
    return type() == Libc.S_IFDIR;
  }

  public boolean isRegular() {
    return type() == Libc.S_IFREG;
  }

  public boolean isSymlink() {
    return type() == Libc.S_IFLNK;
  }

  /** A key that identifies the file (inode) on this host, for finding hardlinks. */
  public String inodeKey() {
    return devMajor + ":" + devMinor + ":" + ino;
  }
}
