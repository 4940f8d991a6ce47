package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.Map;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;

class PortMappingTest {
  @Test
  void parsesDockersFormsWithLoopbackAsTheDefaultHostAddress() throws Exception {
    Map<String, String> canonical = Map.of(
        "8080:80", "127.0.0.1:8080:80/tcp",
        "8080:80/tcp", "127.0.0.1:8080:80/tcp",
        "0.0.0.0:1:65535", "0.0.0.0:1:65535/tcp",
        "192.168.1.20:8888:8888/tcp", "192.168.1.20:8888:8888/tcp",
        "[::1]:8080:80", "[0:0:0:0:0:0:0:1]:8080:80/tcp",
        "[::]:443:8443/tcp", "[0:0:0:0:0:0:0:0]:443:8443/tcp");
    for (Map.Entry<String, String> e : canonical.entrySet()) {
      PortMapping m = PortMapping.parse(e.getKey());
      assertEquals(e.getValue(), m.toString(), e.getKey());
      assertEquals(m, PortMapping.parse(m.toString()), "the canonical form reads back: " + e.getKey());
    }
    PortMapping m = PortMapping.parse("8080:80");
    assertEquals(InetAddress.getByName("127.0.0.1"), m.hostAddress());
    assertEquals(8080, m.hostPort());
    assertEquals(80, m.containerPort());
    assertEquals(PortMapping.Protocol.TCP, m.protocol());
    assertEquals("127.0.0.1:8080", m.hostEndpoint());
    assertEquals("[0:0:0:0:0:0:0:1]:8080", PortMapping.parse("[::1]:8080:80").hostEndpoint());
  }

  @Test
  void rejectsWhatItCannotPublishWithOneLineSayingWhy() {
    Map<String, String> why = new java.util.LinkedHashMap<>();
    why.put("80", "port \"80\": expected [IP:]HOSTPORT:CONTAINERPORT (a host port is required)");
    why.put("127.0.0.1::80", "port \"127.0.0.1::80\": a host port is required: labenv does not pick one");
    why.put("8080:80/udp", "port \"8080:80/udp\": udp is not supported: only tcp ports can be published");
    why.put("8080:80/sctp", "port \"8080:80/sctp\": sctp is not supported: only tcp ports can be published");
    why.put("8080:80/http", "port \"8080:80/http\": unknown protocol \"http\": expected tcp");
    why.put("8000-8010:80", "port \"8000-8010:80\": port ranges are not supported: publish each port with its own -p");
    why.put("8080:80-81", "port \"8080:80-81\": port ranges are not supported: publish each port with its own -p");
    why.put("0:80", "port \"0:80\": host port 0 is out of range: expected 1-65535");
    why.put("8080:0", "port \"8080:0\": container port 0 is out of range: expected 1-65535");
    why.put("65536:80", "port \"65536:80\": host port 65536 is out of range: expected 1-65535");
    why.put("8080:999999", "port \"8080:999999\": container port \"999999\" is not a number");
    why.put("http:80", "port \"http:80\": host port \"http\" is not a number");
    why.put("8080:", "port \"8080:\": container port \"\" is not a number");
    why.put("+80:80", "port \"+80:80\": host port \"+80\" is not a number");
    why.put("localhost:8080:80", "port \"localhost:8080:80\": host address \"localhost\" is not an IP address");
    why.put("256.0.0.1:8080:80", "port \"256.0.0.1:8080:80\": host address \"256.0.0.1\" is not an IP address");
    why.put("010.0.0.1:8080:80", "port \"010.0.0.1:8080:80\": host address \"010.0.0.1\" is not an IP address");
    why.put("::1:8080:80", "port \"::1:8080:80\": put an IPv6 host address in brackets, as in [::1]:8080:80");
    why.put("[::1:8080:80", "port \"[::1:8080:80\": expected [IPv6]:HOSTPORT:CONTAINERPORT");
    why.put("[::1]8080:80", "port \"[::1]8080:80\": expected [IPv6]:HOSTPORT:CONTAINERPORT");
    why.put("[fe80::1%eth0]:8080:80", "port \"[fe80::1%eth0]:8080:80\": \"fe80::1%eth0\" is not an IPv6 address");
    why.put("[1:2:3:4:5:6:7:8:9]:8080:80",
        "port \"[1:2:3:4:5:6:7:8:9]:8080:80\": host address \"1:2:3:4:5:6:7:8:9\" is not an IP address");
    why.put("", "port \"\": expected [IP:]HOSTPORT:CONTAINERPORT (a host port is required)");
    for (Map.Entry<String, String> e : why.entrySet()) {
      LabenvException x = assertThrows(LabenvException.class, () -> PortMapping.parse(e.getKey()), e.getKey());
      assertEquals(LabenvException.Kind.BAD_INPUT, x.kind(), e.getKey());
      assertEquals(e.getValue(), x.getMessage());
    }
  }
}
