package labenv.build;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import labenv.LabenvException;
import labenv.Progress;
import labenv.archive.Archives;
import labenv.archive.ImportOptions;
import labenv.archive.ImportResult;
import labenv.container.HostTools;
import labenv.image.ImageConfig;
import labenv.store.ImageStore;

/**
 * A tiny base image from the host's static busybox (Debian's busybox-static): /bin/busybox and a symlink to it for
 * every applet it lists, /etc/passwd and /etc/group with root and nobody, /root, /tmp (1777), and {@code sh} as the
 * command. The root is staged as a directory and packed by the deterministic layer writer, every time set to the
 * source date epoch: the same busybox and the same epoch give the same image digest.
 */
public final class BusyboxBootstrap {
  /** Where Debian's busybox-static puts it. */
  public static final Path HOST_BUSYBOX = Path.of("/bin/busybox");

  static final ImageConfig.Config CONFIG = new ImageConfig.Config(null, null,
      List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), null, List.of("sh"), null,
      null, null, null, null, null, null, null);

  private static final int PT_INTERP = 3;

  private final Archives archives;

  public BusyboxBootstrap(ImageStore images, Progress progress) {
    this.archives = new Archives(images, progress);
  }

  /**
   * Makes the image from {@code busybox} (usually {@link #HOST_BUSYBOX}) and names it {@code name}.
   *
   * @throws LabenvException failed, naming the package to install, when busybox is missing or not static
   */
  public ImportResult bootstrap(Path busybox, long sourceDateEpoch, String name) {
    checkStatic(busybox);
    List<String> applets = applets(busybox);
    ImportOptions options = ImportOptions.defaults()
        .withSourceDateEpoch(sourceDateEpoch)
        .withConfig(CONFIG)
        .withHistory("labenv bootstrap busybox", "busybox " + version(busybox));
    return archives.importRootfs(root -> makeRoot(busybox, applets, root, sourceDateEpoch), name, options);
  }

  /**
   * Failed unless {@code busybox} is an ELF executable without a program interpreter: a dynamic one would need the
   * host's libraries in the image.
   */
  static void checkStatic(Path busybox) {
    if (!Files.isRegularFile(busybox)) {
      throw LabenvException.failed("no static busybox at " + busybox + ": apt-get install busybox-static");
    }
    try (FileChannel ch = FileChannel.open(busybox, StandardOpenOption.READ)) {
      ByteBuffer h = ByteBuffer.allocate(64);
      ch.read(h, 0);
      h.flip();
      if (h.remaining() < 52 || h.getInt(0) != 0x7f454c46) {
        throw LabenvException.failed(busybox + " is not an ELF executable: apt-get install busybox-static");
      }
      boolean wide = h.get(4) == 2;
      h.order(h.get(5) == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      long phoff = wide ? h.getLong(0x20) : Integer.toUnsignedLong(h.getInt(0x1c));
      int phentsize = Short.toUnsignedInt(h.getShort(wide ? 0x36 : 0x2a));
      int phnum = Short.toUnsignedInt(h.getShort(wide ? 0x38 : 0x2c));
      ByteBuffer ph = ByteBuffer.allocate(4).order(h.order());
      for (int i = 0; i < phnum; i++) {
        ph.clear();
        ch.read(ph, phoff + (long) i * phentsize);
        if (ph.position() == 4 && ph.getInt(0) == PT_INTERP) {
          throw LabenvException.failed(busybox + " is dynamically linked: apt-get install busybox-static");
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + busybox + ": " + e.getMessage(), e);
    }
  }

  /** The applets {@code busybox --list} names, sorted; a name that is not a plain file name is a failure. */
  static List<String> applets(Path busybox) {
    String out = output(busybox, "--list");
    TreeSet<String> applets = new TreeSet<>();
    for (String name : out.lines().map(String::trim).filter(l -> !l.isEmpty()).toList()) {
      if (name.contains("/") || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0) {
        throw LabenvException.failed(busybox + " --list names \"" + name + "\", which is not an applet name");
      }
      if (!name.equals("busybox")) {
        applets.add(name);
      }
    }
    if (!applets.contains("sh")) {
      throw LabenvException.failed(busybox + " has no sh applet: apt-get install busybox-static");
    }
    return List.copyOf(applets);
  }

  private static String version(Path busybox) {
    // "BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary."
    String first = output(busybox, "--help").lines().findFirst().orElse("");
    return first.startsWith("BusyBox ") ? first.substring("BusyBox ".length()).replaceFirst(" multi-call binary.*", "")
        : "?";
  }

  private static String output(Path busybox, String arg) {
    try {
      Process p = new ProcessBuilder(busybox.toString(), arg).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      int code = HostTools.waitFor(p);
      if (code != 0 && !arg.equals("--help")) {
        throw LabenvException.failed(busybox + " " + arg + " failed (exit " + code + ")");
      }
      return out;
    } catch (IOException e) {
      throw LabenvException.failed("cannot run " + busybox + ": " + e.getMessage(), e);
    }
  }

  /** Writes the root at {@code root}, which does not exist yet. */
  static void makeRoot(Path busybox, List<String> applets, Path root, long sourceDateEpoch) {
    try {
      List<Path> made = new ArrayList<>();
      made.add(dir(root, 0755));
      Path bin = dir(root.resolve("bin"), 0755);
      Path etc = dir(root.resolve("etc"), 0755);
      made.addAll(List.of(bin, etc, dir(root.resolve("root"), 0700), dir(root.resolve("tmp"), 01777)));
      Files.copy(busybox, bin.resolve("busybox"));
      made.add(mode(bin.resolve("busybox"), 0755));
      for (String applet : applets) {
        made.add(Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox")));
      }
      Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n"
          + "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
      Files.writeString(etc.resolve("group"), "root:x:0:\nnobody:x:65534:\n");
      made.add(mode(etc.resolve("passwd"), 0644));
      made.add(mode(etc.resolve("group"), 0644));
      // The layer writer clamps later times to the epoch; earlier ones (an epoch in the future) would be kept.
      FileTime epoch = FileTime.fromMillis(sourceDateEpoch * 1000);
      for (int i = made.size() - 1; i >= 0; i--) {
        Files.getFileAttributeView(made.get(i), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setTimes(epoch, null, null);
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot write the busybox root at " + root + ": " + e.getMessage(), e);
    }
  }

  private static Path dir(Path p, int mode) throws IOException {
    Files.createDirectory(p);
    return mode(p, mode);
  }

  /** Modes set, not left to the umask; unix:mode also takes the sticky bit. */
  private static Path mode(Path p, int mode) throws IOException {
    Files.setAttribute(p, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    return p;
  }
}
