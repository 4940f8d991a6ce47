package labenv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** {@code labenv --version}: the project version, the Java runtime and the platform. */
final class VersionProvider implements CommandLine.IVersionProvider {
  static String version() {
    Properties p = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // no version resource: report unknown rather than fail --version
    }
    return p.getProperty("version", "unknown");
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "labenv " + version(),
      "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
      "platform " + labenv.image.Platform.host()
    };
  }
}
