package labenv.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import labenv.LabenvException;
import labenv.registry.Credentials;
import labenv.registry.Registry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "login", description = {"Check credentials against a registry and store them for labenv.",
    "They go to $XDG_CONFIG_HOME/labenv/auth.json (mode 0600), never printed. labenv also reads "
    + "~/.docker/config.json and its credential helpers."})
final class LoginCommand extends Verb {
  @Parameters(index = "0", paramLabel = "REGISTRY", description = "host[:port] (docker.io for Docker Hub)")
  String host;

  @Option(names = {"-u", "--username"}, paramLabel = "USER", required = true)
  String user;

  @Option(names = "--password-stdin", description = "read the password from stdin (the only way to give it)")
  boolean passwordStdin;

  @Option(names = "--insecure", description = "Accept any TLS certificate, and plain HTTP when the registry has no "
      + "TLS (loopback hosts get the fallback to HTTP without this).")
  boolean insecure;

  @Override
  public Integer call() {
    if (!passwordStdin) {
      throw LabenvException.badInput("login: give the password on stdin with --password-stdin (never as an argument: "
          + "it would show in ps and the shell's history)");
    }
    String secret;
    try {
      secret = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    } catch (IOException e) {
      throw LabenvException.failed("login: cannot read the password from stdin: " + e.getMessage(), e);
    }
    if (secret == null || secret.isEmpty()) {
      throw LabenvException.badInput("login: no password on stdin");
    }
    Credentials creds = Credentials.forUser(root.env);
    // Checked before it is stored: GET /v2/ with these credentials only.
    Registry registry = Registry.withCredentials(host, new Credentials.Basic(user, secret, "the password given"),
        creds.labenvFile().getParent(), insecure);
    try (Registry.Response r = registry.send("GET", "/v2/", "", Map.of(), null)) {
      if (r.status() != 200) {
        throw LabenvException.failed("login " + host + ": the registry answered " + r.status());
      }
    }
    creds.save(host, user, secret);
    out().println("Login Succeeded (" + user + "@" + host + ", stored in " + creds.labenvFile() + ")");
    out().flush();
    return ExitCode.OK;
  }
}
