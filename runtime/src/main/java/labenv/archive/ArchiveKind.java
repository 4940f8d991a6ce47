package labenv.archive;

/** The kinds of input {@link Archives#load} understands. */
public enum ArchiveKind {
  /** A tar of an OCI image layout ({@code oci-layout}, {@code index.json}, {@code blobs/}). */
  OCI_ARCHIVE,
  /** An OCI image layout directory. */
  OCI_LAYOUT,
  /** {@code docker save} / {@code podman save --format docker-archive} output ({@code manifest.json}). */
  DOCKER_ARCHIVE
}
