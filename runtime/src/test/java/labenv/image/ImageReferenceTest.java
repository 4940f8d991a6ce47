package labenv.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Cases from github.com/distribution/reference's reference_test.go and normalize_test.go. */
class ImageReferenceTest {
  private static final String F64 = "f".repeat(64);

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(nullValues = "-", value = {
      // input, registry, path, tag, digest, familiar name
      "busybox, docker.io, library/busybox, latest, -, busybox:latest",
      "test_com, docker.io, library/test_com, latest, -, test_com:latest",
      "test.com:tag, docker.io, library/test.com, tag, -, test.com:tag",
      "test.com:5000, docker.io, library/test.com, 5000, -, test.com:5000",
      "test.com/repo:tag, test.com, repo, tag, -, test.com/repo:tag",
      "test:5000/repo, test:5000, repo, latest, -, test:5000/repo:latest",
      "test:5000/repo:tag, test:5000, repo, tag, -, test:5000/repo:tag",
      "lowercase:Uppercase, docker.io, library/lowercase, Uppercase, -, lowercase:Uppercase",
      "sub-dom1.foo.com/bar/baz/quux:some-long-tag, sub-dom1.foo.com, bar/baz/quux, some-long-tag, -, sub-dom1.foo.com/bar/baz/quux:some-long-tag",
      "b.gcr.io/test.example.com/my-app:test.example.com, b.gcr.io, test.example.com/my-app, test.example.com, -, b.gcr.io/test.example.com/my-app:test.example.com",
      "xn--n3h.com/myimage:xn--n3h.com, xn--n3h.com, myimage, xn--n3h.com, -, xn--n3h.com/myimage:xn--n3h.com",
      "foo_bar.com:8080, docker.io, library/foo_bar.com, 8080, -, foo_bar.com:8080",
      "foo/foo_bar.com:8080, docker.io, foo/foo_bar.com, 8080, -, foo/foo_bar.com:8080",
      "192.168.1.1, docker.io, library/192.168.1.1, latest, -, 192.168.1.1:latest",
      "192.168.1.1:5000, docker.io, library/192.168.1.1, 5000, -, 192.168.1.1:5000",
      "192.168.1.1/repo, 192.168.1.1, repo, latest, -, 192.168.1.1/repo:latest",
      "192.168.1.1:5000/repo:5050, 192.168.1.1:5000, repo, 5050, -, 192.168.1.1:5000/repo:5050",
      "[2001:db8::1]/repo, [2001:db8::1], repo, latest, -, [2001:db8::1]/repo:latest",
      "[2001:db8:1:2:3:4:5:6]/repo:tag, [2001:db8:1:2:3:4:5:6], repo, tag, -, [2001:db8:1:2:3:4:5:6]/repo:tag",
      "[2001:db8::1]:5000/repo:tag, [2001:db8::1]:5000, repo, tag, -, [2001:db8::1]:5000/repo:tag",
      "[::1]:5000/repo, [::1]:5000, repo, latest, -, [::1]:5000/repo:latest",
      "localhost/repo, localhost, repo, latest, -, localhost/repo:latest",
      "localhost:5000/x:1, localhost:5000, x, 1, -, localhost:5000/x:1",
      "docker.io/library/ubuntu:latest, docker.io, library/ubuntu, latest, -, ubuntu:latest",
      "docker.io/ubuntu, docker.io, library/ubuntu, latest, -, ubuntu:latest",
      "library/ubuntu, docker.io, library/ubuntu, latest, -, ubuntu:latest",
      "index.docker.io/fooo/bar, docker.io, fooo/bar, latest, -, fooo/bar:latest",
      "docker.io/library/foo/bar, docker.io, library/foo/bar, latest, -, library/foo/bar:latest",
      "dmcgowan/myapp, docker.io, dmcgowan/myapp, latest, -, dmcgowan/myapp:latest",
      "127.0.0.1:8000/private/moonbase, 127.0.0.1:8000, private/moonbase, latest, -, 127.0.0.1:8000/private/moonbase:latest",
      "Foo/bar, Foo, bar, latest, -, Foo/bar:latest",
      "docker---rules/docker, docker.io, docker---rules/docker, latest, -, docker---rules/docker:latest",
      "dock__er/docker, docker.io, dock__er/docker, latest, -, dock__er/docker:latest",
      "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a, docker.io, library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a, latest, -, 1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
  })
  void parsesAndNormalisesLikeDocker(String input, String registry, String path, String tag, String digest,
      String familiar) {
    ImageReference ref = ImageReference.parse(input);
    assertEquals(registry, ref.registry());
    assertEquals(path, ref.path());
    assertEquals(tag, ref.tag());
    assertEquals(digest, ref.digest() == null ? null : ref.digest().toString());
    assertEquals(familiar, ref.familiarName());
    assertEquals(registry + "/" + path, ref.repository());
    // The familiar form and the full form name the same image.
    assertEquals(ref, ImageReference.parse(ref.familiarName()));
    assertEquals(ref, ImageReference.parse(ref.toString()));
  }

  @Test
  void keepsDigestAndDoesNotInventATagNextToIt() {
    ImageReference ref = ImageReference.parse("test:5000/repo@sha256:" + F64);
    assertNull(ref.tag());
    assertEquals("sha256:" + F64, ref.digest().toString());
    assertEquals("test:5000/repo@sha256:" + F64, ref.familiarName());

    String both = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    ImageReference tagged = ImageReference.parse(both);
    assertEquals("docker.io/library/" + both, tagged.toString());
    assertEquals(both, tagged.familiarName());
  }

  @Test
  void sha512DigestsParse() {
    ImageReference ref = ImageReference.parse("xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + "f".repeat(128));
    assertEquals("sha512", ref.digest().algorithm());
    assertEquals("xn--7o8h.com", ref.tag());
  }

  @Test
  void pathOf255IsAcceptedAnd257IsNot() {
    ImageReference ok = ImageReference.parse("a".repeat(0) + "a/".repeat(127) + "a:tag-puts-this-over-max");
    assertEquals(255, ok.path().length());
    LabenvException e = assertThrows(LabenvException.class, () -> ImageReference.parse("a/".repeat(128) + "a:tag"));
    assertTrue(e.getMessage().contains("must not be more than 255 characters"), e.getMessage());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      ":justtag", "@sha256:" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "repo@sha256:ffffffffffffffffffffffffffffffffff", "validname@invaliddigest:" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "Uppercase:tag", "test:5000/Uppercase/lowercase:tag", "aa/asdf$$^/aa", "[2001:db8::1]", "[2001:db8::1]:5000",
      "[2001:db8::1]:tag", "[fe80::1%eth0]:5000/repo", "[fe80::1%@invalidzone]:5000/repo",
      "https://github.com/docker/docker", "docker/Docker", "-docker", "-docker/docker", "-docker.io/docker/docker",
      "docker///docker", "docker.io/docker/Docker", "[fc00::1]:5000", "fc00::1:5000/debian",
      "[2001:db8:3:4::192.0.2.33]:5000/debian", "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "docker-/docker", "____/____", "_docker/_docker", "dock..er/docker", "dock_.er/docker", "dock-.er/docker",
      "docker/", "foo/bar___baz", "busybox:-tag", "busybox:.tag", "busybox:", "busybox:tag!", ""})
  void rejectsWhatDockerRejects(String input) {
    LabenvException e = assertThrows(ImageReference.InvalidReferenceException.class, () -> ImageReference.parse(input));
    assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().startsWith("invalid reference \""), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
    assertFalse(ImageReference.isValid(input));
  }

  @Test
  void messagesSayWhatIsWrong() {
    assertEquals("invalid reference \"Uppercase:tag\": repository name \"Uppercase\" must be lowercase",
        message("Uppercase:tag"));
    assertEquals("invalid reference \"test:5000/Up/x@sha256:" + F64 + "\": repository name \"test:5000/Up/x\" must be lowercase",
        message("test:5000/Up/x@sha256:" + F64));
    assertTrue(message("busybox:bad!tag").contains("invalid tag \"bad!tag\""), message("busybox:bad!tag"));
    assertTrue(message("busybox:" + "a".repeat(129)).contains("tag must not be more than 128 characters"));
    assertTrue(message("aa/asdf$$^/aa").contains("invalid repository name \"aa/asdf$$^/aa\""));
    assertTrue(message("repo@sha256:abc").contains("invalid digest"), message("repo@sha256:abc"));
    assertTrue(message(F64).contains("image ID, not a name"));
  }

  @Test
  void withTagReplacesTagAndDropsDigest() {
    ImageReference ref = ImageReference.parse("busybox@sha256:" + F64).withTag("1.36");
    assertEquals("busybox:1.36", ref.familiarName());
    assertThrows(ImageReference.InvalidReferenceException.class, () -> ref.withTag("-x"));
  }

  private static String message(String input) {
    return assertThrows(ImageReference.InvalidReferenceException.class, () -> ImageReference.parse(input)).getMessage();
  }
}
