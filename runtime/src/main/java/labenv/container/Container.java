package labenv.container;

import java.nio.file.Path;

/**
 * A container on disk: {@code <store>/containers/<id>/} holding {@code config.json} (the spec, for
 * people and tools), {@code init.spec} (the same, for {@link labenv.linux.Init}) and {@code rootfs/}.
 */
public record Container(String id, String name, Path dir, ContainerSpec spec, Rootfs rootfs) {
  public Path initSpec() {
    return dir.resolve(Launcher.INIT_SPEC);
  }
}
