package labenv.cli;

import labenv.image.Descriptor;
import labenv.registry.Credentials;
import labenv.registry.Pusher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "push", description = {"Upload an image to a registry.",
    "Blobs the repository already has are skipped, those another repository of the registry holds are mounted; "
    + "the others are uploaded in parallel (large ones in chunks), the manifest last. Without REF the image's own name says where (registry/repository:tag)."})
final class PushCommand extends Verb {
  @Parameters(index = "0", paramLabel = "IMAGE", description = "name[:tag], digest, or unique digest prefix")
  String image;

  @Parameters(index = "1", arity = "0..1", paramLabel = "REF", description = "where to: [registry/]repository[:tag]")
  String target;

  @Mixin TransferOptions transfer;

  @Option(names = "--chunk-size", paramLabel = "SIZE", description = "Upload blobs larger than SIZE (N[k|m|g]) in "
      + "chunks of SIZE, which resume after a dropped connection (default 256m; smaller for a registry behind a "
      + "proxy that limits request bodies).")
  String chunkSize;

  @Override
  public Integer call() {
    Descriptor d = images().resolve(image);
    Pusher.Result r = new Pusher(store(), Credentials.forUser(root.env), transfer.insecure,
        transfer.progress(err(), root.env)).withChunkSize(chunkSize == null ? Pusher.DEFAULT_CHUNK
        : Pusher.parseSize(chunkSize)).push(d, target != null ? target : image);
    transfer.print(out(), r);
    return ExitCode.OK;
  }
}
