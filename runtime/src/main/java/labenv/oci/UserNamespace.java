package labenv.oci;

import labenv.linux.Libc;

/**
 * A user namespace as labenv makes one: the one host uid and gid given are root inside (util-linux
 * {@code unshare --map-root-user}), nothing else is mapped.
 */
public record UserNamespace(long hostUid, long hostGid) {
  /** For a caller that is not root: its own ids mapped to 0. Null for root, which needs no user namespace. */
  public static UserNamespace forCaller() {
    return Libc.geteuid() == 0 ? null : new UserNamespace(Libc.geteuid(), Libc.getegid());
  }
}
