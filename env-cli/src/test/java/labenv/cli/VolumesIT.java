package labenv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import labenv.cli.RunIT.Proc;
import labenv.image.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Named volumes, tmpfs and {@code --mount} through {@code labenv run} and {@code labenv volume}, on the real kernel. */
class VolumesIT {
  @TempDir static Path shared;
  @TempDir Path tmp;

  @BeforeAll
  static void image() throws Exception {
    RunIT.busyboxImage(shared, List.of("stat", "cut"));
  }

  static Proc volume(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", RunIT.JAR.toString(), "volume"));
    cmd.addAll(List.of(args));
    return RunIT.exec(cmd);
  }

  /** As docker: a volume a container still mounts (even an exited one) cannot be removed under it. */
  @Test
  void aVolumeInUseByAContainerIsNotRemoved() throws Exception {
    Proc run = RunIT.run("--name", "holder1", "-v", "held1:/data", RunIT.IMAGE, "sh", "-c", "echo x > /data/f");
    assertEquals(0, run.code(), run::toString);
    Proc rm = volume("rm", "held1");
    assertEquals(1, rm.code(), rm::toString);
    assertTrue(rm.err().startsWith("labenv: volume held1 is in use by container ") && rm.err().contains("labenv rm"),
        rm::toString);
    assertEquals(0, RunIT.exec(List.of("java", "-jar", RunIT.JAR.toString(), "rm", "holder1")).code());
    assertEquals(new Proc(0, "held1\n", ""), volume("rm", "held1"));
  }

  @Test
  void aNamedVolumeKeepsItsDataAcrossContainersUntilRemoved() throws Exception {
    Proc write = RunIT.sh("echo kept > /data/f", "-v", "keep1:/data");
    assertEquals(0, write.code(), write::toString);
    Proc read = RunIT.sh("cat /data/f", "--mount", "type=volume,source=keep1,target=/data");
    assertEquals(new Proc(0, "kept\n", ""), read);

    Proc ls = volume("ls", "--format", "json");
    assertEquals(0, ls.code(), ls::toString);
    JsonNode list = Json.tree(ls.out().getBytes(StandardCharsets.UTF_8), "volume ls");
    assertEquals(1, list.size(), ls::toString);
    assertEquals("keep1", list.get(0).path("name").asText());
    Path mountpoint = Path.of(list.get(0).path("mountpoint").asText());
    assertEquals("kept\n", Files.readString(mountpoint.resolve("f")), "the data lives in the store");
    assertTrue(mountpoint.startsWith(RunIT.home), mountpoint::toString);

    Proc inspect = volume("inspect", "keep1");
    assertEquals(0, inspect.code(), inspect::toString);
    assertTrue(inspect.out().contains("\"keep1\""), inspect::toString);

    Proc rm = volume("rm", "keep1");
    assertEquals(new Proc(0, "keep1\n", ""), rm);
    assertFalse(Files.exists(mountpoint));
    assertEquals(new Proc(0, "", ""), volume("ls", "-q"));
    Proc again = volume("inspect", "keep1");
    assertEquals(2, again.code(), again::toString);
    Proc fresh = RunIT.sh("ls /data", "-v", "keep1:/data");
    assertEquals(new Proc(0, "", ""), fresh, "a removed volume comes back empty");
    volume("rm", "keep1");
  }

  @Test
  void volumeCreateValidatesTheNameAndIsIdempotent() throws Exception {
    assertEquals(new Proc(0, "made.1\n", ""), volume("create", "made.1"));
    assertEquals(new Proc(0, "made.1\n", ""), volume("create", "made.1"));
    Proc bad = volume("create", "-bad");
    assertEquals(2, bad.code(), bad::toString);
    Proc bad2 = volume("create", ".hidden");
    assertEquals(2, bad2.code(), bad2::toString);
    assertEquals(1, bad2.err().lines().count(), bad2::toString);
    assertEquals(new Proc(0, "made.1\n", ""), volume("rm", "made.1"));
  }

  @Test
  void aTmpfsIsWritableEmptyEachRunAndATmpfs() throws Exception {
    String script = "ls -A /scratch; echo x > /scratch/a && cat /scratch/a; stat -c %a /scratch;"
        + " grep ' /scratch ' /proc/mounts | cut -d' ' -f1,3,4";
    for (int i = 0; i < 2; i++) {
      Proc p = RunIT.sh(script.replace("cut -d' ' -f1,3,4", "cat"), "--tmpfs", "/scratch");
      assertEquals(0, p.code(), p::toString);
      List<String> lines = p.out().lines().toList();
      assertEquals("x", lines.get(0), "empty, then written: " + p);
      assertEquals("1777", lines.get(1), p::toString);
      String[] mount = lines.get(2).split(" ");
      assertEquals("tmpfs", mount[2], p::toString);
      assertTrue(List.of(mount[3].split(",")).containsAll(List.of("rw", "nosuid", "nodev")), p::toString);
    }
  }

  @Test
  void aMountedTmpfsTakesItsSizeAndModeAndStaysOffTheRoot() throws Exception {
    Proc p = RunIT.sh("stat -c %a /t; grep ' /t ' /proc/mounts; echo y > /t/y && cat /t/y",
        "--mount", "type=tmpfs,destination=/t,tmpfs-size=1048576,tmpfs-mode=750", "--read-only");
    assertEquals(0, p.code(), p::toString);
    List<String> lines = p.out().lines().toList();
    assertEquals("750", lines.get(0), p::toString);
    assertTrue(lines.get(1).contains("size=1024k"), p::toString);
    assertEquals("y", lines.get(2), p::toString);
  }

  @Test
  void aReadOnlyMountCannotBeWrittenNorRemountedWritable() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("f"), "bound\n");
    String script = "cat /b/f; touch /b/x 2>/dev/null || echo ro; mount -o remount,rw /b 2>/dev/null || echo locked;"
        + " touch /b/x 2>/dev/null || echo still-ro;"
        + " touch /v/x 2>/dev/null || echo ro; mount -o remount,rw /v 2>/dev/null || echo locked;"
        + " touch /t/x 2>/dev/null || echo ro; mount -o remount,rw /t 2>/dev/null || echo locked";
    Proc p = RunIT.sh(script, "--mount", "type=bind,source=" + data + ",target=/b,readonly",
        "--mount", "type=volume,src=rovol,dst=/v,ro=true", "--mount", "type=tmpfs,target=/t,readonly");
    assertEquals(List.of("bound", "ro", "locked", "still-ro", "ro", "locked", "ro", "locked"), p.out().lines().toList(),
        p::toString);
    assertFalse(Files.exists(data.resolve("x")));
    volume("rm", "rovol");
  }

  @Test
  void aMalformedMountExits125WithOneLine() throws Exception {
    for (String bad : List.of("type=bind,target=/x", "type=nfs,source=a,target=/x", "target=/x",
        "type=tmpfs,target=relative", "type=volume,source=a/b,target=/x", "type=tmpfs,target=/x,bogus=1",
        "type=tmpfs,target=/x,tmpfs-size=big", "type=bind,source=" + tmp.resolve("missing") + ",target=/x")) {
      Proc p = RunIT.sh("true", "--mount", bad);
      assertEquals(125, p.code(), p::toString);
      assertEquals(1, p.err().lines().count(), p::toString);
      assertTrue(p.err().startsWith("labenv: --mount \""), p::toString);
    }
    Proc tmpfs = RunIT.sh("true", "--tmpfs", "/x:size=1m,suid");
    assertEquals(125, tmpfs.code(), tmpfs::toString);
    assertEquals(1, tmpfs.err().lines().count(), tmpfs::toString);
    assertTrue(Files.notExists(RunIT.home.resolve("volumes").resolve("a")), "nothing created on bad input");
  }
}
