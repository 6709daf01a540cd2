package dev.telemetry.gateway.processor.enrichment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.SdkTelemetry;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OTLP in, enrichment (static, environment, lookup table with hot reload), OTLP out to an in-process backend. */
class EnrichmentIT {
  @TempDir
  Path tmp;

  static Map<String, String> resourceAttrs(ResourceSpans rs) {
    return rs.getResource().getAttributesList().stream()
        .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue(), (a, b) -> b));
  }

  @Test
  void spansLeaveEnrichedAndTablesReloadWithoutARestart() throws Exception {
    Path teams = tmp.resolve("teams.csv");
    Files.writeString(teams, "service.name,team,tier\nenrich-svc,payments,1\n");
    String config = """
        {
          "receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": false}},
          "processors": {"enrich": {"type": "enrichment",
            "resource": {"upsert": {"gateway.region": "${env:GATEWAY_TEST_REGION:-eu-west-1}"}, "delete": ["telemetry.sdk.version"]},
            "items": {"insert": {"enriched.by": "gateway"}},
            "lookups": [{"file": "%s", "key": "service.name", "reload_interval": "100ms"}]}},
          "exporters": {"jaeger": {"type": "otlp", "endpoint": "{{SINK}}", "batch": {"timeout": "5ms"}}},
          "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["enrich"], "exporters": ["jaeger"]}},
          "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
          "logging": {"level": "warn"}
        }""".formatted(teams);
    Vertx sinkVertx = Vertx.vertx();
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness gw = GatewayHarness.start(config, Map.of("SINK", sink.endpoint()));
         OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      assertThat(exporter.export(SdkTelemetry.spans("enrich-svc", 2)).join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      Await.until("6 spans at the backend", Duration.ofSeconds(10), () -> sink.spans().size() == 6);
      ResourceSpans rs = sink.traceRequests().get(0).getResourceSpans(0);
      assertThat(resourceAttrs(rs)).containsEntry("team", "payments").containsEntry("tier", "1")
          .containsEntry("gateway.region", "eu-west-1").containsEntry("service.name", "enrich-svc")
          .doesNotContainKey("telemetry.sdk.version");
      assertThat(sink.spans()).allSatisfy(s -> assertThat(s.getAttributesList()).anyMatch(
          kv -> kv.getKey().equals("enriched.by") && kv.getValue().getStringValue().equals("gateway")));

      Files.writeString(teams, "service.name,team,tier\nenrich-svc,checkout,2\n");
      Files.setLastModifiedTime(teams, FileTime.fromMillis(System.currentTimeMillis() + 5000));
      Await.until("spans carry the reloaded team", Duration.ofSeconds(20), () -> {
        exporter.export(SdkTelemetry.spans("enrich-svc", 1)).join(10, TimeUnit.SECONDS);
        return sink.traceRequests().stream().flatMap(r -> r.getResourceSpansList().stream())
            .anyMatch(r -> "checkout".equals(resourceAttrs(r).get("team")));
      });
    } finally {
      sinkVertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
