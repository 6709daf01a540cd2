package dev.telemetry.gateway.connector.spanmetrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.PrometheusServer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The span_metrics connector end to end: the OpenTelemetry Java SDK sends a known workload to the gateway, whose
 * tail sampler keeps only error traces (what reaches the trace backend), while RED metrics from every span go
 * through the metrics pipeline to a real Prometheus by remote-write. PromQL must count exactly what was sent.
 */
class SpanMetricsIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "processors": {"errors-only": {"type": "tail_sampling", "decision_wait": "300ms",
          "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
        "connectors": {"red": {"type": "span_metrics", "dimensions": ["http.route"], "flush_interval": "300ms",
          "cardinality_limit": 50}},
        "exporters": {
          "jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:{{SINK}}", "compression": "none",
            "batch": {"timeout": "10ms"}},
          "prometheus": {"type": "prometheus_remote_write", "endpoint": "{{PROM}}", "batch": {"timeout": "10ms"}}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "processors": ["errors-only"], "exporters": ["jaeger", "red"]},
          "metrics": {"receivers": ["red"], "exporters": ["prometheus"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  @TempDir
  Path tmp;

  @Test
  void everySpanIsCountedWhileTheSamplerKeepsOnlyErrors() throws Exception {
    Vertx vertx = Vertx.vertx();
    OtlpSink sink = new OtlpSink(vertx, Ports.free()).start();
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom")).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("PROM", prom.writeEndpoint(),
             "SINK", Integer.toString(sink.port())))) {
      try (SdkTracerProvider tp = SdkTracerProvider.builder()
          .setResource(Resource.create(Attributes.builder().put("service.name", "shop").build()))
          .addSpanProcessor(BatchSpanProcessor.builder(OtlpGrpcSpanExporter.builder()
              .setEndpoint(gw.grpcEndpoint()).build()).setMaxQueueSize(4096).setMaxExportBatchSize(100)
              .setScheduleDelay(Duration.ofMillis(50)).build()).build()) {
        Tracer tracer = tp.get("it");
        Instant t0 = Instant.now();
        // 200 × GET /cart (every 10th an error, 3 ms), 100 × POST /checkout (every 5th an error, 250 ms).
        for (int i = 0; i < 200; i++) {
          call(tracer, "GET /cart", "/cart", i % 10 == 0, t0, 3);
        }
        for (int i = 0; i < 100; i++) {
          call(tracer, "POST /checkout", "/checkout", i % 5 == 0, t0, 250);
        }
        assertThat(tp.forceFlush().join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
        // Then 60 distinct routes: 4 series exist, 46 more fit under the limit of 50, 14 spans overflow.
        Await.until("the first spans counted", Duration.ofSeconds(30),
            () -> value(prom, "sum(traces_span_metrics_calls_total)") == 300);
        for (int i = 0; i < 60; i++) {
          call(tracer, "GET /user/" + i, "/user/" + i, false, t0, 1);
        }
        assertThat(tp.forceFlush().join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      Await.until("every span counted in Prometheus", Duration.ofSeconds(30),
          () -> value(prom, "sum(traces_span_metrics_calls_total)") == 360);
      String shop = "service_name=\"shop\",span_kind=\"SPAN_KIND_SERVER\"";
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{" + shop + ",http_route=\"/cart\","
          + "status_code=\"STATUS_CODE_ERROR\"})")).isEqualTo(20);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{" + shop + ",http_route=\"/cart\","
          + "status_code=\"STATUS_CODE_UNSET\"})")).isEqualTo(180);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{" + shop + ",http_route=\"/checkout\","
          + "status_code=\"STATUS_CODE_ERROR\"})")).isEqualTo(20);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{span_name=\"POST /checkout\"})")).isEqualTo(100);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{otel_metric_overflow=\"true\"})")).isEqualTo(14);
      // Durations: every /cart call under the 4 ms bound, every /checkout call between 200 and 400 ms.
      assertThat(value(prom, "sum(traces_span_metrics_duration_milliseconds_bucket{http_route=\"/cart\",le=\"4\"})"))
          .isEqualTo(200);
      assertThat(value(prom, "sum(traces_span_metrics_duration_milliseconds_bucket{http_route=\"/checkout\","
          + "le=\"200\"})")).isZero();
      assertThat(value(prom, "sum(traces_span_metrics_duration_milliseconds_bucket{http_route=\"/checkout\","
          + "le=\"400\"})")).isEqualTo(100);
      assertThat(value(prom, "sum(traces_span_metrics_duration_milliseconds_count)")).isEqualTo(360);
      // The series carry this gateway instance's identity.
      JsonArray series = prom.query("traces_span_metrics_calls_total{http_route=\"/cart\"}");
      JsonObject labels = series.getJsonObject(0).getJsonObject("metric");
      assertThat(labels.getString("job")).isEqualTo("telemetry-gateway");
      assertThat(labels.getString("instance")).endsWith(":" + gw.adminPort);
      assertThat(gw.registry.find("gateway.connector.span_metrics.overflow.spans").functionCounter().count())
          .isEqualTo(14);
      // Meanwhile the trace backend got only the error traces: 40 single-span traces.
      Await.until("the sampled error traces exported", Duration.ofSeconds(15), () -> sink.spans().size() >= 40);
      Thread.sleep(600);
      assertThat(sink.spans()).hasSize(40);
    } finally {
      sink.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** One server span of {@code millis} (explicit start and end: the durations are exact). */
  static void call(Tracer tracer, String name, String route, boolean error, Instant start, long millis) {
    Span s = tracer.spanBuilder(name).setSpanKind(SpanKind.SERVER).setStartTimestamp(start)
        .setAttribute("http.route", route).startSpan();
    if (error) {
      s.setStatus(StatusCode.ERROR);
    }
    s.end(start.plusMillis(millis));
  }

  static double value(PrometheusServer prom, String promql) {
    try {
      JsonArray r = prom.query(promql);
      return r.isEmpty() ? -1 : Double.parseDouble(r.getJsonObject(0).getJsonArray("value").getString(1));
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
