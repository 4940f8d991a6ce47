package labenv.cli;

import static labenv.cli.LockIT.count;
import static labenv.cli.LockIT.digest;
import static labenv.cli.LockIT.digestOf;
import static labenv.cli.LockIT.labenv;
import static labenv.cli.LockIT.readLock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data scientist's Envfile on a real Debian base (made once for the class with {@code labenv bootstrap
 * debian:bookworm}): apt installs Python and numpy from the Debian mirror, pip installs a local wheel, a user, the
 * analysis copied and compiled. It builds to one digest twice from nothing, runs, locks every Debian and Python
 * package, and a locked build catches drift. Needs the host's Debian mirror and a few minutes:
 * {@code -Dit.excludedGroups=slow} leaves it out.
 */
@Tag("slow")
class DebianBuildIT {
  @TempDir static Path shared;
  static Path home;
  static Path ctx;
  static String base;

  static final String ENVFILE = """
      FROM debian:bookworm
      RUN apt-get update \\
       && apt-get install -y --no-install-recommends python3 python3-pip python3-numpy
      COPY labstats-0.1-py3-none-any.whl /wheels/
      RUN pip install --no-index --break-system-packages /wheels/labstats-0.1-py3-none-any.whl
      RUN useradd -m analyst
      COPY analysis.py /app/
      RUN python3 -m compileall -q /app
      # What two noise rules are for: a module made and imported in one step (a timestamp pyc of the clock), and
      # a set of names written out in the order of Python's per-process string hashes.
      RUN mkdir /opt/gen && echo 'X = 1' > /opt/gen/helper.py && cd /opt/gen && python3 -c 'import helper' \\
       && python3 -c 'print(list(set("%s".split())))' > /opt/gen/set-order
      USER analyst
      WORKDIR /home/analyst
      CMD ["python3", "/app/analysis.py"]
      """.formatted(String.join(" ", List.of("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
      "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon")));

  static final String ANALYSIS = """
      import numpy as np
      import labstats
      data = np.arange(10, dtype=float)
      print(f"numpy {np.__version__}: mean={labstats.mean(data):.2f} std={data.std():.4f}")
      """;

  @BeforeAll
  static void debian() throws Exception {
    assumeTrue(BootstrapIT.mmdebstrapInstalled(), "mmdebstrap is not installed");
    home = shared.resolve("home");
    RunIT.Proc boot = labenv(home, "bootstrap", "debian:bookworm", "--progress", "quiet");
    assertEquals(0, boot.code(), boot::toString);
    base = boot.out().trim().split(" ")[1];
    ctx = Files.createDirectories(shared.resolve("ctx"));
    Files.writeString(ctx.resolve("Envfile"), ENVFILE);
    Files.writeString(ctx.resolve("analysis.py"), ANALYSIS);
    wheel(ctx.resolve("labstats-0.1-py3-none-any.whl"), Map.of("labstats/__init__.py",
        "def mean(xs):\n    xs = list(xs)\n    return sum(xs) / len(xs)\n"));
  }

  /**
   * A pure-Python wheel made here (PyPI is not reachable from the tests): the files, METADATA, WHEEL and a RECORD
   * with their hashes, as pip checks them.
   */
  static void wheel(Path file, Map<String, String> files) throws Exception {
    String info = "labstats-0.1.dist-info/";
    Map<String, String> all = new LinkedHashMap<>(files);
    all.put(info + "METADATA", "Metadata-Version: 2.1\nName: labstats\nVersion: 0.1\n");
    all.put(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: labenv-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
    StringBuilder record = new StringBuilder();
    for (Map.Entry<String, String> e : all.entrySet()) {
      byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
      String hash = Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(b));
      record.append(e.getKey()).append(",sha256=").append(hash).append(',').append(b.length).append('\n');
    }
    all.put(info + "RECORD", record.append(info).append("RECORD,,\n").toString());
    try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
      for (Map.Entry<String, String> e : all.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
  }

  @Test
  void twoBuildsFromNothingGiveOneDigestThatRunsAndRebuildsFromTheCache() throws Exception {
    RunIT.Proc check = labenv(home, "build", "--check", "-t", "analysis:1", ctx.toString());
    assertEquals(0, check.code(), check::toString);
    String digest = digest(check);
    assertTrue(check.err().contains("reproducible: two builds from nothing gave " + digest), check::toString);
    assertEquals(digest, digestOf(home, "analysis:1"));

    RunIT.Proc run = labenv(home, "run", "--rm", "analysis:1");
    assertEquals(0, run.code(), run::toString);
    assertTrue(run.out().matches("numpy 1\\.[0-9.]+: mean=4\\.50 std=2\\.8723\n"), run::toString);
    RunIT.Proc who = labenv(home, "run", "--rm", "analysis:1", "sh", "-c", "id -un; pwd");
    assertEquals(new RunIT.Proc(0, "analyst\n/home/analyst\n", ""), who);

    // What the noise rules did: no apt or dpkg logs, no binary apt caches; the stale pyc of the module made in its
    // step is gone, the hash-checked ones (PEP 552 flags 3) of compileall and of Debian's packages are there.
    RunIT.Proc noise = labenv(home, "run", "--rm", "-u", "0", "analysis:1", "sh", "-c",
        "find /var/log /var/cache/apt /opt/gen -type f | sort; "
            + "python3 -c 'import sys; print(*[open(f, \"rb\").read()[4] for f in sys.argv[1:]])' "
            + "/app/__pycache__/analysis.*.pyc /usr/lib/python3/dist-packages/numpy/__pycache__/__init__.*.pyc");
    assertEquals(new RunIT.Proc(0, """
        /opt/gen/helper.py
        /opt/gen/set-order
        /var/cache/apt/archives/lock
        /var/log/btmp
        /var/log/faillog
        /var/log/lastlog
        /var/log/wtmp
        3 3
        """, ""), noise);

    // Unchanged: every step from the cache, the same digest.
    RunIT.Proc again = labenv(home, "build", "-t", "analysis:1", ctx.toString());
    assertEquals(digest, digest(again));
    assertEquals(8, count(again.err(), "cached"), again::toString); // RUN, COPY and WORKDIR steps
  }

  @Test
  void theLockPinsDebianAndPythonPackagesAndLockedBuildsCatchDrift() throws Exception {
    RunIT.Proc lock = labenv(home, "lock", ctx.toString());
    assertEquals(0, lock.code(), lock::toString);
    JsonNode locked = readLock(ctx);
    assertEquals("debian:bookworm", locked.path("baseImages").get(0).path("image").asText());
    assertEquals(base, locked.path("baseImages").get(0).path("digest").asText());

    // The versions are what dpkg and Python report inside the image.
    String built = digest(labenv(home, "build", "-t", "analysis:locked", ctx.toString()));
    RunIT.Proc versions = labenv(home, "run", "--rm", "analysis:locked", "sh", "-c",
        "dpkg-query -W -f 'debian:${Package} ${Version}\\n' python3-numpy python3-pip bash; "
            + "python3 -c 'import numpy, pip; print(\"python:numpy\", numpy.__version__); "
            + "print(\"python:pip\", pip.__version__)'; echo arch $(dpkg --print-architecture)");
    assertEquals(0, versions.code(), versions::toString);
    Map<String, String> v = new LinkedHashMap<>();
    versions.out().lines().forEach(l -> v.put(l.split(" ")[0], l.split(" ")[1]));
    assertEquals(6, v.size(), versions::toString);
    JsonNode debian = locked.path("debian").path("packages");
    String numpyDeb = v.get("debian:python3-numpy");
    assertEquals(numpyDeb, debian.path("python3-numpy").asText(), versions::toString);
    assertEquals(v.get("debian:python3-pip"), debian.path("python3-pip").asText(), versions::toString);
    assertEquals(v.get("debian:bash"), debian.path("bash").asText(), "the base image's packages too");
    JsonNode python = locked.path("python");
    assertEquals(v.get("python:numpy"), python.path("numpy").asText(), "numpy from dist-packages");
    assertEquals(v.get("python:pip"), python.path("pip").asText(), versions::toString);
    assertEquals("0.1", python.path("labstats").asText(), "the wheel pip installed");
    assertEquals(v.get("arch"), locked.path("debian").path("architecture").asText(), versions::toString);

    assertEquals(built, digest(labenv(home, "build", "--locked", "-t", "analysis:locked", ctx.toString())));

    // The lock says otherwise about numpy and the base image: the report says what changed from what to what.
    Path lockFile = ctx.resolve("labenv.lock");
    String zeros = "sha256:" + "0".repeat(64);
    Files.writeString(lockFile, Files.readString(lockFile)
        .replace("\"python3-numpy\": \"" + numpyDeb + "\"", "\"python3-numpy\": \"1:9.9.9-1\"")
        .replace(base, zeros));
    RunIT.Proc drift = labenv(home, "build", "--locked", "-t", "analysis:locked", "-t", "analysis:drifted",
        ctx.toString());
    assertEquals(1, drift.code(), drift::toString);
    assertTrue(drift.err().contains(lockFile + ": the build differs from the lock in 2 places\n"), drift::toString);
    assertTrue(drift.err().contains("  base image of stage stage-0: debian:bookworm@" + zeros + " \u2192 "
        + "debian:bookworm@" + base + "\n"), drift::toString);
    assertTrue(drift.err().contains("  debian package python3-numpy: 1:9.9.9-1 \u2192 " + numpyDeb + "\n"),
        drift::toString);
    assertTrue(drift.err().strip().endsWith("in 2 places; the image was not tagged"), drift::toString);
    assertEquals(built, digestOf(home, "analysis:locked"), "the tag did not move");
    assertNull(digestOf(home, "analysis:drifted"));
  }
}
