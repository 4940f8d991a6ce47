package labenv.container;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;

/**
 * Run by {@link PortForwarderIT} as an unprivileged user: {@code CONTAINER_PID PORT...} publishes the ports of
 * that container as {@code labenv run} would, and says {@code forwarding} or {@code error KIND MESSAGE}. Then a
 * {@code close} line on its input closes the forwarder and it says {@code closed}.
 */
public final class RootlessForwarderMain {
  private RootlessForwarderMain() {}

  public static void main(String[] args) throws IOException {
    List<PortMapping> ports = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      ports.add(PortMapping.parse(args[i]));
    }
    PortForwarder forwarder;
    try {
      forwarder = PortForwarder.bind(ports);
    } catch (LabenvException e) {
      System.out.println("error " + e.kind() + " " + e.getMessage());
      return;
    }
    try {
      forwarder.forwardTo(Long.parseLong(args[0]));
      System.out.println("forwarding");
    } catch (LabenvException e) {
      forwarder.close();
      System.out.println("error " + e.kind() + " " + e.getMessage());
      return;
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.equals("close")) {
        forwarder.close();
        System.out.println("closed");
      }
    }
  }
}
