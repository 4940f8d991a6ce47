package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;

class ExecTest {
  static final ContainerSpec SPEC = new ContainerSpec(
      new ContainerSpec.Process(List.of("sleep", "1"), List.of("PATH=/bin", "A=1", "B=2"), "/work",
          new ContainerSpec.User(1000, 1000, List.of(1000, 50))),
      new ContainerSpec.Root("/r", false), "box", List.of(), ContainerSpec.Network.NONE);

  static ExecRequest request(List<String> env, String cwd, String user) {
    // this test's own process stands in for the container's: -u resolves in its /etc/passwd
    return new ExecRequest(ProcessHandle.current().pid(), SPEC, List.of("sh", "-c", "x"), env, cwd, user, false,
        false, List.of());
  }

  @Test
  void theContainersProcessWithTheRequestsOverrides() {
    ContainerSpec.Process same = Exec.process(request(List.of(), null, null));
    assertEquals(new ContainerSpec.Process(List.of("sh", "-c", "x"), SPEC.process().env(), "/work",
        SPEC.process().user()), same);
    ContainerSpec.Process changed = Exec.process(request(List.of("B=3", "C=4=5"), "/tmp", "0"));
    assertEquals(List.of("PATH=/bin", "A=1", "B=3", "C=4=5"), changed.env());
    assertEquals("/tmp", changed.cwd());
    assertEquals(0, changed.user().uid());
    assertEquals(0, Exec.process(request(List.of(), null, "root")).user().gid());
    ExecRequest tty = new ExecRequest(1, SPEC, List.of("sh"), List.of(), null, null, true, true, List.of());
    assertEquals(List.of("PATH=/bin", "A=1", "B=2", "TERM=xterm"), Exec.process(tty).env());
  }

  @Test
  void badInput() {
    for (ExecRequest bad : List.of(request(List.of("=x"), null, null), request(List.of(), "rel", null),
        request(List.of(), null, "nosuchuser-xyz"),
        new ExecRequest(1, SPEC, List.of(), List.of(), null, null, false, false, List.of()))) {
      LabenvException e = assertThrows(LabenvException.class, () -> Exec.process(bad), bad::toString);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    }
  }

  @Test
  void nsenterEntersThePidNamespaceAndTheUserNamespaceOnlyWhenAsked() {
    List<String> root = Exec.command(42, false, Path.of("/tmp/s"), true, List.of(Path.of("/cg/cgroup.procs")));
    assertTrue(root.get(0).endsWith("/nsenter"), root::toString);
    assertEquals(List.of("--target", "42", "--pid", "--"), root.subList(1, 5));
    assertEquals(List.of("labenv.linux.SetnsInit", "42", "/tmp/s", "--tty", "/cg/cgroup.procs"),
        root.subList(root.size() - 5, root.size()));
    List<String> rootless = Exec.command(42, true, Path.of("/tmp/s"), false, List.of());
    assertEquals(List.of("--target", "42", "--pid", "--user", "--preserve-credentials", "--"), rootless.subList(1, 7));
    assertEquals(List.of("labenv.linux.SetnsInit", "42", "/tmp/s"), rootless.subList(rootless.size() - 3,
        rootless.size()));
  }

  @Test
  void noCgroupsToJoinWhereTheProcessIsInOurs() {
    assertEquals(List.of(), Exec.cgroupProcsFiles(ProcessHandle.current().pid()));
  }
}
