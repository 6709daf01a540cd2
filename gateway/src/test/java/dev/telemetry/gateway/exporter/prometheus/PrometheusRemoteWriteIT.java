package dev.telemetry.gateway.exporter.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.PrometheusServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OTLP metrics from the OpenTelemetry Java SDK (and raw OTLP/JSON for what the SDK cannot emit) go through the gateway
 * into a real Prometheus; the test reads them back with Prometheus's HTTP API and checks names, labels and values.
 */
class PrometheusRemoteWriteIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"prometheus": {"type": "prometheus_remote_write", "endpoint": "{{PROM}}",
          "timeout": "5s", "external_labels": {"cluster": "it"},
          "promote_resource_attributes": ["deployment.environment.name"],
          "headers": {"X-Scope-OrgID": "tenant-a"},
          "batch": {"timeout": "10ms"},
          "retry": {"initial_interval": "50ms", "max_interval": "200ms"}}},
        "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["prometheus"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  @TempDir
  Path tmp;

  static Resource resource() {
    return Resource.create(Attributes.builder()
        .put("service.name", "checkout").put("service.namespace", "shop").put("service.instance.id", "i-1")
        .put("deployment.environment.name", "test").put("host.name", "node-7").build());
  }

  static final Map<String, String> COMMON = Map.of("job", "shop/checkout", "instance", "i-1",
      "deployment_environment_name", "test", "cluster", "it", "otel_scope_name", "shop.metrics",
      "otel_scope_version", "2.0");

  static JsonObject only(JsonArray result) {
    assertThat(result).as("result vector").hasSize(1);
    return result.getJsonObject(0);
  }

  static double value(JsonObject sample) {
    return Double.parseDouble(sample.getJsonArray("value").getString(1));
  }

  static void assertLabels(JsonObject sample, String name, Map<String, String> extra) {
    JsonObject expected = new JsonObject().put("__name__", name);
    COMMON.forEach(expected::put);
    extra.forEach(expected::put);
    assertThat(sample.getJsonObject("metric")).isEqualTo(expected);
  }

  @Test
  void everyInstrumentKindLandsInPrometheusWithTheSpecNames() throws Exception {
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom")).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("PROM", prom.writeEndpoint()))) {
      long start = System.currentTimeMillis() / 1000 - 60;
      InMemoryMetricReader reader = InMemoryMetricReader.create();
      try (SdkMeterProvider mp = SdkMeterProvider.builder().setResource(resource()).registerMetricReader(reader)
          .registerView(InstrumentSelector.builder().setName("payload.size").build(),
              View.builder().setAggregation(Aggregation.base2ExponentialBucketHistogram(160, 20)).build())
          .build();
           SdkTracerProvider tp = SdkTracerProvider.builder()
               .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create())).build();
           OtlpGrpcMetricExporter exporter = OtlpGrpcMetricExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
        Meter meter = mp.meterBuilder("shop.metrics").setInstrumentationVersion("2.0").build();
        Attributes cart = Attributes.of(AttributeKey.stringKey("route"), "/cart");
        LongCounter orders = meter.counterBuilder("orders.placed").setUnit("{order}").build();
        Span span = tp.get("t").spanBuilder("checkout").startSpan();
        try (Scope ignored = span.makeCurrent()) {
          orders.add(3, cart); // inside a sampled span: the SDK attaches an exemplar
        }
        span.end();
        meter.upDownCounterBuilder("carts.open").build().add(-2, cart);
        meter.histogramBuilder("http.server.request.duration").setUnit("s")
            .setExplicitBucketBoundariesAdvice(List.of(0.1, 0.5, 1.0)).build().record(0.125, cart);
        meter.gaugeBuilder("queue.fill").setUnit("1").build().set(0.75, cart);
        var payload = meter.histogramBuilder("payload.size").setUnit("By").build();
        payload.record(100, cart);
        payload.record(200, cart);
        payload.record(1000, cart);
        meter.counterBuilder("jobs.completed").buildWithCallback(m -> m.record(42, cart));
        meter.upDownCounterBuilder("workers.busy").buildWithCallback(m -> m.record(-1, cart));
        meter.gaugeBuilder("memory.used").setUnit("By").ofLongs().buildWithCallback(m -> m.record(4096, cart));
        assertThat(exporter.export(reader.collectAllMetrics()).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }

      // The exporter sends series over several shards, each its own remote-write request: wait for all of them.
      List<String> expectedSeries = List.of("orders_placed_total", "carts_open", "queue_fill_ratio", "jobs_completed_total",
          "workers_busy", "memory_used_bytes", "http_server_request_duration_seconds_count", "payload_size_bytes",
          "target_info");
      Await.until(() -> "every series in Prometheus: " + expectedSeries, Duration.ofSeconds(30),
          () -> expectedSeries.stream().allMatch(name -> !query(prom, name).isEmpty()));
      Map<String, String> route = Map.of("route", "/cart");

      JsonObject counter = only(prom.query("orders_placed_total"));
      assertLabels(counter, "orders_placed_total", route);
      assertThat(value(counter)).isEqualTo(3);

      JsonObject gauge = only(prom.query("carts_open"));
      assertLabels(gauge, "carts_open", route);
      assertThat(value(gauge)).isEqualTo(-2);

      assertThat(value(only(prom.query("queue_fill_ratio")))).isEqualTo(0.75);

      JsonObject observableCounter = only(prom.query("jobs_completed_total"));
      assertLabels(observableCounter, "jobs_completed_total", route);
      assertThat(value(observableCounter)).isEqualTo(42);
      assertThat(value(only(prom.query("workers_busy")))).isEqualTo(-1);
      JsonObject observableGauge = only(prom.query("memory_used_bytes"));
      assertLabels(observableGauge, "memory_used_bytes", route);
      assertThat(value(observableGauge)).isEqualTo(4096);

      for (var e : Map.of("0.1", 0.0, "0.5", 1.0, "1", 1.0, "+Inf", 1.0).entrySet()) {
        JsonObject bucket = only(prom.query("http_server_request_duration_seconds_bucket{le=\"" + e.getKey() + "\"}"));
        assertLabels(bucket, "http_server_request_duration_seconds_bucket", Map.of("route", "/cart", "le", e.getKey()));
        assertThat(value(bucket)).as("le=" + e.getKey()).isEqualTo(e.getValue());
      }
      assertThat(value(only(prom.query("http_server_request_duration_seconds_sum")))).isEqualTo(0.125);
      assertThat(value(only(prom.query("http_server_request_duration_seconds_count")))).isEqualTo(1);

      JsonObject nativeHistogram = only(prom.query("payload_size_bytes"));
      assertLabels(nativeHistogram, "payload_size_bytes", route);
      JsonObject h = nativeHistogram.getJsonArray("histogram").getJsonObject(1);
      assertThat(h.getString("count")).isEqualTo("3");
      assertThat(h.getString("sum")).isEqualTo("1300");
      assertThat(value(only(prom.query("histogram_count(payload_size_bytes)")))).isEqualTo(3);
      double median = value(only(prom.query("histogram_quantile(0.5, payload_size_bytes)")));
      assertThat(median).isBetween(190.0, 210.0); // the 200 observation's bucket at scale 8+

      JsonObject target = only(prom.query("target_info"));
      assertThat(target.getJsonObject("metric")).isEqualTo(new JsonObject().put("__name__", "target_info")
          .put("job", "shop/checkout").put("instance", "i-1").put("host_name", "node-7")
          .put("deployment_environment_name", "test").put("cluster", "it"));
      assertThat(value(target)).isEqualTo(1);

      JsonArray series = prom.series("orders_placed_total");
      assertThat(series).hasSize(1);

      JsonArray exemplars = prom.exemplars("orders_placed_total", start, start + 3600);
      assertThat(exemplars).hasSize(1);
      JsonObject exemplar = exemplars.getJsonObject(0).getJsonArray("exemplars").getJsonObject(0);
      assertThat(exemplar.getJsonObject("labels").getString("trace_id")).hasSize(32);
      assertThat(exemplar.getString("value")).isEqualTo("3");
    }
  }

  @Test
  void deltaSumsBecomeCumulativeCounters() throws Exception {
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom")).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("PROM", prom.writeEndpoint()))) {
      InMemoryMetricReader reader = InMemoryMetricReader.builder()
          .setAggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred()).build();
      try (SdkMeterProvider mp = SdkMeterProvider.builder().setResource(resource()).registerMetricReader(reader)
          .build();
           OtlpGrpcMetricExporter exporter = OtlpGrpcMetricExporter.builder().setEndpoint(gw.grpcEndpoint())
               .setAggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred()).build()) {
        Meter meter = mp.meterBuilder("shop.metrics").setInstrumentationVersion("2.0").build();
        LongCounter deliveries = meter.counterBuilder("deliveries").build();
        var latency = meter.histogramBuilder("delivery.latency").setUnit("ms")
            .setExplicitBucketBoundariesAdvice(List.of(10.0, 100.0)).build();
        deliveries.add(3);
        latency.record(5);
        assertThat(exporter.export(reader.collectAllMetrics()).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
        Await.until("first delta in Prometheus", Duration.ofSeconds(30),
            () -> !query(prom, "deliveries_total").isEmpty());
        Thread.sleep(5); // the next collection must carry a later timestamp than the first
        deliveries.add(4);
        latency.record(50);
        assertThat(exporter.export(reader.collectAllMetrics()).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      Await.until("cumulative total 7", Duration.ofSeconds(30),
          () -> value(only(query(prom, "deliveries_total"))) == 7);
      assertThat(value(only(prom.query("delivery_latency_milliseconds_count")))).isEqualTo(2);
      assertThat(value(only(prom.query("delivery_latency_milliseconds_sum")))).isEqualTo(55);
      assertThat(value(only(prom.query("delivery_latency_milliseconds_bucket{le=\"10\"}")))).isEqualTo(1);
      assertThat(value(only(prom.query("delivery_latency_milliseconds_bucket{le=\"100\"}")))).isEqualTo(2);
    }
  }

  @Test
  void summariesAndNoRecordedValueFromRawOtlpJson() throws Exception {
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom")).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("PROM", prom.writeEndpoint()))) {
      long now = System.currentTimeMillis() * 1_000_000L;
      String json = """
          {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"legacy"}}]},
            "scopeMetrics":[{"metrics":[
              {"name":"rpc.latency","unit":"s","summary":{"dataPoints":[{"timeUnixNano":"%d","count":"20","sum":10,
                "quantileValues":[{"quantile":0.5,"value":0.1},{"quantile":0.99,"value":0.9}]}]}},
              {"name":"temperature","gauge":{"dataPoints":[
                {"timeUnixNano":"%d","asDouble":21.5,"attributes":[{"key":"room","value":{"stringValue":"a"}}]},
                {"timeUnixNano":"%d","asDouble":19.0,"attributes":[{"key":"room","value":{"stringValue":"b"}}]},
                {"timeUnixNano":"%d","flags":1,"attributes":[{"key":"room","value":{"stringValue":"b"}}]}]}}
            ]}]}]}""".formatted(now, now, now - 1_000_000_000L, now);
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(gw.httpBase() + "/v1/metrics")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      // The sender shards series over parallel requests: each series shows up when its own request is in.
      Await.until("summary and gauges in Prometheus", Duration.ofSeconds(30), () -> Stream.of(
          "rpc_latency_seconds_count", "rpc_latency_seconds_sum", "rpc_latency_seconds{quantile=\"0.5\"}",
          "rpc_latency_seconds{quantile=\"0.99\"}", "temperature{room=\"a\"}",
          "count_over_time(temperature{room=\"b\"}[5m])").allMatch(q -> !query(prom, q).isEmpty()));
      assertThat(value(only(prom.query("rpc_latency_seconds{quantile=\"0.5\"}")))).isEqualTo(0.1);
      assertThat(value(only(prom.query("rpc_latency_seconds{quantile=\"0.99\"}")))).isEqualTo(0.9);
      assertThat(value(only(prom.query("rpc_latency_seconds_sum")))).isEqualTo(10);
      assertThat(value(only(prom.query("rpc_latency_seconds_count")))).isEqualTo(20);
      assertThat(only(prom.query("rpc_latency_seconds_count")).getJsonObject("metric").getString("job"))
          .isEqualTo("legacy");
      // room b ended with a staleness marker: an instant query no longer returns it, room a is still there.
      JsonArray temps = prom.query("temperature");
      assertThat(temps).hasSize(1);
      assertThat(temps.getJsonObject(0).getJsonObject("metric").getString("room")).isEqualTo("a");
      assertThat(prom.query("count_over_time(temperature{room=\"b\"}[5m])")).hasSize(1);
    }
  }

  @Test
  void prometheusDownAtStartIsRetriedAndA400IsNot() throws Exception {
    int port = Ports.free();
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("PROM", "http://127.0.0.1:" + port + "/api/v1/write"))) {
      InMemoryMetricReader reader = InMemoryMetricReader.create();
      try (SdkMeterProvider mp = SdkMeterProvider.builder().setResource(resource()).registerMetricReader(reader)
          .build();
           OtlpGrpcMetricExporter exporter = OtlpGrpcMetricExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
        mp.get("shop.metrics").counterBuilder("early.events").build().add(5);
        assertThat(exporter.export(reader.collectAllMetrics()).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      Await.until("retries while Prometheus is down", Duration.ofSeconds(10),
          () -> gw.counter("gateway.exporter.retries") >= 2);
      try (PrometheusServer prom = new PrometheusServer(port, tmp.resolve("prom")).start()) {
        Await.until("data delivered once Prometheus is up", Duration.ofSeconds(30),
            () -> !query(prom, "early_events_total").isEmpty());
        assertThat(value(only(prom.query("early_events_total")))).isEqualTo(5);

        // A sample from the year 2000 is out of bounds for Prometheus's head block: HTTP 400, not retried.
        double retriesBefore = gw.counter("gateway.exporter.retries");
        double requestsBefore = gw.counter("gateway.exporter.prometheus.requests");
        String old = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"ancient","gauge":{"dataPoints":[
              {"timeUnixNano":"946684800000000000","asDouble":1}]}}]}]}]}""";
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(gw.httpBase() + "/v1/metrics")).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(old)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        Await.until("the 400 counted as rejected", Duration.ofSeconds(15),
            () -> gw.counter("gateway.exporter.items.failed", "reason", "rejected_by_backend") == 1);
        assertThat(gw.counter("gateway.exporter.prometheus.requests")).isEqualTo(requestsBefore + 1);
        assertThat(gw.counter("gateway.exporter.retries")).isEqualTo(retriesBefore);
      }
    }
  }

  private static JsonArray query(PrometheusServer prom, String q) {
    try {
      return prom.query(q);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
