package labenv.build;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import labenv.image.Platform;

/**
 * The ARGs BuildKit defines before the first FROM: the target's and the build host's platform (the same here:
 * labenv builds for the host). A stage sees them after {@code ARG TARGETARCH} and so on, as with BuildKit.
 */
final class Predefined {
  private Predefined() {}

  static final Set<String> NAMES = Set.of("TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
      "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT");

  /**
   * The proxy ARGs Docker predefines: given with --build-arg, they reach every RUN without an ARG line, stay out of
   * the image and out of the cache key (BuildKit: llb.WithProxy, and execOp.CacheMap drops ProxyEnv).
   */
  static final Set<String> PROXIES = Set.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
      "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy");

  static Map<String, String> values(Platform p) {
    String variant = p.variant() == null ? "" : p.variant();
    String platform = p.os() + "/" + p.architecture() + (variant.isEmpty() ? "" : "/" + variant);
    Map<String, String> m = new LinkedHashMap<>();
    for (String side : new String[] {"TARGET", "BUILD"}) {
      m.put(side + "PLATFORM", platform);
      m.put(side + "OS", p.os());
      m.put(side + "ARCH", p.architecture());
      m.put(side + "VARIANT", variant);
    }
    return m;
  }
}
