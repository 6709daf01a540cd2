package dev.telemetry.gateway.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JvmOptionsTest {
  static final long MIB = 1024L * 1024;

  @Test
  void theLimitComesFromTheEnvironmentThenTheConfigThenTheCgroupThenTheDefault() {
    assertThat(JvmOptions.limit("1GiB", 2048 * MIB, 4096 * MIB)).isEqualTo(new JvmOptions.Limit(1024 * MIB,
        "GATEWAY_MEMORY_LIMIT"));
    assertThat(JvmOptions.limit(null, 2048 * MIB, 4096 * MIB).source()).isEqualTo("memory_limit.process");
    assertThat(JvmOptions.limit(" ", 0, 4096 * MIB)).isEqualTo(new JvmOptions.Limit(4096 * MIB, "cgroup"));
    assertThat(JvmOptions.limit(null, 0, null)).isEqualTo(new JvmOptions.Limit(1536 * MIB, "default"));
    assertThat(JvmOptions.limit("768M", 0, null).bytes()).isEqualTo(768 * MIB);
    assertThatThrownBy(() -> JvmOptions.limit("100MiB", 0, null)).hasMessageContaining("at least 384MiB");
    assertThatThrownBy(() -> JvmOptions.limit("lots", 0, null)).hasMessageContaining("e.g. 1GiB");
  }

  @Test
  void theHeapLeavesRoomForWhatTheJvmUsesBesideIt() {
    // At -Xmx1g the side-by-side load peaks at 1.2 GB RSS (docs/benchmarks.md): 1.5 GiB must give about that heap.
    assertThat(JvmOptions.options(1536 * MIB)).containsExactly("-Xmx1008m", "-XX:MaxDirectMemorySize=192m",
        "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError");
    for (long limit : new long[] {384 * MIB, 512 * MIB, 1024 * MIB, 4096 * MIB, 16384 * MIB}) {
      long heap = Long.parseLong(JvmOptions.options(limit).get(0).replaceAll("\\D", "")) * MIB;
      assertThat(heap).as("heap for %d MiB", limit / MIB).isPositive()
          .isLessThanOrEqualTo(limit - 192 * MIB - (limit - 192 * MIB) / 4);
    }
  }

  @Test
  void readsTheUnitsOwnCgroupThenTheNamespaceRootThenVersionOne(@TempDir Path root) throws Exception {
    assertThat(JvmOptions.cgroupLimit(root, null)).isNull();
    Files.createDirectories(root.resolve("memory"));
    Files.writeString(root.resolve("memory/memory.limit_in_bytes"), "9223372036854771712\n");
    assertThat(JvmOptions.cgroupLimit(root, null)).as("v1 unlimited").isNull();
    Files.writeString(root.resolve("memory/memory.limit_in_bytes"), "536870912\n");
    assertThat(JvmOptions.cgroupLimit(root, null)).isEqualTo(512 * MIB);
    Files.writeString(root.resolve("memory.max"), "max\n");
    assertThat(JvmOptions.cgroupLimit(root, "0::/\n")).as("v2 root without a limit").isNull();
    Path unit = Files.createDirectories(root.resolve("system.slice/telemetry-gateway.service"));
    Files.writeString(unit.resolve("memory.max"), "1610612736\n");
    assertThat(JvmOptions.cgroupLimit(root, "0::/system.slice/telemetry-gateway.service\n"))
        .isEqualTo(1536 * MIB);
  }
}
