package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReceiverLimitsTest {
  static String config(String limits) {
    return """
        {"receivers": {"otlp": {"type": "otlp", "limits": %s}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["f"]}}}""".formatted(limits);
  }

  @Test
  void limitsAreReadWithDefaultsForWhatIsLeftOut() throws Exception {
    OtlpReceiverConfig c = (OtlpReceiverConfig) Components.configLoader()
        .parse(config("{\"max_connections\": 50, \"read_timeout\": \"5s\", \"max_header_bytes\": \"8KiB\"}"),
            Path.of(".")).receivers().get("otlp");
    assertThat(c.limits().maxConnections()).isEqualTo(50);
    assertThat(c.limits().readTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.limits().maxHeaderBytes()).isEqualTo(8192);
    assertThat(c.limits().maxAttributes()).isEqualTo(ReceiverLimits.DEFAULTS.maxAttributes());
  }

  @Test
  void everyBadLimitIsReportedWithItsPath() {
    List<String> problems;
    try {
      Components.configLoader().parse(config("{\"max_connections\": 0, \"read_timeout\": \"soon\", "
          + "\"max_value_depth\": 99, \"max_headers\": \"many\", \"idle_timeout\": \"48h\", \"max_pings\": 3}"),
          Path.of("."));
      throw new AssertionError("expected the config to be rejected");
    } catch (ConfigException e) {
      problems = e.problems();
    }
    assertThat(String.join("\n", problems)).contains("receivers.otlp.limits.max_connections")
        .contains("receivers.otlp.limits.read_timeout").contains("receivers.otlp.limits.max_value_depth")
        .contains("receivers.otlp.limits.max_headers").contains("receivers.otlp.limits.idle_timeout")
        .contains("receivers.otlp.limits.max_pings");
  }
}
