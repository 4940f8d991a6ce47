package labenv.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import labenv.image.Json;
import labenv.registry.Puller;
import labenv.registry.Pusher;
import picocli.CommandLine.Option;

/** What every command that talks to a registry takes ({@code pull}, {@code push}, {@code dataset pull|push}), and how they report. */
final class TransferOptions {
  @Option(names = "--insecure", description = "Accept any TLS certificate, and plain HTTP when the registry has no "
      + "TLS (loopback hosts get the fallback to HTTP without this).")
  boolean insecure;

  @Option(names = {"-q", "--quiet"}, description = "no progress; print the digest only")
  boolean quiet;

  @Option(names = "--format", description = "table or json")
  OutputFormat format = OutputFormat.table;

  labenv.Progress progress(PrintWriter err, Map<String, String> env) {
    return quiet ? labenv.Progress.NONE : TerminalProgress.forTerminal(err, env);
  }

  void print(PrintWriter out, String name, Puller.Result r) {
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("digest", r.manifest().digest().toString());
      m.put("index", r.index() == null ? null : r.index().toString());
      m.put("blobsFetched", r.blobsFetched());
      m.put("bytesFetched", r.bytesFetched());
      out.println(Json.pretty(m));
    } else if (quiet) {
      out.println(r.manifest().digest());
    } else {
      out.println(name + " " + r.manifest().digest() + " (" + r.blobsFetched() + " blobs, "
          + Units.bytes(r.bytesFetched()) + " downloaded)");
    }
    out.flush();
  }

  void print(PrintWriter out, Pusher.Result r) {
    if (format == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("reference", r.reference());
      m.put("digest", r.manifest().digest().toString());
      m.put("blobsPushed", r.blobsPushed());
      m.put("blobsSkipped", r.blobsSkipped());
      m.put("blobsMounted", r.blobsMounted());
      m.put("bytesPushed", r.bytesPushed());
      m.put("uploadsResumed", r.uploadsResumed());
      out.println(Json.pretty(m));
    } else if (quiet) {
      out.println(r.manifest().digest());
    } else {
      out.println(r.reference() + " " + r.manifest().digest() + " (" + r.blobsPushed() + " blobs uploaded, "
          + Units.bytes(r.bytesPushed()) + "; " + r.blobsSkipped() + " already there"
          + (r.blobsMounted() > 0 ? ", " + r.blobsMounted() + " mounted from another repository" : "")
          + (r.uploadsResumed() > 0 ? ", " + r.uploadsResumed() + " upload(s) resumed" : "") + ")");
    }
    out.flush();
  }
}
