package labenv.container;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import labenv.LabenvException;
import labenv.image.Json;
import labenv.layer.LayerApplier;
import labenv.store.AtomicFile;
import labenv.store.ContentStore;

/**
 * The containers of a store, {@code <store>/containers/<id>/}: their state, names, logs and removal. There is no
 * daemon: each command reads the state files, and {@link #reconcile} finishes the record of a container whose
 * supervising process died (killed, machine rebooted) from what the kernel still shows.
 */
public final class Containers {
  static final String STATE = "state.json";
  static final String LOG = "container.log";
  /** {@code <name>} files holding the id of the container that has the name: created exclusively, so unique. */
  static final String NAMES = ".names";
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");

  private final Path root;

  public Containers(ContentStore store) {
    this.root = store.root().resolve(ContentStore.CONTAINERS_DIR);
  }

  public Path dir(String id) {
    return root.resolve(id);
  }

  public Path log(String id) {
    return dir(id).resolve(LOG);
  }

  /** Gives {@code name} to the container {@code id}; bad input when it is malformed or another container has it. */
  public void claimName(String name, String id) {
    if (!NAME.matcher(name).matches() || name.length() > 128) {
      throw LabenvException.badInput("container name \"" + name + "\": use letters, digits, '_', '.' and '-', "
          + "starting with a letter or digit");
    }
    Path file = root.resolve(NAMES).resolve(name);
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        Files.createDirectories(file.getParent());
        Files.write(file, (id + "\n").getBytes(StandardCharsets.US_ASCII), StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
        return;
      } catch (FileAlreadyExistsException e) {
        String holder = holder(file);
        if (holder != null && Files.isDirectory(dir(holder))) {
          throw LabenvException.badInput("container name \"" + name + "\" is in use by container "
              + holder.substring(0, Math.min(12, holder.length())) + ": remove it (labenv rm) or choose another name");
        }
        // The holder was removed without releasing the name (killed mid-removal): the name is free.
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // the retry reports it
        }
      } catch (IOException e) {
        throw LabenvException.failed("cannot record container name " + file + ": " + e.getMessage(), e);
      }
    }
    throw LabenvException.failed("cannot claim container name \"" + name + "\"");
  }

  private void releaseName(String name, String id) {
    Path file = root.resolve(NAMES).resolve(name);
    if (id.equals(holder(file))) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        throw LabenvException.failed("cannot release container name " + file + ": " + e.getMessage(), e);
      }
    }
  }

  private static String holder(Path nameFile) {
    try {
      return Files.readString(nameFile, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return null;
    }
  }

  /** The state as last written, or null when the container has none (being created, or removed). */
  public ContainerState read(String id) {
    Path f = dir(id).resolve(STATE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + f + ": " + e.getMessage(), e);
    }
    return Json.parse(bytes, ContainerState.class, f.toString());
  }

  /**
   * Replaces the state file. A rename makes it atomic for readers; it is not fsynced, because after a crash the
   * state is rebuilt from the kernel anyway ({@link #reconcile}), and every container start would pay for it.
   */
  public void write(ContainerState state) {
    Path f = dir(state.id()).resolve(STATE);
    Path temp = f.resolveSibling(AtomicFile.TEMP_PREFIX + STATE + "-" + ProcessHandle.current().pid() + "-"
        + Thread.currentThread().getId());
    try {
      Files.write(temp, Json.canonical(state));
      Files.move(temp, f, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // a leftover temporary file goes with the container
      }
      throw LabenvException.failed("cannot write " + f + ": " + e.getMessage(), e);
    }
  }

  /** Every container with a state, newest first, reconciled. */
  public List<ContainerState> list() {
    List<ContainerState> all = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return all;
    }
    try (var dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        String id = d.getFileName().toString();
        if (id.startsWith(".")) {
          continue;
        }
        ContainerState s = read(id);
        if (s != null) {
          s = reconcile(s);
          if (s != null) {
            all.add(s);
          }
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + root + ": " + e.getMessage(), e);
    }
    all.sort(Comparator.comparing(ContainerState::created, Comparator.reverseOrder()));
    return all;
  }

  /** The container named, or with this id or unique id prefix; reconciled. Bad input when there is none. */
  public ContainerState find(String ref) {
    if (ref.isEmpty()) {
      throw LabenvException.badInput("container name or id is empty");
    }
    if (NAME.matcher(ref).matches()) {
      String holder = holder(root.resolve(NAMES).resolve(ref));
      if (holder != null) {
        ContainerState s = read(holder);
        if (s != null) {
          return orGone(reconcile(s), ref);
        }
      }
    }
    if (ref.matches("[0-9a-f]+")) {
      List<String> matches = new ArrayList<>();
      if (Files.isDirectory(root)) {
        try (var dirs = Files.newDirectoryStream(root, ref + "*")) {
          dirs.forEach(d -> matches.add(d.getFileName().toString()));
        } catch (IOException e) {
          throw LabenvException.failed("cannot list " + root + ": " + e.getMessage(), e);
        }
      }
      if (matches.size() > 1) {
        throw LabenvException.badInput("container id prefix " + ref + " is ambiguous (" + matches.size()
            + " containers): give more digits");
      }
      if (matches.size() == 1) {
        ContainerState s = read(matches.get(0));
        if (s != null) {
          return orGone(reconcile(s), ref);
        }
      }
    }
    throw LabenvException.badInput("no such container: " + ref + " (labenv ps -a lists them)");
  }

  private static ContainerState orGone(ContainerState s, String ref) {
    if (s == null) {
      throw LabenvException.badInput("no such container: " + ref + " (it was removed when it exited)");
    }
    return s;
  }

  /**
   * The state as it really is. While the supervising process lives, the file is right. When it died, a container
   * whose first process still runs is running (unsupervised: nobody will see its exit status), and one whose
   * process is gone has exited, with its exit status unknown; its root filesystem and cgroups are released then,
   * and it is removed if it was started with {@code --rm} (null is returned).
   */
  public ContainerState reconcile(ContainerState s) {
    if (s.status() == ContainerState.Status.exited || Processes.alive(s.monitorPid(), s.monitorStartTime())) {
      return s;
    }
    if (s.status() == ContainerState.Status.created && s.monitorPid() == 0) {
      return s; // made, not started (the starter sets itself as monitor first)
    }
    try (Lock lock = lock(s.id())) {
      if (lock == null) {
        return read(s.id());
      }
      ContainerState now = read(s.id());
      if (now == null || now.status() == ContainerState.Status.exited
          || Processes.alive(now.monitorPid(), now.monitorStartTime())) {
        return now;
      }
      if (now.status() == ContainerState.Status.running && Processes.alive(now.pid(), now.pidStartTime())) {
        return now;
      }
      String why = now.status() == ContainerState.Status.running
          ? "labenv's process that supervised it (pid " + now.monitorPid() + ") died; its exit status is unknown"
          : "labenv's process that started it (pid " + now.monitorPid() + ") died before it ran";
      ContainerState ended = now.exited(null, false, why);
      release(ended);
      write(ended);
      if (ended.autoRemove()) {
        removeLocked(ended);
        return null;
      }
      return ended;
    }
  }

  /** Unmounts the root filesystem and removes the cgroups of a container that no longer runs. */
  void release(ContainerState s) {
    Rootfs.existing(dir(s.id())).release();
    Cgroups.removeGroups(s.cgroups().stream().map(Path::of).toList());
  }

  /** Removes a container that does not run: its root filesystem, writes, logs, state and name. */
  public void remove(ContainerState s) {
    try (Lock lock = lock(s.id())) {
      ContainerState now = read(s.id());
      if (now != null && now.isRunning() && Processes.alive(now.pid(), now.pidStartTime())) {
        throw LabenvException.failed("container " + s.shortId() + " is running: stop it first, or rm -f");
      }
      removeLocked(now != null ? now : s);
    }
  }

  private void removeLocked(ContainerState s) {
    release(s);
    discard(s.id(), s.name());
  }

  /** Removes a container's directory and name, whatever its state: for one that never started. */
  void discard(String id, String name) {
    if (name != null) {
      releaseName(name, id);
    }
    // First the state, so a concurrent ps stops listing it even if the rest takes a while.
    try {
      Files.deleteIfExists(dir(id).resolve(STATE));
    } catch (IOException e) {
      throw LabenvException.failed("cannot remove " + dir(id).resolve(STATE) + ": " + e.getMessage(), e);
    }
    if (Files.exists(dir(id))) {
      new LayerApplier().remove(dir(id));
    }
  }

  /** Sends {@code signal} to the container's first process; failed when it is not running. */
  public void signal(ContainerState s, int signal) {
    if (!s.isRunning() || !Processes.alive(s.pid(), s.pidStartTime())) {
      throw LabenvException.failed("container " + s.shortId() + " is not running");
    }
    try {
      labenv.linux.Libc.kill((int) s.pid(), signal);
    } catch (com.sun.jna.LastErrorException e) {
      if (e.getErrorCode() != labenv.linux.Libc.ESRCH) {
        throw LabenvException.failed("kill container " + s.shortId() + ": "
            + labenv.linux.Libc.errorText(e.getErrorCode()), e);
      }
    }
  }

  /**
   * Stops a running container as docker does: {@code signal} (SIGTERM) to its first process, SIGKILL after
   * {@code timeoutSeconds} if it is still there. A process that is pid 1 of its namespace gets a signal only if it
   * handles it, so a command without a SIGTERM handler waits out the timeout. Returns the final state.
   */
  public ContainerState stop(ContainerState s, int signal, long timeoutSeconds) {
    if (s.isRunning() && Processes.alive(s.pid(), s.pidStartTime())) {
      if (timeoutSeconds > 0) {
        signal(s, signal);
      }
      long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
      while (Processes.alive(s.pid(), s.pidStartTime()) && System.nanoTime() < deadline) {
        sleep(20);
      }
      if (Processes.alive(s.pid(), s.pidStartTime())) {
        signal(s, labenv.linux.Libc.SIGKILL);
      }
      // Its supervisor records the end at once; bounded, should that process be stuck.
      return awaitExit(s.id(), 30_000);
    }
    ContainerState now = read(s.id());
    return now == null ? null : reconcile(now);
  }

  /**
   * Waits until the container has exited and its supervisor has recorded it (or, supervisor gone, until
   * {@link #reconcile} has); returns its final state, null when it was removed ({@code --rm}). Waits at most
   * {@code timeoutMillis} (forever when negative) and then returns the state as it is.
   */
  public ContainerState awaitExit(String id, long timeoutMillis) {
    long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000;
    while (true) {
      ContainerState now = read(id);
      if (now == null) {
        return null;
      }
      now = reconcile(now);
      boolean neverStarted = now != null && now.status() == ContainerState.Status.created && now.monitorPid() == 0;
      if (now == null || neverStarted || now.status() == ContainerState.Status.exited
          || System.nanoTime() > deadline) {
        return now;
      }
      sleep(20);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw LabenvException.failed("interrupted");
    }
  }

  /** The short ids of the containers, whatever their state, that mount {@code source} (a volume's data). */
  public List<String> using(Path source) {
    List<String> users = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return users;
    }
    try (var dirs = Files.newDirectoryStream(root)) {
      for (Path d : dirs) {
        Path spec = d.resolve(Launcher.INIT_SPEC);
        if (d.getFileName().toString().startsWith(".") || !Files.isRegularFile(spec)) {
          continue;
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(spec)))) {
          for (ContainerSpec.Mount m : ContainerSpec.read(in).mounts()) {
            if (m.source() != null && Path.of(m.source()).equals(source)) {
              String id = d.getFileName().toString();
              users.add(id.substring(0, Math.min(12, id.length())));
              break;
            }
          }
        } catch (IOException e) {
          // removed meanwhile
        }
      }
    } catch (IOException e) {
      throw LabenvException.failed("cannot list " + root + ": " + e.getMessage(), e);
    }
    return users;
  }

  /** The container's spec and root filesystem, as the process that created it left them. */
  public Container container(ContainerState s) {
    Path dir = dir(s.id());
    Path spec = dir.resolve(Launcher.INIT_SPEC);
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(spec)))) {
      return new Container(s.id(), s.name(), dir, ContainerSpec.read(in), Rootfs.existing(dir));
    } catch (IOException e) {
      throw LabenvException.failed("cannot read " + spec + ": " + e.getMessage(), e);
    }
  }

  /** An exclusive lock on one container's record, or null when the container is gone. */
  private Lock lock(String id) {
    Path f = dir(id).resolve("lock");
    try {
      FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      return new Lock(ch, ch.lock());
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw LabenvException.failed("cannot lock " + f + ": " + e.getMessage(), e);
    }
  }

  private record Lock(FileChannel channel, FileLock lock) implements AutoCloseable {
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing releases the lock; nothing to do if it fails
      }
    }
  }
}
