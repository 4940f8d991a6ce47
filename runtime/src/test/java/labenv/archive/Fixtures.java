package labenv.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import labenv.image.Digest;

/** Test material made here and now: root filesystems, tools run as processes, store snapshots. */
final class Fixtures {
  private Fixtures() {}

  /** A small root filesystem: nested directories, files of a few sizes, a symlink, an empty file, an odd mode. */
  static Path smallRootfs(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("etc"));
    Files.createDirectories(dir.resolve("usr/share/doc/x"));
    Files.createDirectories(dir.resolve("bin"));
    Files.writeString(dir.resolve("etc/hostname"), "lab\n");
    Files.writeString(dir.resolve("etc/os-release"), "NAME=test\n");
    byte[] big = new byte[300_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31 + (i >> 7));
    }
    Files.write(dir.resolve("usr/share/doc/x/blob.bin"), big);
    Files.write(dir.resolve("bin/tool"), "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8));
    Files.setPosixFilePermissions(dir.resolve("bin/tool"), PosixFilePermissions.fromString("rwxr-x---"));
    Files.createFile(dir.resolve("empty"));
    Files.createSymbolicLink(dir.resolve("bin/sh"), Path.of("tool"));
    return dir;
  }

  /**
   * A busybox root filesystem: Debian's static busybox with links for a few applets, so that
   * peers can check it file by file and a container could run it.
   */
  static Path busyboxRootfs(Path dir) throws IOException {
    Path busybox = Path.of("/bin/busybox");
    if (!Files.isRegularFile(busybox)) {
      throw new IllegalStateException("/bin/busybox is missing: apt-get install busybox-static");
    }
    Files.createDirectories(dir.resolve("bin"));
    Files.createDirectories(dir.resolve("etc"));
    Files.createDirectories(dir.resolve("tmp"));
    Files.copy(busybox, dir.resolve("bin/busybox"));
    Files.setPosixFilePermissions(dir.resolve("bin/busybox"), PosixFilePermissions.fromString("rwxr-xr-x"));
    for (String applet : List.of("sh", "ls", "cat", "echo", "true")) {
      Files.createSymbolicLink(dir.resolve("bin").resolve(applet), Path.of("busybox"));
    }
    Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    return dir;
  }

  /** Runs a command; returns its stdout; fails with its output when it exits non-zero. */
  static String run(Map<String, String> env, String... cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectErrorStream(false);
    Path err = Files.createTempFile("cmd", ".err");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    String errText = Files.readString(err);
    Files.delete(err);
    if (code != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + code + ":\n" + out + errText);
    }
    return out;
  }

  static String run(String... cmd) throws IOException, InterruptedException {
    return run(Map.of(), cmd);
  }

  /** GNU tar of a directory's content, reproducibly. */
  static Path gnuTar(Path dir, Path out) throws IOException, InterruptedException {
    run("tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--format=posix",
        "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
        "-C", dir.toString(), "-cf", out.toString(), ".");
    return out;
  }

  /** The digest coreutils' sha256sum computes: an independent check of ours. */
  static Digest sha256sum(Path file) throws IOException, InterruptedException {
    return new Digest("sha256", run("sha256sum", file.toString()).substring(0, 64));
  }

  /**
   * Every path under {@code root} with what it is: a file's sha256 and mode, a symlink's target, a
   * directory. Two equal snapshots mean nothing was added, removed or changed.
   */
  static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        out.put(root.relativize(dir) + "/", "dir " + mode(dir));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        String rel = root.relativize(file).toString();
        if (attrs.isSymbolicLink()) {
          out.put(rel, "symlink " + Files.readSymbolicLink(file));
        } else {
          out.put(rel, "file " + mode(file) + " " + Digest.of(Files.readAllBytes(file)));
        }
        return FileVisitResult.CONTINUE;
      }
    });
    return out;
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  /** The tree under {@code root} as files people would compare: path → type, mode, content hash or target. */
  static Map<String, String> tree(Path root) throws IOException {
    Map<String, String> out = snapshot(root);
    out.remove("/");
    return out;
  }

  static List<String> lines(String s) {
    List<String> out = new ArrayList<>();
    for (String l : s.split("\n")) {
      if (!l.isBlank()) {
        out.add(l.strip());
      }
    }
    return out;
  }
}
