package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import labenv.LabenvException;
import org.junit.jupiter.api.Test;

class LimitsTest {
  @Test
  void memoryTakesDockersUnits() {
    assertEquals(64L << 20, Limits.memory("64m"));
    assertEquals(64L << 20, Limits.memory("64MB"));
    assertEquals(1L << 30, Limits.memory("1g"));
    assertEquals(8L << 20, Limits.memory("8192k"));
    assertEquals(10_000_000L, Limits.memory("10000000"));
    assertEquals(10_000_000L, Limits.memory("10000000b"));
  }

  @Test
  void badMemoryIsBadInput() {
    for (String bad : new String[] {"", "m", "12x", "1.5g", "-5m", "1k", "99999999999999999999g", "64 m"}) {
      LabenvException e = assertThrows(LabenvException.class, () -> Limits.memory(bad), bad);
      assertEquals(LabenvException.Kind.BAD_INPUT, e.kind(), bad);
      assertTrue(e.getMessage().startsWith("--memory \"" + bad + "\""), e.getMessage());
    }
  }

  @Test
  void cpusAreMicrosecondsPerTenthOfASecond() {
    assertEquals(50_000, Limits.cpuQuota("0.5"));
    assertEquals(200_000, Limits.cpuQuota("2"));
    assertEquals(150_000, Limits.cpuQuota("1.5"));
    assertEquals(1_000, Limits.cpuQuota(".01"));
    for (String bad : new String[] {"", "0", "0.001", "-1", "half", "1e3", "2000"}) {
      assertThrows(LabenvException.class, () -> Limits.cpuQuota(bad), bad);
    }
  }

  @Test
  void pidsArePositiveOrMinusOneForNone() {
    assertEquals(5, Limits.pids("5"));
    assertEquals(0, Limits.pids("-1"));
    for (String bad : new String[] {"0", "-2", "x", "1.5", ""}) {
      assertThrows(LabenvException.class, () -> Limits.pids(bad), bad);
    }
  }

  @Test
  void bytesInTheLargestExactUnit() {
    assertEquals("32m", Limits.bytes(32L << 20));
    assertEquals("1g", Limits.bytes(1L << 30));
    assertEquals("1536k", Limits.bytes(1536L << 10));
    assertEquals("1000b", Limits.bytes(1000));
  }
}
