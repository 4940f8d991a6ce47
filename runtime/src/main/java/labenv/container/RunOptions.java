package labenv.container;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import labenv.LabenvException;
import labenv.image.ImageConfig;

/**
 * What {@code run} may override in an image's config, and how the two combine into a
 * {@link ContainerSpec} (Docker's rules: command arguments replace Cmd; an entrypoint replaces
 * Entrypoint and clears Cmd; an empty entrypoint means none).
 *
 * @param entrypoint replaces the image's Entrypoint when not null
 * @param command replaces the image's Cmd when not empty
 * @param env KEY=VALUE entries that override the image's by key
 * @param workdir the working directory, or null for the image's (else /)
 * @param user name, uid, name:group or uid:gid; null for the image's (else root)
 * @param hostname null for the container id's first 12 characters
 * @param volumes bind mounts from the host
 * @param network none or host
 * @param readOnly mount the container's root filesystem read-only
 * @param security the seccomp filter and no_new_privs switches ({@code --security-opt})
 */
public record RunOptions(String entrypoint, List<String> command, List<String> env, String workdir, String user,
    String hostname, List<ContainerSpec.Mount> volumes, ContainerSpec.Network network, boolean readOnly,
    ContainerSpec.Security security, boolean reverseEnvironment) {

  public RunOptions(String entrypoint, List<String> command, List<String> env, String workdir, String user,
      String hostname, List<ContainerSpec.Mount> volumes, ContainerSpec.Network network, boolean readOnly,
      ContainerSpec.Security security) {
    this(entrypoint, command, env, workdir, user, hostname, volumes, network, readOnly, security, false);
  }

  /**
   * These options with the container's whole environment in reverse order (for {@code labenv check}: a program
   * must not depend on the order of its environment).
   */
  public RunOptions withEnvironmentReversed() {
    return new RunOptions(entrypoint, command, env, workdir, user, hostname, volumes, network, readOnly, security,
        true);
  }

  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** With the default security: seccomp filter on, no_new_privs on. */
  public RunOptions(String entrypoint, List<String> command, List<String> env, String workdir, String user,
      String hostname, List<ContainerSpec.Mount> volumes, ContainerSpec.Network network, boolean readOnly) {
    this(entrypoint, command, env, workdir, user, hostname, volumes, network, readOnly, ContainerSpec.Security.DEFAULT);
  }

  public RunOptions {
    security = security == null ? ContainerSpec.Security.DEFAULT : security;
    command = List.copyOf(command);
    env = List.copyOf(env);
    volumes = List.copyOf(volumes);
  }

  /** The spec for a container {@code id} whose root filesystem is unpacked at {@code rootfs}. */
  public ContainerSpec toSpec(String id, ImageConfig image, Path rootfs) {
    ImageConfig.Config config = image.config() != null ? image.config() : ImageConfig.Config.empty();
    List<String> args = new ArrayList<>();
    if (entrypoint != null) {
      if (!entrypoint.isEmpty()) {
        args.add(entrypoint);
      }
      args.addAll(command);
    } else {
      if (config.entrypoint() != null) {
        args.addAll(config.entrypoint());
      }
      args.addAll(!command.isEmpty() ? command : config.cmd() != null ? config.cmd() : List.of());
    }
    if (args.isEmpty()) {
      throw LabenvException.badInput("no command: the image has no Entrypoint or Cmd and none was given");
    }
    String host = hostname != null ? hostname : id.substring(0, Math.min(12, id.length()));
    String userSpec = user != null ? user : config.user();
    Users.Identity identity = Users.resolve(rootfs, userSpec == null || userSpec.isEmpty() ? "0" : userSpec);

    Map<String, String> vars = new LinkedHashMap<>();
    vars.put("PATH", DEFAULT_PATH);
    vars.put("HOSTNAME", host);
    if (config.env() != null) {
      config.env().forEach(e -> put(vars, e));
    }
    env.forEach(e -> put(vars, e));
    vars.putIfAbsent("HOME", identity.home());
    List<String> envList = new ArrayList<>();
    vars.forEach((k, v) -> envList.add(k + "=" + v));
    if (reverseEnvironment) {
      java.util.Collections.reverse(envList);
    }

    String cwd = workdir != null ? workdir : config.workingDir() != null && !config.workingDir().isEmpty()
        ? config.workingDir() : "/";
    if (!cwd.startsWith("/")) {
      throw LabenvException.badInput("working directory " + cwd + ": not an absolute path");
    }
    return new ContainerSpec(new ContainerSpec.Process(args, envList, cwd, identity.user()),
        new ContainerSpec.Root(rootfs.toString(), readOnly), host, volumes, network, security);
  }

  /**
   * Applies {@code --security-opt} values, as docker spells them: {@code seccomp=unconfined},
   * {@code no-new-privileges} (optionally {@code :true|:false} or {@code =true|=false}).
   */
  public static ContainerSpec.Security security(List<String> opts) {
    boolean seccomp = ContainerSpec.Security.DEFAULT.seccomp();
    boolean noNewPrivileges = ContainerSpec.Security.DEFAULT.noNewPrivileges();
    for (String opt : opts) {
      String o = opt.trim();
      if (o.equals("seccomp=unconfined") || o.equals("seccomp:unconfined")) {
        seccomp = false;
      } else if (o.matches("no-new-privileges([:=](true|false))?")) {
        noNewPrivileges = !o.endsWith("false");
      } else {
        throw LabenvException.badInput("--security-opt \"" + opt
            + "\": expected seccomp=unconfined or no-new-privileges[:true|false]");
      }
    }
    return new ContainerSpec.Security(seccomp, noNewPrivileges);
  }

  /**
   * Applies {@code --cap-add}/{@code --cap-drop} to docker's default set, names as docker spells them
   * ({@code NET_ADMIN}, {@code cap_net_admin}, {@code ALL}); see {@link Capabilities#tweak}.
   */
  public static Set<Integer> capabilities(List<String> add, List<String> drop) {
    return Capabilities.tweak(add, drop);
  }

  private static void put(Map<String, String> vars, String entry) {
    int eq = entry.indexOf('=');
    if (eq <= 0) {
      throw LabenvException.badInput("environment entry \"" + entry + "\": not KEY=VALUE");
    }
    vars.put(entry.substring(0, eq), entry.substring(eq + 1));
  }

  /**
   * Parses {@code -v HOST:CONTAINER[:ro|rw]}; the host path must exist, both must be absolute. A HOST without
   * a '/' names a volume (type {@code volume}, for {@link Volumes#resolve}).
   */
  public static ContainerSpec.Mount volume(String spec) {
    String[] parts = spec.split(":", -1);
    if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw LabenvException.badInput("volume \"" + spec + "\": expected HOST:CONTAINER[:ro|rw]");
    }
    boolean ro = false;
    if (parts.length == 3) {
      if (!parts[2].equals("ro") && !parts[2].equals("rw")) {
        throw LabenvException.badInput("volume \"" + spec + "\": mode \"" + parts[2] + "\" is not ro or rw");
      }
      ro = parts[2].equals("ro");
    }
    if (parts[0].indexOf('/') < 0) {
      if (!Volumes.isValidName(parts[0])) {
        throw LabenvException.badInput("volume \"" + spec + "\": \"" + parts[0]
            + "\" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)");
      }
      if (!parts[1].startsWith("/")) {
        throw LabenvException.badInput("volume \"" + spec + "\": the container path must be absolute");
      }
      return Volumes.mount(parts[0], Path.of(parts[1]).normalize().toString(), ro);
    }
    Path host = Path.of(parts[0]);
    if (!host.isAbsolute() || !parts[1].startsWith("/")) {
      throw LabenvException.badInput("volume \"" + spec + "\": both paths must be absolute");
    }
    if (!java.nio.file.Files.exists(host)) {
      throw LabenvException.badInput("volume \"" + spec + "\": " + host + ": no such file or directory");
    }
    return ContainerSpec.Mount.bind(host.normalize().toString(), Path.of(parts[1]).normalize().toString(), ro);
  }

  private static final java.util.regex.Pattern TMPFS_OPTION =
      java.util.regex.Pattern.compile("ro|rw|noexec|exec|nosuid|nodev|size=[0-9]+[kmgKMG%]?|mode=[0-7]{3,4}"
          + "|nr_inodes=[0-9]+[kmgKMG]?|uid=[0-9]+|gid=[0-9]+");

  /** Parses {@code --tmpfs PATH[:OPTS]}, OPTS as mount(8) spells them for tmpfs, comma-separated. */
  public static ContainerSpec.Mount tmpfs(String spec) {
    int colon = spec.indexOf(':');
    String dest = colon < 0 ? spec : spec.substring(0, colon);
    if (!dest.startsWith("/")) {
      throw LabenvException.badInput("--tmpfs \"" + spec + "\": expected an absolute PATH[:OPTIONS]");
    }
    List<String> options = new ArrayList<>();
    if (colon >= 0) {
      for (String o : spec.substring(colon + 1).split(",", -1)) {
        if (!TMPFS_OPTION.matcher(o).matches()) {
          throw LabenvException.badInput("--tmpfs \"" + spec + "\": unsupported option \"" + o + "\"");
        }
        options.add(o);
      }
    }
    return ContainerSpec.Mount.tmpfs(Path.of(dest).normalize().toString(), options);
  }

  /**
   * Parses {@code --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,tmpfs-size=…][,tmpfs-mode=…]}
   * (Docker's keys and aliases). A volume comes back as type {@code volume} with the volume's name as source,
   * for {@link Volumes#resolve} to turn into a bind of its data.
   */
  public static ContainerSpec.Mount mount(String spec) {
    Map<String, String> kv = new LinkedHashMap<>();
    boolean readOnly = false;
    for (String field : spec.split(",", -1)) {
      int eq = field.indexOf('=');
      String key = eq < 0 ? field : field.substring(0, eq);
      String value = eq < 0 ? null : field.substring(eq + 1);
      key = switch (key) {
        case "src" -> "source";
        case "dst", "destination" -> "target";
        case "ro" -> "readonly";
        default -> key;
      };
      switch (key) {
        case "readonly" -> {
          if (value != null && !value.equals("true") && !value.equals("false") && !value.equals("1")
              && !value.equals("0")) {
            throw badMount(spec, "readonly=" + value + " is not true or false");
          }
          readOnly = value == null || value.equals("true") || value.equals("1");
        }
        case "type", "source", "target", "tmpfs-size", "tmpfs-mode" -> {
          if (value == null || value.isEmpty()) {
            throw badMount(spec, key + " needs a value");
          }
          if (kv.put(key, value) != null) {
            throw badMount(spec, key + " given twice");
          }
        }
        default -> throw badMount(spec, "unknown key \"" + key + "\"");
      }
    }
    String type = kv.get("type");
    String target = kv.get("target");
    String source = kv.get("source");
    if (type == null) {
      throw badMount(spec, "type= is required (bind, volume or tmpfs)");
    }
    if (target == null || !target.startsWith("/")) {
      throw badMount(spec, "target= must be an absolute path");
    }
    target = Path.of(target).normalize().toString();
    if (!type.equals("tmpfs") && (kv.containsKey("tmpfs-size") || kv.containsKey("tmpfs-mode"))) {
      throw badMount(spec, "tmpfs-size and tmpfs-mode are for type=tmpfs");
    }
    switch (type) {
      case "bind" -> {
        if (source == null || !source.startsWith("/")) {
          throw badMount(spec, "source= must be an absolute host path");
        }
        if (!java.nio.file.Files.exists(Path.of(source))) {
          throw badMount(spec, source + ": no such file or directory");
        }
        return ContainerSpec.Mount.bind(Path.of(source).normalize().toString(), target, readOnly);
      }
      case "volume" -> {
        if (source == null || !Volumes.isValidName(source)) {
          throw badMount(spec, "source= must be a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)");
        }
        return Volumes.mount(source, target, readOnly);
      }
      case "tmpfs" -> {
        if (source != null) {
          throw badMount(spec, "a tmpfs has no source");
        }
        List<String> options = new ArrayList<>();
        if (readOnly) {
          options.add("ro");
        }
        String size = kv.get("tmpfs-size");
        if (size != null) {
          if (!size.matches("[0-9]+")) {
            throw badMount(spec, "tmpfs-size=" + size + " is not a number of bytes");
          }
          options.add("size=" + size);
        }
        String mode = kv.get("tmpfs-mode");
        if (mode != null) {
          if (!mode.matches("[0-7]{1,4}")) {
            throw badMount(spec, "tmpfs-mode=" + mode + " is not an octal mode");
          }
          options.add("mode=" + mode);
        }
        return ContainerSpec.Mount.tmpfs(target, options);
      }
      default -> throw badMount(spec, "type \"" + type + "\" is not bind, volume or tmpfs");
    }
  }

  private static LabenvException badMount(String spec, String why) {
    return LabenvException.badInput("--mount \"" + spec + "\": " + why);
  }
}
