package labenv.container;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RootfsTest {
  @Test
  void lowerdirIsTopmostFirstAndSeparatorsInPathsAreEscaped() {
    String data = Rootfs.options(List.of(Path.of("/s/bottom"), Path.of("/s/mid,dle"), Path.of("/s/t:op")),
        Path.of("/c/up\\per"), Path.of("/c/work"));
    assertEquals("lowerdir=/s/t\\:op:/s/mid\\,dle:/s/bottom,upperdir=/c/up\\\\per,workdir=/c/work", data);
  }
}
