package labenv.container;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;
import labenv.LabenvException;

/**
 * A container port published on the host ({@code -p [IP:]HOSTPORT:CONTAINERPORT[/tcp]}): connections to
 * {@code hostAddress:hostPort} on the host reach {@code containerPort} on the container's loopback.
 *
 * @param hostAddress where the host listens; 127.0.0.1 unless the user gave another address, so that a published
 *     port is not reachable from other machines by accident (docker's default is every address)
 * @param hostPort 1 to 65535
 * @param containerPort 1 to 65535
 * @param protocol only tcp for now
 */
public record PortMapping(InetAddress hostAddress, int hostPort, int containerPort, Protocol protocol) {

  /** The transport protocol of a published port. */
  public enum Protocol {
    TCP;

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static final InetAddress DEFAULT_HOST_ADDRESS = InetAddress.getLoopbackAddress();

  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  public PortMapping {
    if (hostAddress == null || protocol == null) {
      throw new IllegalArgumentException("hostAddress and protocol are required");
    }
    if (!inRange(hostPort) || !inRange(containerPort)) {
      throw new IllegalArgumentException("ports must be 1-65535: " + hostPort + ":" + containerPort);
    }
  }

  /** Parses docker's {@code -p} forms with a host port: {@code H:C}, {@code IP:H:C}, {@code [IPv6]:H:C}, each
   * optionally with {@code /tcp}. */
  public static PortMapping parse(String spec) {
    String rest = spec;
    int slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      String proto = rest.substring(slash + 1);
      if (proto.equals("udp") || proto.equals("sctp")) {
        throw bad(spec, proto + " is not supported: only tcp ports can be published");
      }
      if (!proto.equals("tcp")) {
        throw bad(spec, "unknown protocol \"" + proto + "\": expected tcp");
      }
      rest = rest.substring(0, slash);
    }
    String address = null;
    String ports;
    if (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      if (close < 0 || close + 1 >= rest.length() || rest.charAt(close + 1) != ':') {
        throw bad(spec, "expected [IPv6]:HOSTPORT:CONTAINERPORT");
      }
      address = rest.substring(1, close);
      ports = rest.substring(close + 2);
      if (!IPV6.matcher(address).matches()) {
        throw bad(spec, "\"" + address + "\" is not an IPv6 address");
      }
    } else {
      int colons = (int) rest.chars().filter(c -> c == ':').count();
      if (colons > 2) {
        throw bad(spec, "put an IPv6 host address in brackets, as in [::1]:8080:80");
      }
      if (colons == 2) {
        int first = rest.indexOf(':');
        address = rest.substring(0, first);
        ports = rest.substring(first + 1);
      } else {
        ports = rest;
      }
    }
    String[] hc = ports.split(":", -1);
    if (hc.length != 2) {
      throw bad(spec, "expected [IP:]HOSTPORT:CONTAINERPORT (a host port is required)");
    }
    if (hc[0].isEmpty()) {
      throw bad(spec, "a host port is required: labenv does not pick one");
    }
    int hostPort = port(spec, "host", hc[0]);
    int containerPort = port(spec, "container", hc[1]);
    InetAddress host = address == null ? DEFAULT_HOST_ADDRESS : address(spec, address);
    return new PortMapping(host, hostPort, containerPort, Protocol.TCP);
  }

  /** Where the host listens, as {@code 127.0.0.1:8080} or {@code [::1]:8080}. */
  public String hostEndpoint() {
    return literal(hostAddress) + ":" + hostPort;
  }

  /** The canonical form, which {@link #parse} reads back: {@code 127.0.0.1:8080:80/tcp}. */
  @Override
  public String toString() {
    return hostEndpoint() + ":" + containerPort + "/" + protocol;
  }

  static String literal(InetAddress address) {
    String s = address.getHostAddress();
    return address instanceof Inet6Address ? "[" + s + "]" : s;
  }

  private static int port(String spec, String which, String text) {
    if (text.contains("-")) {
      throw bad(spec, "port ranges are not supported: publish each port with its own -p");
    }
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw bad(spec, which + " port \"" + text + "\" is not a number");
    }
    int p = Integer.parseInt(text);
    if (!inRange(p)) {
      throw bad(spec, which + " port " + p + " is out of range: expected 1-65535");
    }
    return p;
  }

  private static InetAddress address(String spec, String text) {
    var m = IPV4.matcher(text);
    boolean literal = m.matches() ? octets(m) : IPV6.matcher(text).matches();
    if (!literal) {
      throw bad(spec, "host address \"" + text + "\" is not an IP address");
    }
    try {
      // A literal (checked above; brackets make an IPv6 one certain), so no name lookup happens.
      return InetAddress.getByName(text.contains(":") ? "[" + text + "]" : text);
    } catch (UnknownHostException e) {
      throw bad(spec, "host address \"" + text + "\" is not an IP address");
    }
  }

  private static boolean octets(java.util.regex.Matcher m) {
    for (int i = 1; i <= 4; i++) {
      String octet = m.group(i);
      // 010 could mean 8 or 10: refuse it rather than guess.
      if (Integer.parseInt(octet) > 255 || octet.length() > 1 && octet.charAt(0) == '0') {
        return false;
      }
    }
    return true;
  }

  private static boolean inRange(int port) {
    return port >= 1 && port <= 65535;
  }

  private static LabenvException bad(String spec, String why) {
    return LabenvException.badInput("port \"" + spec + "\": " + why);
  }
}
