package dev.telemetry.gateway.processor.redaction;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** PII in spans (from the SDK) and logs (raw OTLP/JSON) is redacted between the OTLP receiver and the backend. */
class RedactionIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "processors": {
          "enrich": {"type": "enrichment", "resource": {"insert": {"support.contact": "oncall@example.com"}}},
          "pii": {"type": "redaction", "hash_key": "it-secret-key-0123456789", "summary": true,
            "blocked_keys": ["password"],
            "rules": [
              {"name": "emails", "detector": "email", "action": "mask"},
              {"name": "cards", "detector": "credit_card", "action": "hash"},
              {"name": "tokens", "detector": "bearer_token", "action": "drop"}]}},
        "exporters": {"backend": {"type": "otlp", "endpoint": "{{SINK}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "processors": ["enrich", "pii"], "exporters": ["backend"]},
          "logs": {"receivers": ["otlp"], "processors": ["pii"], "exporters": ["backend"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  static Map<String, String> strings(java.util.List<KeyValue> kvs) {
    return kvs.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasStringValue()
        ? kv.getValue().getStringValue() : String.valueOf(kv.getValue().getIntValue())));
  }

  @Test
  void piiNeverReachesTheBackend() throws Exception {
    Vertx sinkVertx = Vertx.vertx();
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("SINK", sink.endpoint()))) {
      InMemorySpanExporter memory = InMemorySpanExporter.create();
      try (SdkTracerProvider tp = SdkTracerProvider.builder()
          .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "shop")))
          .addSpanProcessor(SimpleSpanProcessor.create(memory)).build();
           OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
        Span span = tp.get("t").spanBuilder("pay with 4111-1111-1111-1111")
            .setAttribute("user.email", "jane@example.com").setAttribute("password", "hunter2")
            .setAttribute("order.id", "4111111111111112").startSpan();
        span.end();
        assertThat(exporter.export(memory.getFinishedSpanItems()).join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      Await.until("the span at the backend", Duration.ofSeconds(10), () -> sink.spans().size() == 1);
      io.opentelemetry.proto.trace.v1.Span s = sink.spans().get(0);
      assertThat(s.getName()).matches("pay with hmac:[0-9a-f]{16}");
      assertThat(strings(s.getAttributesList())).containsEntry("user.email", "****").containsEntry("password", "****")
          .containsEntry("order.id", "4111111111111112").containsEntry("redaction.count", "3");
      assertThat(strings(sink.traceRequests().get(0).getResourceSpans(0).getResource().getAttributesList()))
          .containsEntry("support.contact", "****"); // enrichment ran first, then redaction saw its output

      String json = """
          {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":
            "GET /orders Authorization: Bearer s3cr3t-t0ken by bob@example.org"}}]}]}]}""";
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(gw.httpBase() + "/v1/logs")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      Await.until("the log at the backend", Duration.ofSeconds(10), () -> !sink.logRequests().isEmpty());
      ExportLogsServiceRequest logs = sink.logRequests().get(0);
      assertThat(logs.getResourceLogs(0).getScopeLogs(0).getLogRecords(0).getBody().getStringValue())
          .isEqualTo("GET /orders Authorization:  by ****");
      assertThat(gw.counter("gateway.processor.redaction.redactions", "rule", "emails")).isEqualTo(3);
    } finally {
      sinkVertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
