package labenv.container;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a container is started with, shaped like the OCI runtime-spec config: pure data, no host state.
 * Jackson writes it as {@code config.json} for people and tools; {@link labenv.linux.Init} reads the compact binary
 * form of {@link #write}/{@link #read} instead, so the code that starts on every run loads no JSON library.
 *
 * <p>The standard mounts (proc, dev, devpts, shm, sys) are implied; {@code mounts} are the user's volumes.
 */
public record ContainerSpec(Process process, Root root, String hostname, List<Mount> mounts, Network network,
    Security security) {
  public ContainerSpec {
    mounts = List.copyOf(mounts);
  }

  /** With the default security: what a plain {@code run} gets. */
  public ContainerSpec(Process process, Root root, String hostname, List<Mount> mounts, Network network) {
    this(process, root, hostname, mounts, network, Security.DEFAULT);
  }

  /**
   * seccomp: the default filter ({@code --security-opt seccomp=unconfined} turns it off);
   * noNewPrivileges: PR_SET_NO_NEW_PRIVS, so setuid files and file capabilities grant nothing;
   * capabilities: the numbers kept in the bounding set (and, for root, the effective and permitted sets), docker's
   * default unless {@code --cap-add}/{@code --cap-drop} changed it.
   */
  public record Security(boolean seccomp, boolean noNewPrivileges, Set<Integer> capabilities) {
    public static final Security DEFAULT = new Security(true, true, Capabilities.DOCKER_DEFAULT);

    public Security {
      capabilities = capabilities == null ? Capabilities.DOCKER_DEFAULT : Capabilities.of(capabilities);
    }

    /** With docker's default capabilities. */
    public Security(boolean seccomp, boolean noNewPrivileges) {
      this(seccomp, noNewPrivileges, Capabilities.DOCKER_DEFAULT);
    }

    public Security withCapabilities(Set<Integer> capabilities) {
      return new Security(seccomp, noNewPrivileges, capabilities);
    }
  }

  /** The command, its environment, working directory and identity. */
  public record Process(List<String> args, List<String> env, String cwd, User user) {
    public Process {
      args = List.copyOf(args);
      env = List.copyOf(env);
    }
  }

  public record User(int uid, int gid, List<Integer> additionalGids) {
    public User {
      additionalGids = List.copyOf(additionalGids);
    }
  }

  public record Root(String path, boolean readonly) {}

  /** A mount; {@code options} as mount(8) spells them ({@code rbind}, {@code ro}, {@code rw}). */
  public record Mount(String destination, String type, String source, List<String> options) {
    public Mount {
      options = List.copyOf(options);
    }

    public static Mount bind(String source, String destination, boolean readOnly) {
      return new Mount(destination, "bind", source, List.of("rbind", readOnly ? "ro" : "rw"));
    }

    /** A fresh, empty tmpfs; {@code options} as mount(8) spells them for tmpfs ({@code size=}, {@code mode=}). */
    public static Mount tmpfs(String destination, List<String> options) {
      return new Mount(destination, "tmpfs", "tmpfs", options);
    }

    public boolean isReadOnly() {
      return options.contains("ro");
    }
  }

  /** none: a network namespace of its own with only loopback; host: the host's. */
  public enum Network { NONE, HOST }

  // The binary form: a version, then fields in declaration order; strings as length + UTF-8 bytes.
  private static final int FORMAT = 3;

  public void write(DataOutputStream out) throws IOException {
    out.writeInt(FORMAT);
    strings(out, process.args());
    strings(out, process.env());
    string(out, process.cwd());
    out.writeInt(process.user().uid());
    out.writeInt(process.user().gid());
    out.writeInt(process.user().additionalGids().size());
    for (int g : process.user().additionalGids()) {
      out.writeInt(g);
    }
    string(out, root.path());
    out.writeBoolean(root.readonly());
    string(out, hostname);
    out.writeInt(mounts.size());
    for (Mount m : mounts) {
      string(out, m.destination());
      string(out, m.type());
      string(out, m.source());
      strings(out, m.options());
    }
    out.writeInt(network.ordinal());
    out.writeBoolean(security.seccomp());
    out.writeBoolean(security.noNewPrivileges());
    out.writeLong(Capabilities.mask(security.capabilities()));
  }

  public static ContainerSpec read(DataInputStream in) throws IOException {
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException("container spec format " + format + ", expected " + FORMAT);
    }
    List<String> args = strings(in);
    List<String> env = strings(in);
    String cwd = string(in);
    int uid = in.readInt();
    int gid = in.readInt();
    int n = in.readInt();
    List<Integer> gids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      gids.add(in.readInt());
    }
    Root root = new Root(string(in), in.readBoolean());
    String hostname = string(in);
    int mountCount = in.readInt();
    List<Mount> mounts = new ArrayList<>(mountCount);
    for (int i = 0; i < mountCount; i++) {
      mounts.add(new Mount(string(in), string(in), string(in), strings(in)));
    }
    Network network = Network.values()[in.readInt()];
    Security security = new Security(in.readBoolean(), in.readBoolean(), Capabilities.fromMask(in.readLong()));
    return new ContainerSpec(new Process(args, env, cwd, new User(uid, gid, gids)), root, hostname, mounts, network,
        security);
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static void strings(DataOutputStream out, List<String> list) throws IOException {
    out.writeInt(list.size());
    for (String s : list) {
      string(out, s);
    }
  }

  private static String string(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static List<String> strings(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<String> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(string(in));
    }
    return list;
  }
}
