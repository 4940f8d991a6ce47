package labenv.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.layer.Compression;
import labenv.layer.LayerApplier;
import labenv.layer.LayerSource;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with the real tools: what labenv saves, skopeo, umoci and podman accept and read the same;
 * what they write, labenv loads, and its layers unpack to the same files. The image is a static
 * busybox root filesystem made here. Peers missing from the machine are installed with apt; the
 * tests are skipped only when that is impossible.
 */
class ArchivesIT {
  private static final List<String> PEERS = List.of("skopeo", "umoci", "podman", "crun");

  @TempDir static Path shared;
  private static Path rootfs;
  private static Map<String, String> rootfsTree;
  private static Path containersConf;

  @TempDir Path tmp;
  private final Map<Path, Path> runroots = new java.util.HashMap<>();

  @org.junit.jupiter.api.AfterEach
  void removeRunroots() throws Exception {
    for (Path r : runroots.values()) {
      Fixtures.run("rm", "-rf", "--one-file-system", r.toString());
    }
  }

  @BeforeAll
  static void peersAndRootfs() throws Exception {
    ensurePeers();
    rootfs = Fixtures.busyboxRootfs(shared.resolve("rootfs"));
    rootfsTree = Fixtures.tree(rootfs);
    assertTrue(rootfsTree.get("bin/busybox").startsWith("file rwxr-xr-x sha256:"), rootfsTree.toString());
    assertEquals("symlink busybox", rootfsTree.get("bin/sh"));
    // podman's defaults ask for more open files than this sandbox allows, and for systemd.
    String hardNofile = Fixtures.run("sh", "-c", "ulimit -Hn").trim();
    containersConf = shared.resolve("containers.conf");
    Files.writeString(containersConf, "[containers]\ndefault_ulimits = [\"nofile=" + hardNofile + ":" + hardNofile
        + "\", \"nproc=32768:32768\"]\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n");
  }

  private static void ensurePeers() throws InterruptedException {
    if (PEERS.stream().allMatch(ArchivesIT::onPath)) {
      return;
    }
    try {
      Fixtures.run("apt-get", "update", "-q");
      List<String> cmd = new ArrayList<>(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends"));
      cmd.addAll(List.of("skopeo", "umoci", "podman", "crun", "busybox-static"));
      Fixtures.run(Map.of("DEBIAN_FRONTEND", "noninteractive"), cmd.toArray(String[]::new));
    } catch (IOException e) {
      Assumptions.abort("peers missing and apt-get cannot install them: " + e.getMessage());
    }
    Assumptions.assumeTrue(PEERS.stream().allMatch(ArchivesIT::onPath), "peers still missing after apt-get");
  }

  private static boolean onPath(String tool) {
    try {
      Fixtures.run("sh", "-c", "command -v " + tool);
      return true;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private ImageStore store(String name) {
    return new ImageStore(ContentStore.open(tmp.resolve(name)));
  }

  /** A podman with its own storage in {@code dir}: tests never touch the host's images. */
  private String podman(Path dir, String... args) throws Exception {
    // podman refuses a runroot longer than 50 characters; JUnit's temp dirs are longer.
    Path runroot = runroots.computeIfAbsent(dir, d -> {
      try {
        return Files.createTempDirectory(Path.of("/tmp"), "lbr");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    List<String> cmd = new ArrayList<>(List.of("podman", "--root", dir.resolve("root").toString(), "--runroot",
        runroot.toString(), "--storage-driver", "vfs", "--tmpdir", dir.resolve("tmp").toString()));
    Files.createDirectories(dir.resolve("tmp"));
    cmd.addAll(List.of(args));
    return Fixtures.run(Map.of("CONTAINERS_CONF", containersConf.toString()), cmd.toArray(String[]::new));
  }

  /** Unpacks an image with labenv's own applier. */
  private static Path unpack(ImageStore images, Image image, Path target) {
    List<LayerSource> layers = new ArrayList<>();
    for (Descriptor l : image.manifest().layers()) {
      layers.add(new LayerSource(l.digest().toString(), () -> images.content().open(l)));
    }
    new LayerApplier().unpack(layers, target);
    return target;
  }

  @Test
  void skopeoAndUmociReadWhatLabenvSaves() throws Exception {
    ImageStore images = store("store");
    Archives archives = new Archives(images);
    ImportResult r = archives.importRootfs(rootfs, "lab/busybox:1", Compression.GZIP);
    Path oci = tmp.resolve("busybox.oci.tar");
    archives.save(List.of("lab/busybox:1"), oci, Archives.Format.OCI);

    byte[] raw = Fixtures.run("skopeo", "inspect", "--raw", "oci-archive:" + oci + ":1")
        .getBytes(StandardCharsets.UTF_8);
    assertEquals(r.manifest().digest(), Digest.of(raw), "skopeo reads our manifest byte for byte");
    JsonNode config = Json.tree(Fixtures.run("skopeo", "inspect", "--config", "oci-archive:" + oci + ":1")
        .getBytes(StandardCharsets.UTF_8), "skopeo config");
    assertEquals(r.diffId().toString(), config.get("rootfs").get("diff_ids").get(0).asText());
    assertEquals(r.config().toString(), Json.tree(raw, "manifest").get("config").get("digest").asText());

    // skopeo copies it into a layout directory; labenv loads that with the same manifest digest.
    Path layout = tmp.resolve("layout");
    Fixtures.run("skopeo", "copy", "-q", "oci-archive:" + oci + ":1", "oci:" + layout + ":tag");
    LoadResult loaded = new Archives(store("from-layout")).load(layout);
    assertEquals(ArchiveKind.OCI_LAYOUT, loaded.kind());
    assertEquals(r.manifest().digest(), loaded.images().get(0).descriptor().digest());
    assertTrue(loaded.images().get(0).names().isEmpty(), "skopeo's ref.name \"tag\" is not a whole name");

    // umoci unpacks the layer to the files we packed, and so does labenv.
    Path bundle = tmp.resolve("bundle");
    Fixtures.run("umoci", "unpack", "--rootless", "--image", layout + ":tag", bundle.toString());
    assertEquals(rootfsTree, Fixtures.tree(bundle.resolve("rootfs")), "umoci's unpack = the original rootfs");
    Path ours = unpack(images, images.image("lab/busybox:1"), tmp.resolve("ours"));
    assertEquals(rootfsTree, Fixtures.tree(ours), "labenv's unpack = the original rootfs");

    // A docker-archive through skopeo: same image ID and diff_ids.
    Path docker = tmp.resolve("busybox.docker.tar");
    archives.save(List.of("lab/busybox:1"), docker, Archives.Format.DOCKER);
    JsonNode dockerManifest = Json.tree(Fixtures.run("skopeo", "inspect", "--raw", "docker-archive:" + docker)
        .getBytes(StandardCharsets.UTF_8), "manifest");
    assertEquals(r.config().toString(), dockerManifest.get("config").get("digest").asText());
    assertEquals(r.diffId().toString(), dockerManifest.get("layers").get(0).get("digest").asText());
    Path layout2 = tmp.resolve("layout2");
    Fixtures.run("skopeo", "copy", "-q", "docker-archive:" + docker, "oci:" + layout2 + ":x");
    ImageStore viaDocker = store("via-docker");
    new Archives(viaDocker).load(layout2);
    Image back = viaDocker.image(viaDocker.content().index().manifests().get(0), labenv.image.Platform.host());
    assertEquals(r.config(), back.manifest().config().digest());
    assertEquals(List.of(r.diffId()), back.config().diffIds());
  }

  @Test
  void podmanLoadsBothFormatsLabenvSaves() throws Exception {
    ImageStore images = store("store");
    Archives archives = new Archives(images);
    Path tar = Fixtures.gnuTar(rootfs, tmp.resolve("rootfs.tar"));
    ImportResult r = archives.importRootfs(tar, "lab/busybox:2", Compression.ZSTD);
    assertEquals(Fixtures.sha256sum(tar), r.diffId());
    for (Archives.Format f : Archives.Format.values()) {
      Path out = tmp.resolve("busybox-" + f + ".tar");
      archives.save(List.of("lab/busybox:2"), out, f);
      Path p = tmp.resolve("podman-" + f);
      String said = podman(p, "load", "-q", "-i", out.toString());
      JsonNode inspect = Json.tree(podman(p, "image", "inspect", r.config().hex()).getBytes(StandardCharsets.UTF_8),
          "podman inspect").get(0);
      assertEquals(r.config().hex(), inspect.get("Id").asText(), f + ": image ID");
      assertEquals(r.diffId().toString(), inspect.get("RootFS").get("Layers").get(0).asText(), f + ": diff_id");
      assertEquals("Loaded image: docker.io/lab/busybox:2", said.trim(), f + ": the name survives");
    }
  }

  @Test
  void labenvLoadsWhatPodmanSaves() throws Exception {
    // An image podman made itself, from the same tarball labenv imports.
    Path tar = Fixtures.gnuTar(rootfs, tmp.resolve("rootfs.tar"));
    Path p = tmp.resolve("podman");
    podman(p, "import", "-q", tar.toString(), "podman/busybox:3");
    String id = podman(p, "image", "inspect", "--format", "{{.Id}}", "podman/busybox:3").trim();
    for (String format : List.of("oci-archive", "docker-archive")) {
      Path out = tmp.resolve("podman-" + format + ".tar");
      podman(p, "save", "-q", "--format", format, "-o", out.toString(), "podman/busybox:3");
      ImageStore images = store("store-" + format);
      LoadResult loaded = new Archives(images).load(out);
      assertEquals(format.equals("oci-archive") ? ArchiveKind.OCI_ARCHIVE : ArchiveKind.DOCKER_ARCHIVE,
          loaded.kind());
      assertEquals(List.of("localhost/podman/busybox:3"), loaded.images().get(0).names(), format);
      Image image = images.image("localhost/podman/busybox:3");
      assertEquals(id, image.manifest().config().digest().hex(), format + ": image ID");
      assertEquals(List.of(Fixtures.sha256sum(tar)), image.config().diffIds(), format + ": diff_id");
      Path unpacked = unpack(images, image, tmp.resolve("unpacked-" + format));
      assertEquals(rootfsTree, Fixtures.tree(unpacked), format + ": files");
      System.out.println(format + ": layer " + image.manifest().layers().get(0).mediaType() + ", "
          + loaded.blobsAdded() + " blobs, " + loaded.bytesAdded() + " bytes");
    }
  }

  @Test
  void savingTheBusyboxImageTwiceGivesIdenticalArchives() throws Exception {
    Archives archives = new Archives(store("store"));
    archives.importRootfs(rootfs, "lab/busybox:4", Compression.GZIP);
    for (Archives.Format f : Archives.Format.values()) {
      Path a = tmp.resolve("a-" + f);
      Path b = tmp.resolve("b-" + f);
      archives.save(List.of("lab/busybox:4"), a, f);
      archives.save(List.of("lab/busybox:4"), b, f);
      assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), f.toString());
      assertEquals(Fixtures.sha256sum(a), Fixtures.sha256sum(b));
    }
  }
}
