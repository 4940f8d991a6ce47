package labenv.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.store.AtomicFile;

/**
 * Registry credentials, looked up as Docker does: labenv's own file first ({@code labenv login}:
 * {@code $XDG_CONFIG_HOME/labenv/auth.json}, mode 0600, Docker's {@code auths} format), then
 * {@code ~/.docker/config.json}: its {@code credHelpers} for the host, its {@code credsStore},
 * then its {@code auths}. Secrets are never printed: errors name the user and where it came from.
 */
public final class Credentials {
  /** A user and a secret, and where they were found (for messages). */
  public record Basic(String user, String secret, String source) {
    public String header() {
      return "Basic " + Base64.getEncoder().encodeToString((user + ":" + secret).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return "user " + user + " (" + source + ")"; // never the secret
    }
  }

  private final Path labenvFile;
  private final Path dockerFile;

  public Credentials(Path labenvFile, Path dockerFile) {
    this.labenvFile = labenvFile;
    this.dockerFile = dockerFile;
  }

  /** The files of this user: {@code $XDG_CONFIG_HOME/labenv/auth.json} and {@code $DOCKER_CONFIG/config.json}. */
  public static Credentials forUser(Map<String, String> env) {
    String home = env.getOrDefault("HOME", System.getProperty("user.home"));
    String xdg = env.get("XDG_CONFIG_HOME");
    Path config = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(home, ".config");
    String docker = env.get("DOCKER_CONFIG");
    Path dockerDir = docker != null && !docker.isEmpty() ? Path.of(docker) : Path.of(home, ".docker");
    return new Credentials(config.resolve("labenv").resolve("auth.json"), dockerDir.resolve("config.json"));
  }

  public Path labenvFile() {
    return labenvFile;
  }

  /** The credentials for {@code host}, or null for none (anonymous). */
  public Basic find(String host) {
    Basic own = fromAuths(read(labenvFile), host, "labenv login, " + labenvFile);
    if (own != null) {
      return own;
    }
    JsonNode docker = read(dockerFile);
    if (docker == null) {
      return null;
    }
    JsonNode helpers = docker.get("credHelpers");
    for (String key : keys(host)) {
      if (helpers != null && helpers.hasNonNull(key)) {
        return helper(helpers.get(key).asText(), key);
      }
    }
    Basic fromAuths = fromAuths(docker, host, dockerFile.toString());
    if (fromAuths != null) {
      return fromAuths;
    }
    if (docker.hasNonNull("credsStore")) {
      return helper(docker.get("credsStore").asText(), host);
    }
    return null;
  }

  /** The names a host is filed under: itself, its https:// form, and Docker Hub's historic key. */
  private static List<String> keys(String host) {
    if (host.equals("docker.io") || host.equals("registry-1.docker.io") || host.equals("index.docker.io")) {
      return List.of("https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io");
    }
    return List.of(host, "https://" + host, "http://" + host);
  }

  private static Basic fromAuths(JsonNode config, String host, String source) {
    if (config == null || !config.has("auths")) {
      return null;
    }
    for (String key : keys(host)) {
      JsonNode entry = config.get("auths").get(key);
      if (entry == null) {
        continue;
      }
      if (entry.hasNonNull("auth")) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(entry.get("auth").asText()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          throw LabenvException.badInput(source + ": the auth entry of " + key + " is not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
          throw LabenvException.badInput(source + ": the auth entry of " + key + " is not user:password");
        }
        return new Basic(decoded.substring(0, colon), decoded.substring(colon + 1), source);
      }
      if (entry.hasNonNull("username") && entry.hasNonNull("password")) {
        return new Basic(entry.get("username").asText(), entry.get("password").asText(), source);
      }
    }
    return null;
  }

  /** {@code docker-credential-NAME get}, as Docker runs it: the server URL on stdin, JSON on stdout. */
  private static Basic helper(String name, String server) {
    String program = "docker-credential-" + name;
    try {
      Process p = new ProcessBuilder(program, "get").redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().write(server.getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw LabenvException.failed(program + " get: no answer in 30 s");
      }
      if (p.exitValue() != 0) {
        return null; // "credentials not found in native keychain": anonymous, as docker
      }
      JsonNode n = Json.mapper().readTree(out);
      if (n == null || !n.hasNonNull("Username") || !n.hasNonNull("Secret")) {
        throw LabenvException.failed(program + " get: no Username and Secret in its answer");
      }
      return new Basic(n.get("Username").asText(), n.get("Secret").asText(), "credential helper " + program);
    } catch (IOException e) {
      throw LabenvException.failed("credential helper " + program + " (named in the Docker config): cannot run it: "
          + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed(program + " get: interrupted", e);
    }
  }

  private static JsonNode read(Path file) {
    try {
      return Json.mapper().readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw LabenvException.badInput(file + ": not readable JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  /** Stores {@code user} and {@code secret} for {@code host} in labenv's file (0600, replaced atomically). */
  public void save(String host, String user, String secret) {
    ObjectNode root = labenvRoot();
    ObjectNode auths = root.has("auths") && root.get("auths").isObject() ? (ObjectNode) root.get("auths")
        : root.putObject("auths");
    auths.putObject(host).put("auth", Base64.getEncoder().encodeToString((user + ":" + secret)
        .getBytes(StandardCharsets.UTF_8)));
    write(root);
  }

  /** Removes {@code host} from labenv's file; false when it was not there. */
  public boolean remove(String host) {
    ObjectNode root = labenvRoot();
    if (!root.has("auths") || !root.get("auths").has(host)) {
      return false;
    }
    ((ObjectNode) root.get("auths")).remove(host);
    write(root);
    return true;
  }

  private ObjectNode labenvRoot() {
    JsonNode n = read(labenvFile);
    return n instanceof ObjectNode o ? o : Json.mapper().createObjectNode();
  }

  private void write(ObjectNode root) {
    try {
      Files.createDirectories(labenvFile.getParent(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      AtomicFile.writePrivate(labenvFile, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    } catch (IOException e) {
      throw LabenvException.failed("cannot write " + labenvFile + ": " + e.getMessage(), e);
    }
  }
}
