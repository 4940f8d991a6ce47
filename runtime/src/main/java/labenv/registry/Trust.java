package labenv.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import labenv.LabenvException;

/**
 * Which TLS certificates a registry connection trusts: the JVM's CAs, plus the CA files Docker and Podman users
 * already keep per registry ({@code certs.d/HOST[:PORT]/*.crt} in labenv's config folder, {@code
 * /etc/containers/certs.d} and {@code /etc/docker/certs.d}), so a lab's registry with a private CA works as it does
 * with their other tools. {@code --insecure} trusts any certificate, as Docker does for insecure registries.
 */
final class Trust {
  private Trust() {}

  /** The folders whose {@code *.crt} files are trusted for {@code host}, in the order they are read. */
  static List<Path> certificateFolders(Path labenvConfig, String host) {
    List<Path> dirs = new ArrayList<>();
    if (labenvConfig != null) {
      dirs.add(labenvConfig.resolve("certs.d").resolve(host));
    }
    dirs.add(Path.of("/etc/containers/certs.d", host));
    dirs.add(Path.of("/etc/docker/certs.d", host));
    return dirs;
  }

  /** A context trusting the JVM's CAs and those of {@code folders}, or anything when {@code insecure}. */
  static SSLContext context(List<Path> folders, boolean insecure) {
    try {
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, new TrustManager[] {insecure ? new AnyCertificate() : manager(folders)}, null);
      return ssl;
    } catch (GeneralSecurityException e) {
      throw LabenvException.failed("TLS: " + e.getMessage(), e);
    }
  }

  private static X509TrustManager manager(List<Path> folders) throws GeneralSecurityException {
    X509TrustManager jvm = defaultManager(null);
    KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
    try {
      extra.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    CertificateFactory x509 = CertificateFactory.getInstance("X.509");
    int n = 0;
    for (Path dir : folders) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.crt")) {
        for (Path f : files) {
          try (InputStream in = Files.newInputStream(f)) {
            for (java.security.cert.Certificate c : x509.generateCertificates(in)) {
              extra.setCertificateEntry("labenv-" + n++, c);
            }
          } catch (CertificateException e) {
            throw LabenvException.badInput(f + ": not a PEM certificate: " + e.getMessage());
          }
        }
      } catch (IOException e) {
        throw LabenvException.failed(dir + ": " + e.getMessage(), e);
      }
    }
    if (n == 0) {
      return jvm;
    }
    X509TrustManager own = defaultManager(extra);
    return new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        jvm.checkClientTrusted(chain, authType);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
          own.checkServerTrusted(chain, authType);
        } catch (CertificateException e) {
          jvm.checkServerTrusted(chain, authType);
        }
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        List<X509Certificate> all = new ArrayList<>(List.of(jvm.getAcceptedIssuers()));
        all.addAll(List.of(own.getAcceptedIssuers()));
        return all.toArray(X509Certificate[]::new);
      }
    };
  }

  private static X509TrustManager defaultManager(KeyStore store) throws GeneralSecurityException {
    TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    f.init(store);
    for (TrustManager m : f.getTrustManagers()) {
      if (m instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }

  /** True when {@code e} (or a cause) says the server's certificate is not trusted, rather than TLS not spoken. */
  static boolean untrusted(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof CertificateException || c instanceof java.security.cert.CertPathValidatorException
          || (c.getMessage() != null && (c.getMessage().contains("PKIX") || c.getMessage().contains("No subject alternative")
          || c.getMessage().contains("No name matching")))) {
        return true;
      }
    }
    return false;
  }

  /** For {@code --insecure}: the connection is encrypted but the server is not authenticated. */
  private static final class AnyCertificate implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
