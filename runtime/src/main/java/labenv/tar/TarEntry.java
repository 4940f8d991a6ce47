package labenv.tar;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One entry of a tar archive, as labenv models it after PAX and GNU extensions are folded in.
 *
 * @param type what the entry is
 * @param path the entry's name as it stands in the archive (not yet checked or normalised)
 * @param linkTarget for symlinks the target bytes as written; for hardlinks the path of the file linked to; else null
 * @param mode permission bits including setuid, setgid and sticky (07777)
 * @param mtime modification time in whole seconds
 * @param size content size in bytes (regular files only; 0 otherwise)
 * @param xattrs extended attributes, by name (for example {@code security.capability}), sorted
 */
public record TarEntry(
    Type type,
    TarPath path,
    byte[] linkTarget,
    int mode,
    long uid,
    long gid,
    String uname,
    String gname,
    long mtime,
    long size,
    int devMajor,
    int devMinor,
    SortedMap<String, byte[]> xattrs) {

  /** The kinds of entry a layer can hold. */
  public enum Type {
    FILE, DIRECTORY, SYMLINK, HARDLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO
  }

  public TarEntry {
    xattrs = xattrs == null || xattrs.isEmpty()
        ? Collections.emptySortedMap() : Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
    uname = uname == null ? "" : uname;
    gname = gname == null ? "" : gname;
  }

  public static TarEntry directory(TarPath path, int mode, long mtime) {
    return new TarEntry(Type.DIRECTORY, path, null, mode, 0, 0, "", "", mtime, 0, 0, 0, null);
  }

  public static TarEntry file(TarPath path, int mode, long size, long mtime) {
    return new TarEntry(Type.FILE, path, null, mode, 0, 0, "", "", mtime, size, 0, 0, null);
  }

  public static TarEntry symlink(TarPath path, byte[] target, long mtime) {
    return new TarEntry(Type.SYMLINK, path, target, 0777, 0, 0, "", "", mtime, 0, 0, 0, null);
  }

  public static TarEntry hardlink(TarPath path, TarPath target, long mtime) {
    return new TarEntry(Type.HARDLINK, path, target.bytes(), 0644, 0, 0, "", "", mtime, 0, 0, 0, null);
  }

  public TarEntry withOwner(long newUid, long newGid, String newUname, String newGname) {
    return new TarEntry(type, path, linkTarget, mode, newUid, newGid, newUname, newGname, mtime, size,
        devMajor, devMinor, xattrs);
  }

  public TarEntry withMtime(long newMtime) {
    return new TarEntry(type, path, linkTarget, mode, uid, gid, uname, gname, newMtime, size,
        devMajor, devMinor, xattrs);
  }

  public TarEntry withPath(TarPath newPath) {
    return new TarEntry(type, newPath, linkTarget, mode, uid, gid, uname, gname, mtime, size,
        devMajor, devMinor, xattrs);
  }

  public TarEntry withXattrs(SortedMap<String, byte[]> newXattrs) {
    return new TarEntry(type, path, linkTarget, mode, uid, gid, uname, gname, mtime, size,
        devMajor, devMinor, newXattrs);
  }
}
