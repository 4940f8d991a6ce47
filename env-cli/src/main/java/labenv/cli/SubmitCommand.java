package labenv.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import labenv.LabenvException;
import labenv.cluster.SbatchScript;
import labenv.cluster.Slurm;
import labenv.cluster.SlurmJobs;
import labenv.cluster.TaskPlans;
import labenv.container.Limits;
import labenv.dataset.DatasetStore;
import labenv.dataset.DatasetVersion;
import labenv.image.Digest;
import labenv.project.ProjectFile;
import labenv.project.ProjectRunner;
import labenv.project.Receipt;
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

@Command(name = "submit", description = {"Run a project's sweep tasks on a cluster: a Slurm job array.",
    "The image is built (cached) here and pushed with the datasets to the registry (the project's registry:, or "
        + "--registry), or left in a store the nodes share (--store-path). Each array task pulls them by digest, runs "
        + "its sweep task hermetically as labenv run --sweep would, and leaves its log, receipt, outputs and exit "
        + "status in .labenv/slurm/JOBID/TASK/ of the project, which must be on a filesystem the nodes share. The job "
        + "is recorded in .labenv/slurm/jobs.json; labenv status and labenv collect --slurm follow it.",
    "--cpus and --mem ask Slurm for more room; the container's own limits stay those of labenv.yaml (they are part "
        + "of the run: math libraries size their thread pools by them)."})
final class SubmitCommand extends Verb {
  /** Room for labenv's own JVM beside the container, on top of the project's memory limit. */
  static final long LABENV_MEMORY_MIB = 512;

  @Option(names = "--slurm", required = true, description = "submit to Slurm (sbatch on PATH)")
  boolean slurm;

  @Option(names = "--partition", paramLabel = "P", description = "the partition (default: the cluster's)")
  String partition;

  @Option(names = "--time", paramLabel = "T", description = "each task's time limit, in Slurm's forms (MIN, H:MM:SS, D-HH)")
  String time;

  @Option(names = "--cpus", paramLabel = "N",
      description = "CPUs per task (default: labenv.yaml's resources.cpus, rounded up, else 1)")
  Integer cpus;

  @Option(names = "--mem", paramLabel = "M",
      description = "memory per task in Slurm's form, e.g. 4G (default: labenv.yaml's resources.memory plus "
          + LABENV_MEMORY_MIB + "M for labenv itself, else the cluster's default)")
  String mem;

  @Option(names = "--registry", paramLabel = "HOST[:PORT]/NAMESPACE",
      description = "push the image and datasets here (default: labenv.yaml's registry:)")
  String registry;

  @Option(names = "--store-path", paramLabel = "SHARED",
      description = "no push: the nodes use this store, shared with them (it must be the store labenv uses here: "
          + "labenv --home SHARED submit ...)")
  Path storePath;

  @Option(names = "--insecure", description = "Accept any TLS certificate, and plain HTTP when the registry has no "
      + "TLS, here and on the nodes (loopback hosts get the fallback to HTTP without this).")
  boolean insecure;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "the project (default: this directory)")
  Path dir;

  @Override
  public Integer call() {
    Path project = project(dir);
    ProjectFile p = ProjectFile.read(project);
    if (registry != null && storePath != null) {
      throw LabenvException.badInput("give --registry or --store-path, not both: the nodes get the image from one");
    }
    Path sharedStore = storePath == null ? null : sharedStore(storePath);
    RegistryNames names = sharedStore == null ? RegistryNames.of(p, registry) : null;
    Slurm cluster = new Slurm(root.env);
    cluster.check(); // before anything is built or pushed
    SbatchScript.Resources resources = new SbatchScript.Resources(partition, time,
        cpus != null ? cpus : (int) Math.ceil(p.cpus() == null ? 1 : p.cpus()), mem != null ? mem : memory(p));

    ProjectRunner runner = new ProjectRunner(store(), images(), containers(), VersionProvider.version());
    Image image = BaseImagesOnDemand.projectImage(this, runner, p, false);
    Digest digest = image.descriptor().digest();
    List<SweepTask> tasks = Sweep.tasks(p);
    List<ProjectRunner.TaskPlan> plans = new ArrayList<>();
    for (SweepTask t : tasks) {
      plans.add(runner.plan(p, image, t));
    }

    // Where the nodes get the image and each dataset: by digest, from the registry or the shared store.
    List<List<String>> fetch = new ArrayList<>();
    List<String> datasetSources = new ArrayList<>();
    List<DatasetVersion> datasetVersions = new ArrayList<>();
    String source;
    if (names != null) {
      source = names.image(p, digest);
      fetch.add(transfer(List.of("pull", source)));
      DatasetStore datasets = new DatasetStore(store());
      for (Receipt.DatasetRef d : plans.get(0).datasets()) {
        DatasetVersion v = datasets.resolve(d.digest());
        datasetVersions.add(v);
        String ref = names.dataset(d.name(), v.digest());
        datasetSources.add(ref);
        // Named on the node as here (a digest-named dataset by its digest): the name keeps it from prune.
        fetch.add(transfer(List.of("dataset", "pull", ref, Digest.isDigest(d.name())
            ? "dataset:" + v.digest().toString().replace(':', '-') : d.name())));
      }
    } else {
      source = "store " + sharedStore;
      plans.get(0).datasets().forEach(d -> datasetSources.add("store " + sharedStore + " " + d.digest()));
    }

    Path jobs = SlurmJobs.dir(project);
    Path planFile = TaskPlans.write(jobs, p.name(), tasks, plans);
    SbatchScript script = new SbatchScript(project, "labenv-" + p.name(), tasks.size(), resources, sharedStore, fetch,
        List.of("task", planFile.toString(), SbatchScript.TASK, SbatchScript.FOLDER));
    Path scriptFile = jobs.resolve(AtomicFile.TEMP_PREFIX + "job-" + AtomicFile.randomSuffix() + ".sh");
    String id;
    try {
      Files.writeString(scriptFile, script.text(), StandardCharsets.UTF_8);
      cluster.test(scriptFile, project); // a job Slurm would refuse (partition, time...) costs no push
      if (names != null) {
        push(names, p, image, plans.get(0).datasets(), datasetVersions);
      }
      id = cluster.submit(scriptFile, project);
      // sbatch copied the script: it is kept beside the tasks' folders for the record.
      Path jobDir = Files.createDirectories(jobs.resolve(id));
      Files.move(scriptFile, jobDir.resolve("job.sh"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw LabenvException.failed("cannot write the batch script " + scriptFile + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(scriptFile);
      } catch (IOException e) {
        // a temporary file left in .labenv/slurm
      }
    }
    List<SlurmJobs.Task> recorded = tasks.stream().map(t -> new SlurmJobs.Task(t.index(), t.name())).toList();
    SlurmJobs.add(project, new SlurmJobs.Job(id, p.name(), Instant.now().toString(), digest.toString(), source,
        datasetSources, project.relativize(planFile).toString(), recorded));
    out().println("submitted job " + id + ": " + tasks.size() + " task" + (tasks.size() == 1 ? "" : "s") + " of "
        + p.name() + " (image " + digest + ")");
    out().println("follow it with: labenv status " + project + "; gather it with: labenv collect --slurm " + project);
    out().flush();
    return ExitCode.OK;
  }

  /** Pushes the image and the datasets under tags naming their digests (nothing the registry has is sent again). */
  private void push(RegistryNames names, ProjectFile p, Image image, List<Receipt.DatasetRef> refs,
      List<DatasetVersion> versions) {
    Pusher pusher = new Pusher(store(), Credentials.forUser(root.env), insecure, progress());
    Pusher.Result pushed = pusher.push(image.descriptor(), names.imagePushTarget(p, image.descriptor().digest()));
    err().println("pushed " + pushed.reference() + " (" + pushed.blobsPushed() + " blobs uploaded, "
        + pushed.blobsSkipped() + " already there)");
    for (int i = 0; i < refs.size(); i++) {
      DatasetVersion v = versions.get(i);
      Pusher.Result r = pusher.push(v.manifest(), names.datasetPushTarget(refs.get(i).name(), v.digest()));
      err().println("pushed " + r.reference() + " (" + r.blobsPushed() + " blobs uploaded, " + r.blobsSkipped()
          + " already there)");
    }
    err().flush();
  }

  /** The project folder: {@code dir}, else the current directory, absolute. */
  static Path project(Path dir) {
    return (dir != null ? dir : Path.of("")).toAbsolutePath().normalize();
  }

  /** {@code --insecure} on the nodes too. */
  private List<String> transfer(List<String> args) {
    List<String> out = new ArrayList<>(args);
    if (insecure) {
      out.add(args.get(0).equals("dataset") ? 2 : 1, "--insecure"); // after "pull" or "dataset pull"
    }
    return out;
  }

  /** The shared store must be this labenv's store: that is where the image was built and the datasets are. */
  private Path sharedStore(Path path) {
    Path given = path.toAbsolutePath().normalize();
    Path mine = store().root().toAbsolutePath().normalize();
    try {
      if (Files.isDirectory(given) && Files.isSameFile(given, mine)) {
        return given;
      }
    } catch (IOException e) {
      // not the same
    }
    throw LabenvException.badInput("--store-path " + given + " is not the store this labenv uses (" + mine + "): run "
        + "labenv --home " + given + " submit ..., so that the image and datasets are in the store the nodes share");
  }

  /** The project's memory limit, in MiB, plus room for labenv: Slurm's --mem; null without a limit. */
  private static String memory(ProjectFile p) {
    if (p.memory() == null) {
      return null;
    }
    long mib = (Limits.memory(p.memory()) + (1 << 20) - 1) >> 20;
    return (mib + LABENV_MEMORY_MIB) + "M";
  }
}
