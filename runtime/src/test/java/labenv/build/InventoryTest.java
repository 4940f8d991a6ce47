package labenv.build;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import labenv.image.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InventoryTest {
  @TempDir Path tmp;

  /** A status file shaped like dpkg's: multi-line fields, states other than installed, a foreign package. */
  private static final String STATUS = """
      Package: dpkg
      Status: install ok installed
      Priority: required
      Architecture: amd64
      Multi-Arch: foreign
      Version: 1.21.22
      Conffiles:
       /etc/alternatives/README 7be88b21f7e386c8d5a8790c2461c92b
       /etc/dpkg/dpkg.cfg f4413ffb515f8f753624ae3bb365b81b
      Description: Debian package management system
       This package provides the low-level infrastructure for handling the
       installation and removal of Debian software packages.
       .
       Package: not-a-package
       Version: 9.9

      Package: libssl3
      Status: install ok installed
      Architecture: amd64
      Multi-Arch: same
      Source: openssl
      Version: 3.0.11-1~deb12u1
      Depends: libc6 (>= 2.34)
      Description: Secure Sockets Layer toolkit - shared libraries
       This package is part of the OpenSSL project's implementation.

      Package: libssl3
      Status: install ok installed
      Architecture: i386
      Multi-Arch: same
      Version: 3.0.11-1~deb12u1

      Package: tzdata
      Status: hold ok installed
      Architecture: all
      Version: 2024a-0+deb12u1

      Package: removed-but-configured
      Status: deinstall ok config-files
      Architecture: amd64
      Version: 1.0

      Package: half-unpacked
      Status: install reinstreq half-installed
      Architecture: amd64
      Version: 2.0

      Package: not-installed
      Status: purge ok not-installed
      Architecture: amd64
      """;

  @Test
  void debianPackagesFromTheStatusFile() throws IOException {
    write("var/lib/dpkg/status", STATUS);
    Inventory inv = Inventory.of(tmp);
    assertEquals("amd64", inv.debianArchitecture());
    assertEquals(Map.of("dpkg", "1.21.22", "libssl3", "3.0.11-1~deb12u1", "libssl3:i386", "3.0.11-1~deb12u1",
        "tzdata", "2024a-0+deb12u1"), inv.debian());
    assertEquals(List.of("dpkg", "libssl3", "libssl3:i386", "tzdata"), List.copyOf(inv.debian().keySet()));
    assertEquals(new Inventory.DebianPackage("libssl3:i386", "i386", "3.0.11-1~deb12u1"),
        inv.debianPackages().get("libssl3:i386"));
  }

  @Test
  void distrolessStatusDirectory() throws IOException {
    write("var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n"
        + "Description: GNU C Library\n Package: not-this\n");
    write("var/lib/dpkg/status.d/libc6.md5sums", "0123 lib/x86_64-linux-gnu/libc.so.6\n");
    write("var/lib/dpkg/status.d/tzdata", "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n");
    Inventory inv = Inventory.of(tmp);
    assertEquals("amd64", inv.debianArchitecture());
    assertEquals(Map.of("libc6", "2.36-9+deb12u4", "tzdata", "2024a-0+deb12u1"), inv.debian());
  }

  @Test
  void noDpkgMeansNoDebianPackages() {
    Inventory inv = Inventory.of(tmp);
    assertNull(inv.debianArchitecture());
    assertTrue(inv.debian().isEmpty());
    assertTrue(inv.python().isEmpty());
    assertTrue(inv.r().isEmpty());
    assertTrue(inv.maven().isEmpty());
  }

  @Test
  void pythonDistributionsFromEverySiteDirectory() throws IOException {
    // Debian's own packages: a dist-info, a setuptools egg-info directory and a distutils egg-info file.
    write("usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA", """
        Metadata-Version: 2.1
        Name: requests
        Version: 2.28.1
        Summary: Python HTTP for Humans.
        Classifier: Programming Language :: Python
          continued: Version: 0.0

        Name: not-this
        Version: 0.0 (the body)
        """);
    write("usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO", "Metadata-Version: 1.1\nName: PyYAML\n"
        + "Version: 6.0\n");
    write("usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info", "Metadata-Version: 1.1\nName: python-apt\n"
        + "Version: 2.6.0\n");
    write("usr/lib/python3/dist-packages/requests/__init__.py", "");
    // pip --user as root, a venv under /opt, and pip into /usr/local.
    write("root/.local/lib/python3.11/site-packages/Typing_Extensions-4.9.0.dist-info/METADATA",
        "Name: Typing_Extensions\nVersion: 4.9.0\n");
    write("opt/venv/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA", "Name: numpy\nVersion: 1.26.4\n");
    write("usr/local/lib/python3.11/dist-packages/numpy-2.0.0.dist-info/METADATA", "Name: numpy\nVersion: 2.0.0\n");
    // conda's package cache is not an installation; a dist-info without METADATA is broken and skipped.
    Files.createDirectories(tmp.resolve("opt/conda/conda-meta"));
    write("opt/conda/pkgs/six-1.0/lib/python3.11/site-packages/six-1.0.dist-info/METADATA", "Name: six\nVersion: 1.0\n");
    Files.createDirectories(tmp.resolve("opt/venv/lib/python3.11/site-packages/broken-1.0.dist-info"));

    Inventory inv = Inventory.of(tmp);
    assertEquals(Map.of("numpy", "1.26.4, 2.0.0", "python-apt", "2.6.0", "pyyaml", "6.0", "requests", "2.28.1",
        "typing-extensions", "4.9.0"), inv.python());
    assertEquals(List.of(
        new Inventory.Distribution("numpy", "1.26.4", "/opt/venv/lib/python3.11/site-packages"),
        new Inventory.Distribution("numpy", "2.0.0", "/usr/local/lib/python3.11/dist-packages")),
        inv.pythonDistributions().subList(0, 2));
  }

  @Test
  void pep503Names() {
    assertEquals("typing-extensions", Inventory.normalizePython("Typing_Extensions"));
    assertEquals("zope-interface", Inventory.normalizePython("zope.interface"));
    assertEquals("a-b", Inventory.normalizePython("A-._B"));
  }

  @Test
  void rPackagesFromTheirDescriptionFiles() throws IOException {
    write("usr/lib/R/library/stats/DESCRIPTION", """
        Package: stats
        Version: 4.2.2
        Priority: base
        Title: The R Stats Package
        Description: R statistical functions.
          Package: continued-line
        """);
    write("usr/lib/R/site-library/data.table/DESCRIPTION", "Package: data.table\nVersion: 1.14.8\nTitle: x\n");
    write("usr/local/lib/R/site-library/Matrix/DESCRIPTION", "Package: Matrix\nVersion: 1.6-5\n");
    write("usr/lib/R/library/Matrix/DESCRIPTION", "Package: Matrix\nVersion: 1.5-3\n");
    write("usr/lib/R/library/notapackage/README", "");
    Inventory inv = Inventory.of(tmp);
    assertEquals(Map.of("Matrix", "1.5-3, 1.6-5", "data.table", "1.14.8", "stats", "4.2.2"), inv.r());
    assertEquals(new Inventory.Distribution("Matrix", "1.6-5", "/usr/local/lib/R/site-library"), inv.rPackages().get(1));
  }

  @Test
  void jarsOfTheMavenLayerInClasspathOrder() throws IOException {
    byte[] text = "text".getBytes(UTF_8);
    byte[] lang = "lang".getBytes(UTF_8);
    write("opt/labenv/maven/org/apache/commons/commons-text/1.10.0/commons-text-1.10.0.jar", "text");
    write("opt/labenv/maven/org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar", "lang");
    write("opt/labenv/maven/org/example/natives/1.0/natives-1.0-linux-x86_64.tar.gz", "n");
    // The classpath lists text before lang3: that order is kept, not the alphabetical one.
    write("opt/labenv/maven/classpath", "/opt/labenv/maven/org/apache/commons/commons-text/1.10.0/commons-text-1.10.0.jar\n"
        + "/opt/labenv/maven/org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar\n");
    List<Lockfile.MavenArtifact> jars = Inventory.of(tmp).maven();
    assertEquals(List.of(
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-text:1.10.0"), Digest.of(text),
            4, null),
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.apache.commons:commons-lang3:3.12.0"), Digest.of(lang),
            4, null),
        new Lockfile.MavenArtifact(MavenCoordinates.parse("org.example:natives:tar.gz:linux-x86_64:1.0"),
            Digest.of("n".getBytes(UTF_8)), 1, null)), jars);
  }

  @Test
  void symlinksResolveInsideTheImageNotOnTheHost() throws IOException {
    // A host directory holding what an image must never be able to point the inventory at.
    Path host = Files.createDirectories(tmp.resolve("host"));
    Files.writeString(host.resolve("status"), "Package: host-secret\nStatus: install ok installed\n"
        + "Architecture: amd64\nVersion: 6.6.6\n");
    Path root = Files.createDirectories(tmp.resolve("root"));
    Files.createDirectories(root.resolve("var/lib"));
    // Absolute and climbing links: both stay in the image (where host/... does not exist).
    Files.createSymbolicLink(root.resolve("var/lib/dpkg"), Path.of(host.toString()));
    Files.createDirectories(root.resolve("usr/lib/R"));
    Files.createSymbolicLink(root.resolve("usr/lib/R/site-library"), Path.of("../../../../host/lib"));
    Files.createDirectories(host.resolve("lib/secret"));
    Files.writeString(host.resolve("lib/secret/DESCRIPTION"), "Package: secret\nVersion: 1\n");
    Inventory inv = Inventory.of(root);
    assertTrue(inv.debian().isEmpty(), inv.debian().toString());
    assertTrue(inv.r().isEmpty(), inv.r().toString());

    // The same links resolved inside the image find the image's files.
    Files.createDirectories(root.resolve(host.toString().substring(1)));
    Files.writeString(root.resolve(host.toString().substring(1)).resolve("status"),
        "Package: inside\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n");
    assertEquals(Map.of("inside", "1.0"), Inventory.of(root).debian());
  }

  @Test
  void theSameTreeGivesTheSameInventory() throws IOException {
    write("var/lib/dpkg/status", STATUS);
    write("usr/lib/R/library/stats/DESCRIPTION", "Package: stats\nVersion: 4.2.2\n");
    Inventory a = Inventory.of(tmp);
    Inventory b = Inventory.of(tmp);
    assertEquals(a.debianPackages(), b.debianPackages());
    assertEquals(a.rPackages(), b.rPackages());
  }

  @Test
  void coordinatesFromRepositoryPaths() {
    assertEquals(MavenCoordinates.parse("org.apache.commons:commons-lang3:3.12.0"),
        Inventory.coordinates(Path.of("org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar")));
    assertEquals(MavenCoordinates.parse("g:a:jar:sources:1"), Inventory.coordinates(Path.of("g/a/1/a-1-sources.jar")));
    assertNull(Inventory.coordinates(Path.of("g/a/1/other-1.jar")));
    assertNull(Inventory.coordinates(Path.of("a/1/a-1.jar")));
  }

  private void write(String rel, String content) throws IOException {
    Path p = tmp.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }
}
