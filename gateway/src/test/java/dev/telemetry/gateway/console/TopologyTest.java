package dev.telemetry.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.config.GatewayConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class TopologyTest {
  static final String CONFIG = """
      {"receivers": {"otlp": {"type": "otlp"}},
       "processors": {"pii": {"type": "redaction", "rules": [{"name": "e", "detector": "email", "action": "mask"}]},
                      "sampler": {"type": "tail_sampling", "memory_budget": "64MiB",
                                  "policies": [{"name": "all", "type": "always_sample"}]}},
       "connectors": {"red": {"type": "span_metrics"}},
       "exporters": {"jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:1"},
                     "files": {"type": "file", "directory": "/tmp/x"}},
       "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["pii", "sampler"], "exporters": ["jaeger", "red"]},
                     "metrics": {"receivers": ["otlp", "red"], "exporters": ["files"]}}}""";

  @Test
  void theConfiguredGraphWithEachComponentsMeters() throws Exception {
    GatewayConfig config = Components.configLoader().parse(CONFIG, Path.of("."));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Counter.builder("gateway.receiver.items.received").tag("receiver", "otlp").tag("signal", "traces")
        .register(registry).increment(42);
    Counter.builder("gateway.exporter.items.sent").tag("exporter", "jaeger").tag("signal", "traces")
        .register(registry).increment(7);
    Gauge.builder("gateway.queue.items", () -> 3).tag("exporter", "jaeger").register(registry);
    Gauge.builder("gateway.memory.charged", () -> 1024).baseUnit("bytes").register(registry);
    Counter.builder("gateway.receiver.items.received").tag("receiver", "elsewhere").register(registry).increment();
    Counter.builder("unrelated.meter").register(registry).increment();
    Topology topology = new Topology(config, registry, null, Clock.fixed(Instant.ofEpochSecond(100),
        ZoneOffset.UTC));

    JsonObject view = topology.view();
    assertThat(view.getLong("at_ms")).isEqualTo(100_000);
    assertThat(ids(view.getJsonArray("nodes"))).containsExactlyInAnyOrder("receiver:otlp", "processor:pii",
        "processor:sampler", "connector:red", "exporter:jaeger", "exporter:files");
    JsonObject traces = view.getJsonArray("pipelines").getJsonObject(0);
    assertThat(traces.getJsonArray("processors").getList()).containsExactly("processor:pii", "processor:sampler");
    assertThat(traces.getJsonArray("exporters").getList()).containsExactly("exporter:jaeger", "connector:red");
    JsonObject metrics = view.getJsonArray("pipelines").getJsonObject(1);
    assertThat(metrics.getJsonArray("receivers").getList()).containsExactly("receiver:otlp", "connector:red");

    JsonObject otlp = node(view, "receiver:otlp");
    assertThat(otlp.getJsonArray("metrics")).hasSize(1);
    JsonObject received = otlp.getJsonArray("metrics").getJsonObject(0);
    assertThat(received.getString("name")).isEqualTo("gateway_receiver_items_received_total");
    assertThat(received.getJsonObject("tags").getMap()).containsExactly(java.util.Map.entry("signal", "traces"));
    assertThat(received.getDouble("value")).isEqualTo(42);
    JsonObject jaeger = node(view, "exporter:jaeger");
    assertThat(jaeger.getJsonObject("queue").getString("type")).isEqualTo("memory");
    assertThat(jaeger.getJsonArray("metrics").stream().map(m -> ((JsonObject) m).getString("name")))
        .containsExactlyInAnyOrder("gateway_exporter_items_sent_total", "gateway_queue_items");
    assertThat(node(view, "processor:sampler").getLong("memory_budget_bytes")).isEqualTo(64L << 20);
    assertThat(view.getJsonArray("metrics").stream().map(m -> ((JsonObject) m).getString("name")))
        .containsExactly("gateway_memory_charged_bytes");
    assertThat(view.containsKey("cluster")).isFalse();
  }

  static java.util.List<String> ids(JsonArray nodes) {
    return nodes.stream().map(n -> ((JsonObject) n).getString("id")).toList();
  }

  static JsonObject node(JsonObject view, String id) {
    return view.getJsonArray("nodes").stream().map(n -> (JsonObject) n).filter(n -> n.getString("id").equals(id))
        .findFirst().orElseThrow();
  }
}
