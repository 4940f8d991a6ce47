package labenv.dataset;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import labenv.image.Digest;

/** A piece of a file as stored: the sha256 of its bytes (its blob's digest) and its length. */
@JsonPropertyOrder({"digest", "size"})
public record Chunk(Digest digest, long size) {}
