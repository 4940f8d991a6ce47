package labenv.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.List;
import labenv.image.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobBatchTest {
  @TempDir Path tmp;

  private static Digest sha256(byte[] b, int off, int len) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(b, off, len);
    return Digest.sha256(md.digest());
  }

  @Test
  void blobsAreInvisibleUntilPublishedThenReadOnlyAndVerifiedUnderTheirDigest() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("store"));
    byte[] data = "..first chunk|second chunk..".getBytes(StandardCharsets.UTF_8);
    try (BlobBatch batch = new BlobBatch(store)) {
      BlobBatch.Put a = batch.put(data, 2, 11);
      BlobBatch.Put b = batch.put(data, 14, 12);
      assertEquals(sha256(data, 2, 11), a.digest());
      assertEquals(sha256(data, 14, 12), b.digest());
      assertTrue(a.written() && b.written());
      assertFalse(store.has(a.digest()), "no reader sees a blob before publish");
      batch.publish();
      assertTrue(store.has(a.digest()) && store.has(b.digest()));
      assertEquals(List.of(), store.tempFiles());
      try (InputStream in = store.open(a.digest())) {
        assertArrayEquals("first chunk".getBytes(StandardCharsets.UTF_8), in.readAllBytes());
      }
      assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.path(b.digest()))));
    }
  }

  @Test
  void bytesTheStoreOrTheBatchHaveAreNotWrittenAgain() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("store"));
    byte[] old = "already stored".getBytes(StandardCharsets.UTF_8);
    store.put("application/octet-stream", old);
    byte[] twice = "twice".getBytes(StandardCharsets.UTF_8);
    try (BlobBatch batch = new BlobBatch(store)) {
      assertFalse(batch.put(old, 0, old.length).written());
      assertTrue(batch.put(twice, 0, twice.length).written());
      assertFalse(batch.put(twice, 0, twice.length).written());
      batch.publish();
    }
    assertEquals(List.of(), store.tempFiles());
    assertEquals(2, store.blobs().size(), "the stored blob and one copy of the twice-put bytes");
  }

  @Test
  void manyChunksBeyondTheQueueAreAllWrittenAndPublished() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("store"));
    byte[] chunk = new byte[4 << 20];
    List<Digest> digests = new java.util.ArrayList<>();
    try (BlobBatch batch = new BlobBatch(store)) {
      for (int i = 0; i < 2 * BlobBatch.MAX_QUEUED_BYTES / chunk.length; i++) {
        java.util.Arrays.fill(chunk, (byte) i);
        digests.add(batch.put(chunk, 0, chunk.length).digest());
      }
      batch.publish();
    }
    for (int i = 0; i < digests.size(); i++) {
      java.util.Arrays.fill(chunk, (byte) i);
      try (InputStream in = store.open(digests.get(i))) {
        assertArrayEquals(chunk, in.readAllBytes(), "blob " + i);
      }
    }
    assertEquals(List.of(), store.tempFiles());
  }

  @Test
  void closeWithoutPublishLeavesNothing() throws Exception {
    ContentStore store = ContentStore.open(tmp.resolve("store"));
    byte[] data = "never published".getBytes(StandardCharsets.UTF_8);
    Digest d;
    try (BlobBatch batch = new BlobBatch(store)) {
      d = batch.put(data, 0, data.length).digest();
    }
    assertFalse(store.has(d));
    assertEquals(List.of(), store.tempFiles());
    assertEquals(List.of(), store.blobs());
  }
}
