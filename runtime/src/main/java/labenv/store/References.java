package labenv.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import labenv.LabenvException;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.ImageConfig;
import labenv.image.ImageIndex;
import labenv.image.Json;
import labenv.image.Manifest;
import labenv.image.MediaTypes;

/** The graph of blobs: which blobs an index or a manifest references. */
final class References {
  private References() {}

  /** The role a blob plays, for messages: {@code index}, {@code manifest}, {@code config}, {@code layer}, {@code blob}. */
  static String kind(String mediaType) {
    if (MediaTypes.isIndex(mediaType)) {
      return "index";
    }
    if (MediaTypes.isManifest(mediaType)) {
      return "manifest";
    }
    if (MediaTypes.CONFIGS.contains(mediaType)) {
      return "config";
    }
    if (MediaTypes.isLayer(mediaType)) {
      return "layer";
    }
    return "blob";
  }

  static boolean hasChildren(Descriptor d) {
    return MediaTypes.isIndex(d.mediaType()) || MediaTypes.isManifest(d.mediaType());
  }

  /**
   * The descriptors an index (its manifests) or a manifest (its config and layers) references.
   * A manifest's {@code subject} is not followed: a referrer does not keep its subject alive.
   * The blob is read verified; broken JSON, a mismatch or a missing blob throw.
   */
  static List<Descriptor> children(ContentStore store, Descriptor d) {
    String what = kind(d.mediaType()) + " " + d.digest();
    byte[] bytes = store.read(d, ContentStore.MAX_JSON_BYTES);
    List<Descriptor> out = new ArrayList<>();
    if (MediaTypes.isIndex(d.mediaType())) {
      ImageIndex index = Json.parse(bytes, ImageIndex.class, what);
      checkMediaType(what, d.mediaType(), index.mediaType());
      out.addAll(index.manifests());
      check(what, "manifests", out);
    } else if (MediaTypes.isManifest(d.mediaType())) {
      Manifest m = Json.parse(bytes, Manifest.class, what);
      checkMediaType(what, d.mediaType(), m.mediaType());
      if (m.config() == null) {
        throw LabenvException.badInput(what + ": no config");
      }
      out.add(m.config());
      check(what, "config", List.of(m.config()));
      out.addAll(m.layers());
      check(what, "layers", m.layers());
    }
    return out;
  }

  private static void check(String what, String field, List<Descriptor> ds) {
    for (int i = 0; i < ds.size(); i++) {
      String problem = ContentStore.descriptorProblem(ds.get(i));
      if (problem != null) {
        throw LabenvException.badInput(what + ": " + field + (field.equals("config") ? "" : "[" + i + "]")
            + ": " + problem);
      }
    }
  }

  private static void checkMediaType(String what, String declared, String inDocument) {
    if (inDocument != null && !inDocument.equals(declared)) {
      throw LabenvException.badInput(what + ": descriptor says media type \"" + declared
          + "\" but the document says \"" + inDocument + "\"");
    }
  }

  /**
   * Every descriptor reachable from {@code roots}, roots first and parents before children.
   * Strict: a missing root or an unreadable index or manifest throws (garbage collection must not
   * guess). Lenient: what cannot be read is kept as a leaf. Children of an index that are not in
   * the store (platforms never pulled) are leaves in both modes.
   */
  static Map<Digest, Descriptor> reachable(ContentStore store, Collection<Descriptor> roots, boolean strict) {
    Map<Digest, Descriptor> seen = new LinkedHashMap<>();
    Deque<Descriptor> queue = new ArrayDeque<>(roots);
    Set<Descriptor> rootSet = Set.copyOf(roots);
    while (!queue.isEmpty()) {
      Descriptor d = queue.poll();
      if (seen.putIfAbsent(d.digest(), d) != null || !hasChildren(d)) {
        continue;
      }
      if (!store.has(d.digest())) {
        if (strict && rootSet.contains(d)) {
          throw LabenvException.failed(name(d) + ": " + kind(d.mediaType()) + " " + d.digest()
              + " is missing from the store; run labenv fsck");
        }
        continue;
      }
      try {
        queue.addAll(children(store, d));
      } catch (LabenvException e) {
        if (strict) {
          throw LabenvException.failed(e.getMessage() + "; run labenv fsck", e);
        }
      }
    }
    return seen;
  }

  /**
   * The hex of every diff ID the configs among {@code reachable} list: the unpacked layers worth keeping. Strict: a
   * config that cannot be read throws (collection must not guess); lenient: it is skipped.
   */
  static Set<String> diffIdHexes(ContentStore store, Collection<Descriptor> reachable, boolean strict) {
    Set<String> out = new HashSet<>();
    for (Descriptor d : reachable) {
      if (!MediaTypes.CONFIGS.contains(d.mediaType()) || !store.has(d.digest())) {
        continue;
      }
      try {
        String what = "config " + d.digest();
        ImageConfig config = Json.parse(store.read(d, ContentStore.MAX_JSON_BYTES), ImageConfig.class, what);
        for (Digest diffId : config.diffIds()) {
          out.add(diffId.hex());
        }
      } catch (LabenvException e) {
        if (strict) {
          throw LabenvException.failed(e.getMessage() + "; run labenv fsck", e);
        }
      }
    }
    return out;
  }

  /** The name a root descriptor carries, or its digest. */
  static String name(Descriptor d) {
    String n = d.annotation(ImageStore.REF_NAME);
    return n != null ? "image " + n : kind(d.mediaType()) + " " + d.digest();
  }
}
