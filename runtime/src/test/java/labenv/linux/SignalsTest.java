package labenv.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import labenv.LabenvException;
import org.junit.jupiter.api.Test;

class SignalsTest {
  @Test
  void namesWithOrWithoutSigAndNumbers() {
    assertEquals(15, Signals.parse("TERM"));
    assertEquals(15, Signals.parse("SIGTERM"));
    assertEquals(9, Signals.parse("kill"));
    assertEquals(10, Signals.parse("SIGUSR1"));
    assertEquals(12, Signals.parse("usr2"));
    assertEquals(1, Signals.parse("HUP"));
    assertEquals(28, Signals.parse("WINCH"));
    assertEquals(9, Signals.parse("9"));
    assertEquals(34, Signals.parse("34"));
  }

  @Test
  void unknownSignalsAreBadInput() {
    for (String s : new String[] {"FOO", "0", "65", "-1", "", "SIG"}) {
      LabenvException e = assertThrows(LabenvException.class, () -> Signals.parse(s), s);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind());
    }
  }
}
