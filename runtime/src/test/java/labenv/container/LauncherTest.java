package labenv.container;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import labenv.LabenvException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {
  @TempDir Path sys;

  private void knob(String path, String value) throws Exception {
    Files.createDirectories(sys.resolve(path).getParent());
    Files.writeString(sys.resolve(path), value + "\n");
  }

  @Test
  void userNamespacesOffIsNamedWithTheKnobToTurn() throws Exception {
    assertDoesNotThrow(() -> Launcher.userNamespacesAllowed(sys), "no knobs: an older kernel that allows them");
    knob("user/max_user_namespaces", "15000");
    knob("kernel/unprivileged_userns_clone", "1");
    assertDoesNotThrow(() -> Launcher.userNamespacesAllowed(sys));
    knob("kernel/unprivileged_userns_clone", "0");
    LabenvException e = assertThrows(LabenvException.class, () -> Launcher.userNamespacesAllowed(sys));
    assertTrue(e.getMessage().contains("kernel.unprivileged_userns_clone"), e::getMessage);
    knob("user/max_user_namespaces", "0");
    e = assertThrows(LabenvException.class, () -> Launcher.userNamespacesAllowed(sys));
    assertTrue(e.getMessage().contains("user.max_user_namespaces = 0") && !e.getMessage().contains("\n"),
        e::getMessage);
  }
}
