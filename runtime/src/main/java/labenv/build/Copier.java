package labenv.build;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import labenv.LabenvException;
import labenv.image.Digest;
import labenv.layer.Decompression;
import labenv.linux.Libc;
import labenv.linux.Names;
import labenv.linux.Stat;
import labenv.linux.Syscalls;
import labenv.tar.TarReader;

/**
 * COPY and ADD with Docker's (BuildKit's) rules: what the sources select, the digest of that for the build cache,
 * and the tree the instruction adds to the image.
 *
 * <p>Sources. A source is a path inside the {@link CopySource}'s root ("/" is the root; ".." may not leave it) or a
 * glob (Go's filepath.Match per path component; no "**"); what the ignore rules exclude cannot be selected. Symlinks
 * on the way to a source, and a source that is itself a symlink, are followed inside the root; symlinks inside a
 * copied directory are copied as symlinks. A directory source copies what it holds. Sockets inside directories are
 * skipped; device nodes and fifos are refused. {@code <<NAME} is a heredoc, a file NAME (mode 0644 unless --chmod).
 *
 * <p>Destination. Ending in '/' or an existing directory of the parent image (following the parent's symlinks
 * inside it): each file goes in it under its own name. Otherwise a file source becomes the destination; more than
 * one source, or a glob that selects more than one, is then an error (Docker's classic builder's rule). Directories
 * the destination path needs that the parent lacks are created 0755 and owned by the --chown owner.
 *
 * <p>Metadata. Owners are the --chown owner, else the sources' when the {@link CopySource} keeps them (another
 * stage or an image), else 0:0 (never the context's); directories created for the destination path are the
 * --chown owner's or root's. Modes are the sources' unless --chmod gives one (to files and directories alike);
 * every time is the request's source date epoch. So the layer depends only on what {@link #digest} covers.
 *
 * <p>ADD. A local source that is a tar archive (plain, gzip, bzip2, xz or zstd, recognised by its content as Docker
 * does, not its name) is extracted into the destination directory, keeping the archive's modes and times, and its
 * owners unless --chown is given (BuildKit's rule); extraction never writes outside the staging tree (LayerApplier:
 * absolute names, ".." and symlinks out of the tree are refused). ".wh." entries of such an archive are treated as
 * whiteouts of nothing and dropped, where BuildKit extracts them as files. ADD of a URL or a git repository is
 * refused.
 */
public final class Copier {
  private Copier() {}

  private static final byte[] EMPTY = {};

  /** One thing a source selects: a file or directory of the source tree, or a heredoc. */
  private record Selected(String source, byte[] name, SourceTree.Node node, byte[] heredoc) {}

  /** The digest of the instruction's inputs (see {@link #digest(CopySource, CopyRequest, Path)}), hashing every file. */
  public static Digest digest(CopySource src, CopyRequest req) {
    return digest(src, req, null);
  }

  /**
   * The build cache's key for this COPY or ADD: the request (destination, owner, mode, ADD or COPY, source date
   * epoch, sources as written) and, for everything the sources select after globs and ignore rules, its path
   * relative to the selected source, type, permission bits, size, content sha256 and symlink target, and its owner
   * when the source's owners are kept. Not times, not the owners of context files. Files are read as streams.
   *
   * @param statCacheDir where to keep the sha256 of files by inode, size and times, so that unchanged files are not
   *     read again; null to hash everything
   * @throws LabenvException BAD_INPUT for a missing source, one outside the root, or a bad glob
   */
  public static Digest digest(CopySource src, CopyRequest req, Path statCacheDir) {
    StatCache cache = statCacheDir == null ? null : StatCache.load(statCacheDir);
    try (SourceTree tree = SourceTree.open(src.root(), src.ignore(), src.description())) {
      Hasher h = new Hasher();
      h.text("labenv COPY v1");
      if (src.keepOwners()) {
        h.text("owners kept"); // and every entry's owner below: a chown in the source stage reruns the COPY
      }
      h.number(req.add() ? 1 : 0);
      h.number(req.uid() == null ? -1 : req.uid());
      h.number(req.gid() == null ? -1 : req.gid());
      h.number(req.mode() == null ? -1 : req.mode());
      h.number(req.sourceDateEpoch());
      h.text(req.destination());
      List<List<Selected>> selection = select(tree, req);
      h.number(selection.size());
      for (int i = 0; i < selection.size(); i++) {
        h.text(req.sources().get(i));
        h.number(selection.get(i).size());
        for (Selected s : selection.get(i)) {
          h.bytes(s.name());
          if (s.heredoc() != null) {
            h.text("heredoc");
            h.bytes(s.heredoc());
          } else {
            hashEntry(tree, s.node(), EMPTY, h, cache, src.keepOwners());
          }
        }
      }
      return Digest.sha256(h.digest());
    } finally {
      if (cache != null) {
        cache.save();
      }
    }
  }

  private static void hashEntry(SourceTree tree, SourceTree.Node node, byte[] rel, Hasher h, StatCache cache,
      boolean owners) {
    Stat st = node.stat();
    h.bytes(rel);
    h.number(st.permissions());
    if (owners) {
      h.number(st.uid());
      h.number(st.gid());
    }
    if (st.isRegular()) {
      h.text("file");
      int fd = tree.openFile(node);
      try {
        StatCache.Key before = StatCache.keyOf(fd);
        byte[] sha = cache == null ? null : cache.get(before);
        if (sha == null) {
          long start = System.currentTimeMillis() * 1_000_000L;
          sha = sha256(fd, tree, node);
          if (cache != null) {
            cache.put(before, StatCache.keyOf(fd), start, sha);
          }
        }
        h.number(before.size());
        h.bytes(sha);
      } finally {
        Syscalls.close(fd);
      }
    } else if (st.isSymlink()) {
      h.text("symlink");
      h.bytes(tree.readlink(node));
    } else if (st.isDirectory()) {
      h.text("directory");
      for (SourceTree.Node child : tree.children(node)) {
        hashEntry(tree, child, SourceTree.child(rel, child.name()), h, cache, owners);
      }
      h.text("end");
    } else {
      throw special(node, tree);
    }
  }

  private static byte[] sha256(int fd, SourceTree tree, SourceTree.Node node) {
    MessageDigest md = Digest.newSha256();
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    try (FileChannel in = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ)) {
      while (in.read(buf.clear()) >= 0) {
        md.update(buf.array(), 0, buf.position());
      }
    } catch (IOException e) {
      throw LabenvException.failed("reading \"" + node.display() + "\" in " + tree.where() + ": " + e.getMessage(), e);
    }
    return md.digest();
  }

  /**
   * Builds, under {@code stagingRoot}, the tree this COPY or ADD adds to the image ({@code stagingRoot/app/x} for
   * {@code /app/x}), with owners, modes and times as the layer must have them; pack it with LayerWriter keeping
   * owners. On failure the staging tree may be half built: discard it.
   *
   * @param parentRoot the parent image's merged root file system, read only (may be an empty directory)
   * @throws LabenvException BAD_INPUT for bad sources or destination, or a hostile archive
   */
  public static void copy(CopySource src, CopyRequest req, Path parentRoot, Path stagingRoot) {
    try (SourceTree tree = SourceTree.open(src.root(), src.ignore(), src.description());
        SourceTree parent = SourceTree.open(parentRoot, IgnoreRules.none(), "the parent image");
        StagingTree out = new StagingTree(stagingRoot, parent, req.sourceDateEpoch())) {
      List<Selected> items = new ArrayList<>();
      select(tree, req).forEach(items::addAll);
      String destination = req.destination();
      String cleaned = GoPattern.clean(destination);
      SourceTree.Resolution dest = parent.resolve(cleaned.getBytes(StandardCharsets.UTF_8), true, true);
      Stat existing = dest.found() == SourceTree.Found.FOUND ? dest.node().stat() : null;
      boolean intoDirectory = destination.endsWith("/") || existing != null && existing.isDirectory();
      if (items.size() > 1 && !intoDirectory) {
        throw LabenvException.badInput("When using " + req.verb() + " with more than one source file, the destination"
            + " must be a directory and end with a / (" + destination + ")");
      }
      List<byte[]> destDir = dest.components();
      StagingTree.Attrs owner = new StagingTree.Attrs(0755, req.ownerUid(), req.ownerGid());
      for (Selected s : items) {
        Stat st = s.node() == null ? null : s.node().stat();
        if (st != null && st.isDirectory() || st != null && req.add() && isArchive(tree, s.node())) {
          if (existing != null && !existing.isDirectory()) {
            throw LabenvException.badInput(req.verb() + " " + s.source() + ": destination " + destination
                + " is a file in the parent image, not a directory");
          }
          // A destination the directory source creates is made like its parents, 0755 (fsutil's prepareTargetDir
          // under BuildKit: MkdirAll(dest, 0755) before copying the contents; podman alike), not with the source
          // directory's mode, which is often the 0700 of a temporary or private directory. --chmod still applies.
          StagingTree.Attrs created = st.isDirectory() && req.mode() != null
              ? new StagingTree.Attrs(req.mode(), owner.uid(), owner.gid())
              : owner;
          int dirfd = out.directory(destDir, created, owner);
          try {
            if (st.isDirectory()) {
              copyTree(tree, s.node(), out, dirfd, SourceTree.join(destDir), req, src.keepOwners());
            } else {
              extract(tree, s, out, dirfd, SourceTree.join(destDir), req);
            }
          } finally {
            Syscalls.close(dirfd);
          }
          continue;
        }
        List<byte[]> dirComponents;
        byte[] name;
        if (intoDirectory || destDir.isEmpty()) {
          dirComponents = destDir;
          name = s.name();
        } else {
          dirComponents = destDir.subList(0, destDir.size() - 1);
          name = destDir.get(destDir.size() - 1);
        }
        byte[] path = SourceTree.child(SourceTree.join(dirComponents), name);
        refuseOverDirectory(out, path, s.source());
        int dirfd = out.directory(dirComponents, owner, owner);
        try {
          if (s.heredoc() != null) {
            out.file(dirfd, path, name, StagingTree.fromBytes(s.heredoc()),
                new StagingTree.Attrs(req.mode() != null ? req.mode() : 0644, owner.uid(), owner.gid()));
          } else {
            copyFile(tree, s.node(), out, dirfd, path, name, req, src.keepOwners());
          }
        } finally {
          Syscalls.close(dirfd);
        }
      }
      out.finish();
    }
  }

  private static void copyTree(SourceTree tree, SourceTree.Node dir, StagingTree out, int dirfd, byte[] path,
      CopyRequest req, boolean keepOwners) {
    for (SourceTree.Node child : tree.children(dir)) {
      Stat st = child.stat();
      byte[] name = child.name();
      byte[] childPath = SourceTree.child(path, name);
      if (st.isDirectory()) {
        Stat there = out.inParent(childPath);
        if (there != null && !there.isDirectory()) {
          throw LabenvException.badInput(req.verb() + ": cannot copy directory \"" + child.display() + "\" of "
              + tree.where() + " to /" + Names.display(childPath) + ": that is a " + kind(there)
              + " in the parent image");
        }
        StagingTree.Attrs attrs = there != null
            ? new StagingTree.Attrs(there.permissions(), there.uid(), there.gid())
            : new StagingTree.Attrs(req.mode() != null ? req.mode() : st.permissions(), uid(st, req, keepOwners),
                gid(st, req, keepOwners));
        int sub = out.subdirectory(dirfd, childPath, name, attrs);
        try {
          copyTree(tree, child, out, sub, childPath, req, keepOwners);
        } finally {
          Syscalls.close(sub);
        }
      } else if (st.isRegular()) {
        refuseOverDirectory(out, childPath, child.display());
        copyFile(tree, child, out, dirfd, childPath, name, req, keepOwners);
      } else if (st.isSymlink()) {
        out.symlink(dirfd, childPath, name, tree.readlink(child),
            new StagingTree.Attrs(0777, uid(st, req, keepOwners), gid(st, req, keepOwners)));
      } else {
        throw special(child, tree);
      }
    }
  }

  private static void copyFile(SourceTree tree, SourceTree.Node node, StagingTree out, int dirfd, byte[] path,
      byte[] name, CopyRequest req, boolean keepOwners) {
    int fd = tree.openFile(node);
    try {
      out.file(dirfd, path, name, StagingTree.fromFd(fd, node.display()), new StagingTree.Attrs(
          req.mode() != null ? req.mode() : node.stat().permissions(), uid(node.stat(), req, keepOwners),
          gid(node.stat(), req, keepOwners)));
    } finally {
      Syscalls.close(fd);
    }
  }

  /** The owner a copied entry gets: --chown's, else the source's when its owners are kept, else root. */
  private static int uid(Stat st, CopyRequest req, boolean keepOwners) {
    return req.uid() == null && keepOwners ? st.uid() : req.ownerUid();
  }

  private static int gid(Stat st, CopyRequest req, boolean keepOwners) {
    return req.gid() == null && keepOwners ? st.gid() : req.ownerGid();
  }

  /** A file over a directory of the parent image would delete the directory; Docker refuses it too. */
  private static void refuseOverDirectory(StagingTree out, byte[] path, String what) {
    Stat there = out.inParent(path);
    if (there != null && there.isDirectory()) {
      throw LabenvException.badInput("cannot copy file " + what + " to /" + Names.display(path)
          + ": that is a directory in the parent image");
    }
  }

  // --- ADD of archives

  /** Docker's test: a regular file whose (possibly compressed) content starts with a valid tar entry. */
  private static boolean isArchive(SourceTree tree, SourceTree.Node node) {
    if (!node.stat().isRegular()) {
      return false;
    }
    int fd = tree.openFile(node);
    try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
        InputStream in = Decompression.open(Channels.newInputStream(ch))) {
      return new TarReader(in).next() != null;
    } catch (IOException | LabenvException e) {
      return false;
    } finally {
      Syscalls.close(fd);
    }
  }

  private static void extract(SourceTree tree, Selected s, StagingTree out, int dirfd, byte[] path, CopyRequest req) {
    int fd = tree.openFile(s.node());
    try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
        InputStream in = Decompression.open(Channels.newInputStream(ch))) {
      out.extract(in, s.source(), dirfd, path, req.uid() == null ? null
          : new StagingTree.Attrs(0, req.uid(), req.gid()));
    } catch (IOException e) {
      throw LabenvException.failed("ADD " + s.source() + ": reading " + tree.where() + ": " + e.getMessage(), e);
    } catch (LabenvException e) {
      if (e.kind() == LabenvException.Kind.BAD_INPUT) {
        throw LabenvException.badInput("ADD " + s.source() + ": " + e.getMessage());
      }
      throw e;
    } finally {
      Syscalls.close(fd);
    }
  }

  // --- selection

  private static List<List<Selected>> select(SourceTree tree, CopyRequest req) {
    if (req.sources().isEmpty()) {
      throw LabenvException.badInput(req.verb() + " failed: no source files were specified");
    }
    List<List<Selected>> out = new ArrayList<>();
    for (String source : req.sources()) {
      out.add(select(tree, req, source));
    }
    return out;
  }

  private static List<Selected> select(SourceTree tree, CopyRequest req, String source) {
    String verb = req.verb();
    if (source.startsWith("<<") && req.heredocs().containsKey(source.substring(2))) {
      String name = source.substring(2);
      return List.of(new Selected(source, name.getBytes(StandardCharsets.UTF_8), null,
          req.heredocs().get(name).getBytes(StandardCharsets.UTF_8)));
    }
    if (isRemote(source)) {
      throw LabenvException.badInput(req.add() ? "ADD of a URL is not supported; use RUN with curl/wget (" + source + ")"
          : "COPY source " + source + " is a URL: COPY copies local files only; use RUN with curl/wget");
    }
    int depth = 0;
    for (String c : source.split("/")) {
      if (c.equals("..")) {
        if (--depth < 0) {
          throw LabenvException.badInput(verb + " source " + source + " is outside " + tree.where());
        }
      } else if (!c.isEmpty() && !c.equals(".")) {
        depth++;
      }
    }
    String rel = GoPattern.clean("/" + source).substring(1);
    List<Selected> out = new ArrayList<>();
    if (GoPattern.hasWildcards(rel)) {
      List<String> parts = List.of(rel.split("/"));
      int first = 0;
      while (!GoPattern.hasWildcards(parts.get(first))) {
        first++;
      }
      SourceTree.Resolution base = tree.resolve(String.join("/", parts.subList(0, first))
          .getBytes(StandardCharsets.UTF_8), true, false);
      List<SourceTree.Node> matches = new ArrayList<>();
      if (base.found() == SourceTree.Found.FOUND && base.node().stat().isDirectory()) {
        try {
          glob(tree, base.node(), parts, first, matches);
        } catch (GoPattern.BadPatternException e) {
          throw LabenvException.badInput(verb + " source " + source + ": syntax error in pattern");
        }
      }
      if (matches.isEmpty()) {
        throw LabenvException.badInput(verb + " source " + source + " matches no files in " + tree.where());
      }
      for (SourceTree.Node m : matches) {
        SourceTree.Node node = m;
        if (m.stat().isSymlink()) {
          SourceTree.Resolution r = tree.resolve(m.path(), true, false);
          if (r.found() != SourceTree.Found.FOUND) {
            throw LabenvException.badInput(verb + " source " + source + ": \"" + m.display()
                + "\" is a symlink to nothing in " + tree.where());
          }
          node = r.node();
        }
        out.add(checked(new Selected(source, m.name(), node, null), tree, verb));
      }
      return out;
    }
    SourceTree.Resolution r = tree.resolve(rel.getBytes(StandardCharsets.UTF_8), true, false);
    if (r.found() != SourceTree.Found.FOUND) {
      String hint = r.found() == SourceTree.Found.IGNORED && !tree.ignoreFile().isEmpty()
          ? " (excluded by " + tree.ignoreFile() + ")" : "";
      throw LabenvException.badInput(verb + " source " + source + " not found in " + tree.where() + hint);
    }
    int slash = rel.lastIndexOf('/');
    byte[] name = rel.substring(slash + 1).getBytes(StandardCharsets.UTF_8);
    out.add(checked(new Selected(source, name, r.node(), null), tree, verb));
    return out;
  }

  private static Selected checked(Selected s, SourceTree tree, String verb) {
    Stat st = s.node().stat();
    if (!st.isRegular() && !st.isDirectory()) {
      throw LabenvException.badInput(verb + " source " + s.source() + ": \"" + s.node().display() + "\" in "
          + tree.where() + " is a " + kind(st) + "; only files, directories and symlinks can be copied");
    }
    return s;
  }

  /** Go's filepath.Walk matching in BuildKit: one pattern per component, descending only into real directories. */
  private static void glob(SourceTree tree, SourceTree.Node dir, List<String> parts, int i, List<SourceTree.Node> out)
      throws GoPattern.BadPatternException {
    boolean last = i == parts.size() - 1;
    for (SourceTree.Node child : tree.children(dir)) {
      if (!GoPattern.match(parts.get(i), new String(child.name(), StandardCharsets.UTF_8))) {
        continue;
      }
      if (last) {
        out.add(child);
      } else if (child.stat().isDirectory()) {
        glob(tree, child, parts, i + 1, out);
      }
    }
  }

  /** URLs and git repositories, as Docker recognises them for ADD. */
  private static boolean isRemote(String source) {
    String s = source.toLowerCase(Locale.ROOT);
    return s.startsWith("http://") || s.startsWith("https://") || s.startsWith("git://") || s.startsWith("git@")
        || s.startsWith("ssh://") || s.startsWith("ftp://");
  }

  private static LabenvException special(SourceTree.Node node, SourceTree tree) {
    return LabenvException.badInput("\"" + node.display() + "\" in " + tree.where() + " is a " + kind(node.stat())
        + "; only files, directories and symlinks can be copied");
  }

  private static String kind(Stat st) {
    return switch (st.type()) {
      case Libc.S_IFREG -> "file";
      case Libc.S_IFDIR -> "directory";
      case Libc.S_IFLNK -> "symlink";
      case Libc.S_IFCHR -> "character device";
      case Libc.S_IFBLK -> "block device";
      case Libc.S_IFIFO -> "fifo";
      case Libc.S_IFSOCK -> "socket";
      default -> "special file";
    };
  }

  // --- --chown and --chmod

  /**
   * Resolves {@code --chown=user[:group]} (names or numeric ids) through the image's /etc/passwd and /etc/group
   * (read inside {@code imageRoot}, symlinks confined to it). A user without a group gets the user's primary group
   * from passwd, a numeric uid without a group the same number as gid (BuildKit's rules); ":group" is user 0.
   *
   * @return {uid, gid}
   * @throws LabenvException BAD_INPUT for a name the image does not have
   */
  public static int[] resolveChown(String spec, Path imageRoot) {
    String user = spec;
    String group = null;
    int colon = spec.indexOf(':');
    if (colon >= 0) {
      user = spec.substring(0, colon);
      group = spec.substring(colon + 1);
    }
    if (user.isEmpty() && (group == null || group.isEmpty())) {
      throw LabenvException.badInput("--chown=" + spec + ": no user given");
    }
    int uid;
    int gid;
    if (user.isEmpty()) {
      uid = 0;
      gid = 0;
    } else if (isNumber(user)) {
      uid = id(user, spec);
      gid = uid;
    } else {
      String[] entry = lookup(imageRoot, "etc/passwd", user, spec, "user");
      uid = id(entry[2], spec);
      gid = id(entry[3], spec);
    }
    if (group != null && !group.isEmpty()) {
      gid = isNumber(group) ? id(group, spec) : id(lookup(imageRoot, "etc/group", group, spec, "group")[2], spec);
    }
    return new int[] {uid, gid};
  }

  private static boolean isNumber(String s) {
    return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  private static int id(String s, String spec) {
    try {
      long v = Long.parseLong(s);
      if (v >= 0 && v <= 0xfffffffeL) {
        return (int) v;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw LabenvException.badInput("--chown=" + spec + ": \"" + s + "\" is not a valid user or group id");
  }

  /** The fields of the line of {@code file} (passwd or group) whose first field is {@code name}. */
  private static String[] lookup(Path imageRoot, String file, String name, String spec, String what) {
    String content = null;
    try (SourceTree tree = SourceTree.open(imageRoot, IgnoreRules.none(), "the image")) {
      SourceTree.Resolution r = tree.resolve(file.getBytes(StandardCharsets.UTF_8), true, false);
      if (r.found() == SourceTree.Found.FOUND && r.node().stat().isRegular()) {
        int fd = tree.openFile(r.node());
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
            InputStream in = Channels.newInputStream(ch)) {
          content = new String(in.readNBytes(16 << 20), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw LabenvException.failed("reading /" + file + " of the image: " + e.getMessage(), e);
        } finally {
          Syscalls.close(fd);
        }
      }
    }
    if (content != null) {
      for (String line : content.split("\n")) {
        String[] fields = line.split(":", -1);
        if (fields.length >= (what.equals("user") ? 4 : 3) && fields[0].equals(name)) {
          return fields;
        }
      }
    }
    throw LabenvException.badInput("--chown=" + spec + ": no " + what + " \"" + name + "\" in the image's /" + file
        + (content == null ? " (the image has no /" + file + ")" : ""));
  }

  /**
   * Parses {@code --chmod}: octal permission bits such as 755 or 0644 (at most 07777).
   *
   * @throws LabenvException BAD_INPUT for anything else (symbolic modes like u+x are not supported)
   */
  public static int parseChmod(String spec) {
    if (spec != null && !spec.isEmpty() && spec.length() <= 12 && spec.chars().allMatch(c -> c >= '0' && c <= '7')) {
      long v = Long.parseLong(spec, 8);
      if (v <= 07777) {
        return (int) v;
      }
    }
    throw LabenvException.badInput("--chmod=" + spec + ": not an octal mode like 755 or 0644"
        + " (symbolic modes such as u+x are not supported)");
  }

  /** Feeds length-prefixed fields to sha256, so no two different inputs hash the same bytes. */
  private static final class Hasher {
    private final MessageDigest md = Digest.newSha256();
    private final ByteBuffer num = ByteBuffer.allocate(9);

    void number(long v) {
      num.clear();
      num.put((byte) 'n').putLong(v);
      md.update(num.array(), 0, 9);
    }

    void bytes(byte[] b) {
      num.clear();
      num.put((byte) 'b').putLong(b.length);
      md.update(num.array(), 0, 9);
      md.update(b);
    }

    void text(String s) {
      bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    byte[] digest() {
      return md.digest();
    }
  }
}
