package labenv.cli;

import labenv.registry.Credentials;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "logout", description = "Forget the credentials labenv login stored for a registry.")
final class LogoutCommand extends Verb {
  @Parameters(index = "0", paramLabel = "REGISTRY", description = "host[:port]")
  String host;

  @Override
  public Integer call() {
    Credentials creds = Credentials.forUser(root.env);
    if (!creds.remove(host)) {
      err().println("labenv: not logged in to " + host + " (labenv login stores to " + creds.labenvFile() + ")");
      err().flush();
      return ExitCode.FAILED;
    }
    out().println("Removed login credentials for " + host);
    out().flush();
    return ExitCode.OK;
  }
}
