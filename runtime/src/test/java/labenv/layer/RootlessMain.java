package labenv.layer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;

/**
 * Run by {@link LayerApplierRootlessIT} as an unprivileged user: unpacks the layer files given after the target
 * and prints the warnings and the outcome. The test looks at the tree as root: a mode-0000 directory is
 * unreadable to its unprivileged owner.
 */
public final class RootlessMain {
  private RootlessMain() {}

  public static void main(String[] args) {
    Path target = Path.of(args[0]);
    List<LayerSource> layers = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      layers.add(LayerSource.ofFile("layer" + i, Path.of(args[i])));
    }
    LayerApplier applier = new LayerApplier();
    System.out.println("root=" + applier.options().root() + " keepOwners=" + applier.options().keepOwners());
    try {
      for (String w : applier.unpack(layers, target)) {
        System.out.println("WARN " + w);
      }
      System.out.println("OK");
    } catch (LabenvException e) {
      System.out.println("ERROR " + e.exitCode() + " " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }
}
