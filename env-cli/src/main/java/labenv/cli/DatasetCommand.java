package labenv.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import labenv.dataset.AddResult;
import labenv.dataset.ColumnSummary;
import labenv.dataset.DatasetDiff;
import labenv.dataset.Tables;
import labenv.dataset.DatasetDetails;
import labenv.dataset.DatasetFile;
import labenv.dataset.DatasetName;
import labenv.dataset.DatasetStore;
import labenv.dataset.DatasetSummary;
import labenv.dataset.DatasetVersion;
import labenv.dataset.VerifyReport;
import labenv.image.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code labenv dataset add|ls|show|verify|tag|rm|export|push|pull}: versioned, content-addressed data. */
@Command(name = "dataset", description = "Manage datasets: immutable, deduplicated versions of files, mounted read-only.",
    subcommands = {DatasetCommand.Add.class, DatasetCommand.Ls.class, DatasetCommand.Show.class,
        DatasetCommand.Verify.class, DatasetCommand.Diff.class, DatasetCommand.Tag.class, DatasetCommand.Rm.class, DatasetCommand.Export.class,
        DatasetCommand.Push.class, DatasetCommand.Pull.class})
final class DatasetCommand extends VerbGroup {

  DatasetStore datasets() {
    return new DatasetStore(root.store());
  }

  static String names(DatasetVersion v) {
    return v.names().isEmpty() ? "<none>" : String.join(", ", v.names().stream().map(DatasetName::toString).toList());
  }

  @Command(name = "add", description = {"Add a file or directory as a new version of a dataset.",
      "TAG defaults to the first 12 hex digits of the version's digest; NAME:latest moves to the new version. "
          + "Files unchanged since they were last added (same inode, size, mtime and ctime) are not read again."})
  static final class Add implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Option(names = "--rehash", description = "Read and hash every file, even those the stat cache knows.")
    boolean rehash;

    @Option(names = "--format", description = "table (one line) or json.")
    OutputFormat format = OutputFormat.table;

    @Parameters(index = "0", paramLabel = "NAME[:TAG]")
    String name;

    @Parameters(index = "1", paramLabel = "PATH", description = "a file or a directory")
    Path source;

    @Override
    public Integer call() {
      AddResult r = parent.datasets().add(name, source, rehash,
          TerminalProgress.forTerminal(parent.root.err, parent.root.env));
      if (format == OutputFormat.json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name().toString());
        m.put("digest", r.version().digest().toString());
        m.put("files", r.files());
        m.put("bytes", r.bytes());
        m.put("bytesHashed", r.bytesHashed());
        m.put("bytesStored", r.bytesStored());
        m.put("chunksStored", r.chunksStored());
        m.put("newVersion", r.newVersion());
        parent.root.out.println(Json.pretty(m));
      } else {
        parent.root.out.println(r.name() + " " + r.version().digest() + ": " + r.files() + " files, "
            + Units.bytes(r.bytes()) + "; hashed " + Units.bytes(r.bytesHashed()) + ", stored "
            + Units.bytes(r.bytesStored()) + " new");
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "ls", aliases = "list", description = "List the datasets, one line per name.")
  static final class Ls implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Option(names = "--format", description = "table or json (name, tag, digest, created, files, bytes).")
    OutputFormat format = OutputFormat.table;

    @Override
    public Integer call() {
      List<DatasetSummary> all = parent.datasets().list();
      if (format == OutputFormat.json) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (DatasetSummary s : all) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("name", s.name().name());
          m.put("tag", s.name().tag());
          m.put("digest", s.digest().toString());
          m.put("created", s.created() == null ? null : s.created().toString());
          m.put("files", s.files());
          m.put("bytes", s.bytes());
          list.add(m);
        }
        parent.root.out.println(Json.pretty(list));
        return ExitCode.OK;
      }
      TextTable t = new TextTable("NAME", "TAG", "DIGEST", "CREATED", "FILES", "SIZE");
      Instant now = Instant.now();
      for (DatasetSummary s : all) {
        t.row(s.name().name(), s.name().tag(), s.digest().shortHex(), Units.ago(s.created(), now),
            s.files() < 0 ? "?" : Long.toString(s.files()), s.bytes() < 0 ? "?" : Units.bytes(s.bytes()));
      }
      t.print(parent.root.out);
      return ExitCode.OK;
    }
  }

  @Command(name = "show", description = "Show a version: digest, names, created, source, disk cost and files.")
  static final class Show implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Option(names = "--format", description = "table or json.")
    OutputFormat format = OutputFormat.table;

    @Parameters(paramLabel = "NAME[:TAG]", description = "a name (tag defaults to latest), a digest or a digest prefix")
    String ref;

    @Option(names = "--no-tables", description = "Leave out the summary of CSV, TSV and JSON lines files.")
    boolean noTables;

    @Override
    public Integer call() {
      DatasetDetails d = parent.datasets().show(ref);
      List<Tables.Entry> tables = noTables ? List.of() : new Tables(parent.datasets()).summaries(d.version());
      if (format == OutputFormat.json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("digest", d.manifest().digest().toString());
        m.put("names", d.version().names().stream().map(DatasetName::toString).toList());
        m.put("created", d.created() == null ? null : d.created().toString());
        m.put("source", d.source());
        m.put("files", d.config().fileCount());
        m.put("bytes", d.config().bytes());
        Map<String, Object> cost = new LinkedHashMap<>();
        cost.put("uniqueBytes", d.cost().uniqueBytes());
        cost.put("sharedBytes", d.cost().sharedBytes());
        cost.put("treeBytes", d.cost().assembled() ? d.cost().treeBytes() : null);
        m.put("disk", cost);
        List<Map<String, Object>> files = new ArrayList<>();
        for (DatasetFile f : d.config().files()) {
          Map<String, Object> e = new LinkedHashMap<>();
          e.put("path", f.path());
          e.put("type", f.type().json());
          e.put("mode", String.format("%04o", f.mode()));
          if (f.isFile()) {
            e.put("size", f.size());
            e.put("digest", f.digest().toString());
            e.put("chunks", f.chunks().size());
          }
          if (f.target() != null) {
            e.put("target", f.target());
          }
          files.add(e);
        }
        m.put("entries", files);
        Map<String, Object> t = new LinkedHashMap<>();
        tables.forEach(e -> t.put(e.path(), e.summary()));
        m.put("tables", t);
        parent.root.out.println(Json.pretty(m));
        return ExitCode.OK;
      }
      var out = parent.root.out;
      out.println("Digest:   " + d.manifest().digest());
      out.println("Names:    " + names(d.version()));
      out.println("Created:  " + (d.created() == null ? "unknown (loaded, not added here)" : d.created()));
      out.println("Source:   " + (d.source() == null ? "unknown" : d.source()));
      out.println("Files:    " + d.config().fileCount() + ", " + Units.bytes(d.config().bytes()));
      out.println("Disk:     " + Units.bytes(d.cost().uniqueBytes()) + " only this version uses, "
          + Units.bytes(d.cost().sharedBytes()) + " shared with other versions, "
          + (d.cost().assembled() ? Units.bytes(d.cost().treeBytes()) + " in its assembled tree"
              : "no assembled tree"));
      out.println();
      TextTable t = new TextTable("PATH", "TYPE", "MODE", "SIZE", "DIGEST");
      for (DatasetFile f : d.config().files()) {
        t.row(f.path() + (f.target() != null ? " -> " + f.target() : ""), f.type().json(),
            String.format("%04o", f.mode()), f.isFile() ? Units.bytes(f.size()) : "",
            f.isFile() ? f.digest().shortHex() : "");
      }
      t.print(out);
      for (Tables.Entry e : tables) {
        out.println();
        out.println(e.path() + ": " + e.summary().format() + ", " + e.summary().rows() + " rows, "
            + e.summary().columns().size() + " columns");
        TextTable c = new TextTable("COLUMN", "TYPE", "NULLS", "MIN", "MAX", "MEAN", "DISTINCT");
        for (ColumnSummary col : e.summary().columns()) {
          c.row(col.name(), col.type(), Long.toString(col.nulls()),
              col.min() != null ? number(col.min()) : col.earliest() != null ? col.earliest() : "",
              col.max() != null ? number(col.max()) : col.latest() != null ? col.latest() : "",
              col.mean() != null ? number(col.mean()) : "",
              col.distinct() == null ? "" : (col.distinctEstimated() ? "~" : "") + col.distinct());
        }
        c.print(out);
      }
      return ExitCode.OK;
    }
  }

  static String number(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return new java.math.BigDecimal(d).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
  }

  @Command(name = "diff", description = {"What changed from version A to version B: files added, removed and changed; "
      + "for changed CSV, TSV and JSON lines files, the rows added, removed and changed (matched by a key column when "
      + "one is evident) and the columns added, removed and retyped, with a few examples."})
  static final class Diff implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Option(names = "--format", description = "table or json.")
    OutputFormat format = OutputFormat.table;

    @Option(names = "--examples", paramLabel = "N", description = "Examples per kind of row change (default 3).")
    int examples = 3;

    @Parameters(index = "0", paramLabel = "A") String a;

    @Parameters(index = "1", paramLabel = "B") String b;

    @Override
    public Integer call() {
      DatasetStore store = parent.datasets();
      DatasetVersion va = store.resolve(a);
      DatasetVersion vb = store.resolve(b);
      Tables.VersionDiff d = new Tables(store).diff(va, vb);
      var out = parent.root.out;
      if (format == OutputFormat.json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", va.digest().toString());
        m.put("b", vb.digest().toString());
        m.put("files", d.files());
        m.put("tables", d.tables());
        out.println(Json.pretty(m));
        return ExitCode.OK;
      }
      out.println(a + " (" + va.digest().shortHex() + ") -> " + b + " (" + vb.digest().shortHex() + ")");
      out.print(DatasetDiff.describe(d.files()));
      d.tables().forEach((path, t) -> {
        out.println();
        out.println(path + ":");
        t.describe(examples).lines().forEach(l -> out.println("  " + l));
      });
      return ExitCode.OK;
    }
  }

  @Command(name = "verify", description = {"Re-hash every chunk (and every file of assembled trees) of a version, or "
      + "of every version.", "Exits 1 when anything is damaged, naming the files affected."})
  static final class Verify implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Parameters(arity = "0..1", paramLabel = "NAME[:TAG]", description = "default: every version")
    String ref;

    @Override
    public Integer call() {
      VerifyReport r = parent.datasets().verify(ref);
      var out = parent.root.out;
      var err = parent.root.err;
      for (VerifyReport.Check c : r.versions()) {
        String what = names(c.version()) + " " + c.version().digest().shortHex();
        if (c.ok()) {
          out.println(what + ": ok (" + c.chunksChecked() + " chunks" + (c.treeChecked() ? ", assembled tree" : "")
              + ")");
          continue;
        }
        if (c.problem() != null) {
          err.println("labenv: dataset " + what + ": " + c.problem());
        }
        if (!c.badChunks().isEmpty()) {
          err.println("labenv: dataset " + what + ": " + c.badChunks().size() + " damaged or missing chunk"
              + (c.badChunks().size() == 1 ? "" : "s") + " (" + String.join(", ",
              c.badChunks().stream().map(x -> x.toString()).toList()) + "); files affected: "
              + String.join(", ", c.damagedFiles()));
        }
        if (!c.badTreeFiles().isEmpty()) {
          err.println("labenv: dataset " + what + ": assembled tree differs from the version: "
              + String.join(", ", c.badTreeFiles()));
        }
      }
      out.flush();
      err.flush();
      return r.ok() ? ExitCode.OK : ExitCode.FAILED;
    }
  }

  @Command(name = "tag", description = "Give a version another name.")
  static final class Tag implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Parameters(index = "0", paramLabel = "SOURCE")
    String src;

    @Parameters(index = "1", paramLabel = "NAME[:TAG]")
    String dst;

    @Override
    public Integer call() {
      parent.datasets().tag(src, dst);
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", aliases = "remove", description = {"Remove dataset names; prints each.",
      "A digest removes every name of that version. The data goes at the next labenv prune, once no name uses it."})
  static final class Rm implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Parameters(arity = "1..*", paramLabel = "NAME[:TAG]")
    List<String> refs;

    @Override
    public Integer call() {
      DatasetStore datasets = parent.datasets();
      int status = Verb.each(parent.root.err, refs,
          ref -> datasets.remove(ref).forEach(n -> parent.root.out.println("Untagged: " + n)));
      parent.root.out.flush();
      return status;
    }
  }

  @Command(name = "export", description = "Write a version's files into a new (or empty) directory.")
  static final class Export implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Parameters(index = "0", paramLabel = "NAME[:TAG]")
    String ref;

    @Parameters(index = "1", paramLabel = "DIR")
    Path dir;

    @Override
    public Integer call() {
      DatasetVersion v = parent.datasets().export(ref, dir);
      parent.root.out.println(v.digest() + " -> " + dir);
      return ExitCode.OK;
    }
  }

  @Command(name = "push", description = {"Upload a dataset version to an OCI registry, as an artifact.",
      "Its manifest (artifactType application/vnd.labenv.dataset.v1) lists the chunks as layers: any registry that "
          + "stores OCI artifacts stores it, and chunks the repository has already are not sent again."})
  static final class Push implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Parameters(index = "0", paramLabel = "NAME[:TAG]")
    String name;

    @Parameters(index = "1", paramLabel = "REF", description = "[registry/]repository[:tag]")
    String target;

    @picocli.CommandLine.Mixin TransferOptions transfer;

    @Override
    public Integer call() {
      DatasetVersion v = parent.datasets().resolve(name);
      transfer.print(parent.root.out, new labenv.registry.Pusher(parent.root.store(),
          labenv.registry.Credentials.forUser(parent.root.env), transfer.insecure,
          transfer.progress(parent.root.err, parent.root.env)).push(v.manifest(), target));
      return ExitCode.OK;
    }
  }

  @Command(name = "pull", description = {"Download a dataset version from an OCI registry.",
      "Every chunk is verified against its digest; the version is named NAME[:TAG] (default: the repository's last "
          + "path component, with the reference's tag) and NAME:latest."})
  static final class Pull implements Callable<Integer> {
    @ParentCommand DatasetCommand parent;

    @Parameters(index = "0", paramLabel = "REF", description = "[registry/]repository[:tag|@digest]")
    String ref;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME[:TAG]")
    String name;

    @picocli.CommandLine.Mixin TransferOptions transfer;

    @Override
    public Integer call() {
      labenv.registry.Puller.Result r = new labenv.registry.Puller(new labenv.store.ImageStore(parent.root.store()),
          labenv.registry.Credentials.forUser(parent.root.env), transfer.insecure,
          transfer.progress(parent.root.err, parent.root.env)).fetch(ref, labenv.image.Platform.host(),
          labenv.dataset.DatasetFormat.ARTIFACT_TYPE);
      labenv.image.ImageReference parsed = labenv.image.ImageReference.parse(ref);
      String path = parsed.path();
      String target = name != null ? name : path.substring(path.lastIndexOf('/') + 1)
          + (parsed.tag() != null && !parsed.tag().equals("latest") ? ":" + parsed.tag() : "");
      DatasetName named = parent.datasets().adopt(r.manifest(), target, parsed.toString());
      transfer.print(parent.root.out, named.toString(), r);
      return ExitCode.OK;
    }
  }
}
