package labenv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import labenv.image.Descriptor;
import labenv.image.Digest;
import labenv.image.Json;
import labenv.store.ContentStore;
import labenv.store.Image;
import labenv.store.ImageStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "inspect",
    description = {"Show images as JSON.",
        "Prints the manifest digest (\"digest\"), names, manifest, config, and layers with sizes " +
        "and diff IDs. Several images give a JSON list."})
final class InspectCommand extends Verb {
  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  List<String> refs;

  @Override
  public Integer call() {
    List<Object> all = new ArrayList<>();
    for (String ref : refs) {
      all.add(describe(ref));
    }
    out().println(Json.pretty(all.size() == 1 ? all.get(0) : all));
    return ExitCode.OK;
  }

  private Map<String, Object> describe(String ref) {
    Descriptor top = images().resolve(ref);
    Image image = images().image(top, labenv.image.Platform.host());
    List<String> names = new ArrayList<>();
    for (Descriptor d : store().index().manifests()) {
      String name = d.annotation(ImageStore.REF_NAME);
      if (d.digest().equals(top.digest()) && name != null) {
        names.add(name);
      }
    }
    List<Map<String, Object>> layers = new ArrayList<>();
    List<Digest> diffIds = image.config().diffIds();
    // As `images` counts it: the manifest, the config and the layers.
    long size = image.descriptor().size() + image.manifest().config().size();
    for (int i = 0; i < image.manifest().layers().size(); i++) {
      Descriptor l = image.manifest().layers().get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("digest", l.digest().toString());
      m.put("size", l.size());
      m.put("mediaType", l.mediaType());
      m.put("diffId", i < diffIds.size() ? diffIds.get(i).toString() : null);
      layers.add(m);
      size += l.size();
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("digest", top.digest().toString());
    m.put("names", names);
    m.put("mediaType", top.mediaType());
    if (!top.digest().equals(image.descriptor().digest())) {
      m.put("platformManifest", image.descriptor().digest().toString());
    }
    m.put("platform", image.platform() == null ? null : image.platform().toString());
    m.put("configDigest", image.manifest().config().digest().toString());
    m.put("size", size);
    m.put("manifest", raw(image.descriptor()));
    m.put("config", Json.tree(image.rawConfig(), "config " + image.manifest().config().digest()));
    m.put("layers", layers);
    return m;
  }

  private JsonNode raw(Descriptor d) {
    return Json.tree(store().read(d, ContentStore.MAX_JSON_BYTES), "manifest " + d.digest());
  }
}
