package labenv.archive;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;
import labenv.image.Platform;
import labenv.layer.Decompression;

/**
 * Turns the images of a docker-archive ({@code manifest.json}) into OCI manifests. The config keeps
 * its bytes, so its digest, the image ID, survives; each layer keeps its bytes and gets the OCI
 * media type of its compression. A docker-archive vouches for its layers only through the config's
 * diff_ids, so every layer is checked against its diff_id (compressed ones are decompressed to do so).
 */
final class DockerArchive {
  /** One element of manifest.json, as Docker and podman write it. */
  record Image(
      @JsonProperty("Config") String config,
      @JsonProperty("RepoTags") List<String> repoTags,
      @JsonProperty("Layers") List<String> layers) {}

  // Names that carry a digest: legacy <hex>.json configs and Docker 25's blobs/sha256/<hex>.
  private static final Pattern DIGEST_NAME = Pattern.compile("(?:blobs/sha256/)?([a-f0-9]{64})(?:\\.json)?");

  private final ArchiveContents contents;
  private final Staging staging;
  private final List<StagedBlob> needed = new ArrayList<>();

  DockerArchive(ArchiveContents contents, Staging staging) {
    this.contents = contents;
    this.staging = staging;
  }

  List<StagedBlob> needed() {
    return needed;
  }

  List<OciGraph.Entry> convert(StagedBlob manifestJson) {
    Image[] images = Json.parse(Staging.read(manifestJson, OciGraph.MAX_JSON, "manifest.json"), Image[].class,
        "manifest.json");
    List<OciGraph.Entry> out = new ArrayList<>();
    for (int i = 0; i < images.length; i++) {
      out.add(convert(images[i], "manifest.json[" + i + "]"));
    }
    return out;
  }

  private OciGraph.Entry convert(Image image, String where) {
    if (image == null || image.config() == null || image.layers() == null) {
      throw new InvalidArchiveException(where + ": needs Config and Layers");
    }
    List<String> names = ImageNames.fromRepoTags(image.repoTags(), where + ": RepoTags");
    StagedBlob configBlob = named(image.config(), "config", where);
    String configWhat = "config " + configBlob.digest();
    ImageConfig config = Json.parse(Staging.read(configBlob, OciGraph.MAX_JSON, configWhat), ImageConfig.class,
        configWhat);
    List<Digest> diffIds = config.diffIds();
    if (diffIds.size() != image.layers().size()) {
      throw new InvalidArchiveException(configWhat + ": " + diffIds.size() + " diff_ids for "
          + image.layers().size() + " layers in " + where);
    }
    needed.add(configBlob);
    List<Descriptor> layers = new ArrayList<>();
    for (int i = 0; i < diffIds.size(); i++) {
      String name = image.layers().get(i);
      StagedBlob layer = named(name, "layer", where);
      String mediaType = layerMediaType(layer, name);
      Digest diffId = mediaType.equals(MediaTypes.OCI_LAYER) ? layer.digest() : uncompressedDigest(layer, name);
      if (!diffId.equals(diffIds.get(i))) {
        throw new InvalidArchiveException("layer \"" + name + "\": diff_id mismatch (" + configWhat + " says "
            + diffIds.get(i) + ", got " + diffId + ")");
      }
      needed.add(layer);
      layers.add(Descriptor.of(mediaType, layer.digest(), layer.size()));
    }
    Manifest manifest = Manifest.oci(Descriptor.of(MediaTypes.OCI_CONFIG, configBlob.digest(), configBlob.size()),
        layers);
    StagedBlob manifestBlob = staging.stage(Json.canonical(manifest));
    needed.add(manifestBlob);
    Descriptor d = Descriptor.of(MediaTypes.OCI_MANIFEST, manifestBlob.digest(), manifestBlob.size())
        .withPlatform(platformOf(config));
    return new OciGraph.Entry(d, names);
  }

  private static Platform platformOf(ImageConfig c) {
    if (c.os() == null || c.architecture() == null) {
      return null;
    }
    return new Platform(c.architecture(), c.os(), null, null, c.variant());
  }

  /** The staged file at {@code name}; a name that states a digest must hash to it. */
  private StagedBlob named(String name, String role, String where) {
    StagedBlob f = contents.file(name);
    if (f == null) {
      throw new InvalidArchiveException(where + " references missing " + role + " \"" + name + "\"");
    }
    String clean = ArchivePaths.clean(name);
    Matcher m = DIGEST_NAME.matcher(clean);
    if (m.matches() && !m.group(1).equals(f.digest().hex()) && (role.equals("config") || clean.startsWith("blobs/"))) {
      throw new InvalidArchiveException(role + " sha256:" + m.group(1) + ": digest mismatch (got " + f.digest() + ")");
    }
    return f;
  }

  /** A docker-archive layer is a tar, possibly gzip- or zstd-compressed; the bytes tell which. */
  private static String layerMediaType(StagedBlob layer, String name) {
    byte[] m;
    try (InputStream in = Files.newInputStream(layer.file())) {
      m = in.readNBytes(6);
    } catch (IOException e) {
      throw LabenvException.failed("cannot read staging file " + layer.file() + ": " + e.getMessage(), e);
    }
    Decompression.Format f = Decompression.detect(m, m.length);
    return switch (f) {
      case TAR -> MediaTypes.OCI_LAYER;
      case GZIP -> MediaTypes.OCI_LAYER_GZIP;
      case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
      default -> throw new InvalidArchiveException("layer \"" + name + "\": " + f + " layers have no OCI media type");
    };
  }

  private static Digest uncompressedDigest(StagedBlob layer, String name) {
    MessageDigest sha = Digest.newSha256();
    try (InputStream raw = Files.newInputStream(layer.file());
         InputStream in = Decompression.open(raw);
         OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), sha)) {
      in.transferTo(out);
    } catch (IOException e) {
      throw LabenvException.failed("cannot read staging file " + layer.file() + ": " + e.getMessage(), e);
    } catch (LabenvException e) {
      throw e.withContext("layer \"" + name + "\"");
    }
    return Digest.sha256(sha.digest());
  }
}
