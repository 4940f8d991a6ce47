package labenv.archive;

import labenv.image.Digest;

/** Where the files and blobs of an image layout come from: a streamed archive or a directory. */
interface BlobSource {
  /** The file at {@code name} (relative to the layout's root), or null when there is none. */
  StagedBlob file(String name);

  /**
   * The blob {@code digest}, staged and verified, or null when the layout lacks it. A blob whose
   * bytes do not match is refused, naming it as {@code what} ({@code layer}, {@code config}, ...).
   */
  default StagedBlob blob(Digest digest, String what) {
    StagedBlob f = file("blobs/" + digest.algorithm() + "/" + digest.hex());
    if (f != null && !f.digest().equals(digest)) {
      throw new InvalidArchiveException(what + " " + digest + ": digest mismatch (got " + f.digest() + ")");
    }
    return f;
  }
}
