package dev.telemetry.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import dev.telemetry.gateway.component.Components;
import java.nio.file.Path;

/**
 * The gateway config loader on arbitrary text: a config or a ConfigException listing every problem with its JSON
 * path — never another exception (a typo in a config must never look like a crash).
 */
class ConfigLoaderFuzzTest {
  private static final Path BASE = Path.of("target", "fuzz-config-base");

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    try {
      assertThat(Components.configLoader().parse(text, BASE)).isNotNull();
    } catch (ConfigException expected) {
      assertThat(expected.problems()).isNotEmpty();
    }
  }
}
