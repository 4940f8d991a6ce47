package labenv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.dataset.DatasetStore;
import labenv.dataset.DatasetVersion;
import labenv.image.Digest;
import labenv.project.KubernetesJob;
import labenv.project.ProjectFile;
import labenv.project.ProjectRunner;
import labenv.project.RegistryNames;
import labenv.project.Sweep;
import labenv.project.SweepTask;
import labenv.registry.Credentials;
import labenv.registry.Pusher;
import labenv.store.AtomicFile;
import labenv.store.Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code labenv export k8s}: a project as a job for another engine to run. */
@Command(name = "export", description = {"Write a project as a job for a cluster: export k8s [DIR] writes a Kubernetes "
    + "batch/v1 Job (an Indexed Job for a sweep).",
    "The image runs by digest from the registry (registry: in labenv.yaml, or --registry), with the project's "
        + "command, environment, workdir and resources; outputs go to a volume (TASK-INDEX/DIR, which collect --from "
        + "reads back), datasets are pulled by digest into a read-only volume by an init container running labenv "
        + "(or mounted as image volumes). The image and datasets must be in the registry: --push puts them there."})
final class ExportCommand extends Verb {

  /** What the Job pulls, and where it must be pushed. */
  private record Pushed(String what, labenv.image.Descriptor manifest, String target) {}

  @Parameters(index = "0", paramLabel = "k8s", description = "what to write: k8s (a Kubernetes Job)")
  String target;

  @Parameters(index = "1", arity = "0..1", paramLabel = "DIR", description = "the project (default: here)")
  Path dir;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the Job here (default: stdout).")
  Path output;

  @Option(names = "--registry", paramLabel = "HOST[:PORT]/NAMESPACE",
      description = "Where the cluster pulls from (default: registry: in labenv.yaml).")
  String registry;

  @Option(names = "--labenv-image", paramLabel = "REF",
      description = "An image with labenv (and a JRE) on its PATH, for the init container that pulls the datasets.")
  String labenvImage;

  @Option(names = "--dataset-volumes", paramLabel = "init|image",
      description = "init (default): an init container pulls the datasets into an emptyDir; image: Kubernetes image "
          + "volumes (1.31+, feature gate ImageVolume), each dataset's files as a one-layer image.")
  String datasetVolumes = "init";

  @Option(names = "--output-pvc", paramLabel = "CLAIM",
      description = "Write the outputs to this PersistentVolumeClaim (default: an emptyDir, gone with the pod).")
  String outputClaim;

  @Option(names = "--pull-secret", paramLabel = "SECRET",
      description = "A kubernetes.io/dockerconfigjson Secret for the registry (image pulls and the init container).")
  String pullSecret;

  @Option(names = "--name", paramLabel = "NAME", description = "The Job's name (default: the project's).")
  String name;

  @Option(names = "--parallelism", paramLabel = "N", description = "Tasks at once (default: all).")
  Integer parallelism;

  @Option(names = "--push", description = "Push the image and the datasets to the registry first.")
  boolean push;

  @Option(names = "--insecure", description = "With --push: accept any TLS certificate, and plain HTTP when the "
      + "registry has no TLS (loopback hosts get the fallback to HTTP without this).")
  boolean insecure;

  @Override
  public Integer call() {
    if (!target.equals("k8s")) {
      throw LabenvException.badInput("export " + target + ": labenv exports k8s (a Kubernetes Job); for Slurm, "
          + "labenv submit --slurm");
    }
    KubernetesJob.DatasetDelivery delivery = switch (datasetVolumes) {
      case "init" -> KubernetesJob.DatasetDelivery.INIT;
      case "image" -> KubernetesJob.DatasetDelivery.IMAGE;
      default -> throw LabenvException.badInput("--dataset-volumes " + datasetVolumes + ": expected init or image");
    };
    if (parallelism != null && parallelism < 1) {
      throw LabenvException.badInput("--parallelism " + parallelism + ": expected 1 or more");
    }
    if (name != null && !name.matches("[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?")) {
      throw LabenvException.badInput("--name " + name + ": expected a DNS label of at most 52 characters (a-z, 0-9, "
          + "-; pods add -INDEX-XXXXX)");
    }
    Path project = (dir != null ? dir : Path.of("")).toAbsolutePath().normalize();
    ProjectFile p = ProjectFile.read(project);
    RegistryNames names = RegistryNames.of(p, registry);
    List<SweepTask> tasks = Sweep.tasks(p);
    if (delivery == KubernetesJob.DatasetDelivery.INIT && !p.datasets().isEmpty() && labenvImage == null) {
      throw LabenvException.badInput(p.name() + " has datasets: give --labenv-image REF (an image with labenv on its "
          + "PATH, which pulls them in an init container), or --dataset-volumes image");
    }
    ProjectRunner runner = new ProjectRunner(store(), images(), new labenv.container.Containers(
        store()), VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(this, runner, p, false);
    Digest digest = image.descriptor().digest();
    List<ProjectRunner.TaskPlan> plans = new ArrayList<>();
    for (SweepTask t : tasks) {
      plans.add(runner.plan(p, image, t));
    }

    DatasetStore datasets = new DatasetStore(store());
    List<KubernetesJob.Dataset> delivered = new ArrayList<>();
    List<Pushed> toPush = new ArrayList<>();
    toPush.add(new Pushed("image", image.descriptor(), names.imagePushTarget(p, digest)));
    for (var e : p.datasets().entrySet()) {
      DatasetVersion v = datasets.resolve(e.getKey());
      if (delivery == KubernetesJob.DatasetDelivery.IMAGE) {
        labenv.image.Descriptor fs = labenv.project.DatasetImages.image(store(), datasets, v);
        delivered.add(new KubernetesJob.Dataset(e.getKey(), e.getValue(), names.dataset(e.getKey(), fs.digest())));
        toPush.add(new Pushed("image", fs, names.datasetPushTarget(e.getKey(), fs.digest())));
      } else {
        delivered.add(new KubernetesJob.Dataset(e.getKey(), e.getValue(), names.dataset(e.getKey(), v.digest())));
        toPush.add(new Pushed("dataset", v.manifest(), names.datasetPushTarget(e.getKey(), v.digest())));
      }
    }
    if (push) {
      Pusher pusher = new Pusher(store(), Credentials.forUser(root.env), insecure, labenv.Progress.NONE);
      for (Pushed x : toPush) {
        Pusher.Result r = pusher.push(x.manifest(), x.target());
        err().println("pushed " + x.what() + " " + r.reference() + " (" + r.blobsPushed() + " blobs uploaded, "
            + r.blobsSkipped() + " already there)");
        err().flush();
      }
    }
    KubernetesJob.Options options = new KubernetesJob.Options(name != null ? name : KubernetesJob.name(p),
        labenvImage, outputClaim, delivery, pullSecret, parallelism);
    String yaml = KubernetesJob.yaml(KubernetesJob.job(p, tasks, plans, names.image(p, digest), delivered,
        options));
    if (output != null) {
      AtomicFile.write(output.toAbsolutePath(), yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      err().println("wrote " + output + ": Job " + options.name() + ", " + tasks.size() + " task"
          + (tasks.size() == 1 ? "" : "s") + ", image " + names.image(p, digest));
    } else {
      out().print(yaml);
      out().flush();
    }
    if (!push) {
      err().println("the cluster pulls these by digest; push them first (or export with --push):");
      for (Pushed x : toPush) {
        err().println("  " + (x.what().equals("dataset") ? "labenv dataset push " : "labenv push ")
            + x.manifest().digest() + " " + x.target());
      }
    }
    err().flush();
    return ExitCode.OK;
  }
}
