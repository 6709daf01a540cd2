package dev.telemetry.gateway.analytics.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.config.AnomaliesConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The anomaly service's reading, judging, sharing and keeping, with explicit clocks (no waiting). */
class AnomalyServiceTest {
  static final long STEP = 10_000;

  @TempDir
  Path tmp;
  Vertx vertx;
  SimpleMeterRegistry registry;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  AnomaliesConfig config(int maxSeries, List<AnomaliesConfig.Stream> streams) {
    return new AnomaliesConfig("seasonal_median", Duration.ofMillis(STEP), Duration.ofSeconds(1), maxSeries,
        Duration.ofMinutes(10), tmp.resolve("state.json"), new AnomaliesConfig.Red(true,
            List.of("service.name", "span.name"), java.util.Set.of("SPAN_KIND_SERVER"), List.of(0.99), 0),
        streams, AnomaliesConfig.Rules.DEFAULTS, List.of());
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  /** span_metrics' delta output for one step: calls by status, and a duration histogram. */
  static ExportMetricsServiceRequest red(long timeMillis, int ok, int errors, double[] durationCounts) {
    long t = timeMillis * 1_000_000L;
    Sum.Builder calls = Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA);
    calls.addDataPoints(point(t, ok, "STATUS_CODE_UNSET"));
    calls.addDataPoints(point(t, errors, "STATUS_CODE_ERROR"));
    calls.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(t).setAsInt(1000).addAttributes(
        kv("service.name", "checkout")).addAttributes(kv("span.name", "SELECT")).addAttributes(
        kv("span.kind", "SPAN_KIND_CLIENT")).addAttributes(kv("status.code", "STATUS_CODE_UNSET")));
    HistogramDataPoint.Builder h = HistogramDataPoint.newBuilder().setTimeUnixNano(t).addAllExplicitBounds(
        List.of(10.0, 100.0, 1000.0)).addAttributes(kv("service.name", "checkout")).addAttributes(
        kv("span.name", "POST /checkout")).addAttributes(kv("span.kind", "SPAN_KIND_SERVER"));
    for (double c : durationCounts) {
      h.addBucketCounts((long) c);
    }
    h.setCount((long) java.util.Arrays.stream(durationCounts).sum());
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .addScopeMetrics(ScopeMetrics.newBuilder()
            .addMetrics(Metric.newBuilder().setName("traces.span.metrics.calls").setSum(calls))
            .addMetrics(Metric.newBuilder().setName("traces.span.metrics.duration").setUnit("ms")
                .setHistogram(Histogram.newBuilder().setAggregationTemporality(
                    AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA).addDataPoints(h))))).build();
  }

  static NumberDataPoint point(long t, int value, String status) {
    return NumberDataPoint.newBuilder().setTimeUnixNano(t).setAsInt(value).addAttributes(kv("service.name",
        "checkout")).addAttributes(kv("span.name", "POST /checkout")).addAttributes(kv("span.kind",
        "SPAN_KIND_SERVER")).addAttributes(kv("status.code", status)).build();
  }

  static JsonObject series(AnomalyService s, String signal) throws Exception {
    JsonObject v = s.view().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    return v.getJsonArray("top").stream().map(JsonObject.class::cast)
        .filter(o -> signal.equals(o.getString("signal"))).findFirst().orElse(null);
  }

  @Test
  void redSeriesFromSpanMetricsAreJudgedPerStepAndASilentStepIsARateOfZero() throws Exception {
    AnomalyService s = new AnomalyService(vertx, config(100, List.of()), registry, null);
    long step = System.currentTimeMillis() / STEP + 10; // steps after the service started
    for (int i = 0; i < 3; i++) {
      s.take(red((step + i) * STEP - 500, 90, 10, new double[] {50, 40, 10, 0}));
    }
    // Step step+2 ends at (step+2)·STEP; judged two evaluation intervals later.
    s.evaluate((step + 2) * STEP + 2_000);
    JsonObject view = s.view().toCompletionStage().toCompletableFuture().get();
    assertThat(view.getInteger("series")).as("rate, error ratio and p99 of the server spans only").isEqualTo(3);
    // Not judged yet (no history): values are reported, scores are not.
    assertThat(view.getJsonArray("top")).isEmpty();
    assertThat(registry.get("gateway.anomaly.value").tag("signal", "rate").gauge().value()).isEqualTo(100);
    assertThat(registry.get("gateway.anomaly.value").tag("signal", "error_ratio").gauge().value()).isEqualTo(0.1);
    assertThat(registry.get("gateway.anomaly.value").tag("signal", "latency_p99").gauge().value())
        .isEqualTo(100 + 900 * 0.9); // the 99th of 100 values is the 9th of the 10 in (100, 1000], interpolated
    s.evaluate((step + 3) * STEP + 2_000);
    assertThat(registry.get("gateway.anomaly.value").tag("signal", "rate").gauge().value())
        .as("a step without data from a live service: nothing happened").isZero();
    assertThat(registry.get("gateway.anomaly.value").tag("signal", "error_ratio").gauge().value()).isNaN();
  }

  @Test
  void selfStreamsReadTheGatewaysOwnMetricsAsPrometheusNamesThem() throws Exception {
    io.micrometer.prometheusmetrics.PrometheusMeterRegistry prom = new io.micrometer.prometheusmetrics
        .PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
    double[] age = {3};
    io.micrometer.core.instrument.Gauge.builder("gateway.queue.oldest.age", age, a -> a[0]).baseUnit("seconds")
        .tags("exporter", "es", "signal", "logs").register(prom);
    io.micrometer.core.instrument.Counter refused = io.micrometer.core.instrument.Counter.builder(
        "gateway.receiver.items.refused").tags("reason", "quota").register(prom);
    AnomaliesConfig cfg = config(100, List.of(
        new AnomaliesConfig.Stream("queue-age", "gateway_queue_oldest_age_seconds", AnomaliesConfig.Stream.Type.GAUGE,
            List.of("exporter"), Map.of("signal", "logs"), "log", "up", AnomaliesConfig.Stream.Source.SELF),
        new AnomaliesConfig.Stream("refusals", "gateway_receiver_items_refused_total",
            AnomaliesConfig.Stream.Type.COUNTER, List.of("reason"), Map.of(), "count", "up",
            AnomaliesConfig.Stream.Source.SELF)));
    AnomalyService s = new AnomalyService(vertx, cfg, prom, null);
    long step = System.currentTimeMillis() / STEP + 10;
    s.evaluate(step * STEP - 5_000); // first readings: the counter's starting point, the gauge's 3 s
    age[0] = 7;
    refused.increment(40);
    s.evaluate(step * STEP - 1_000);
    s.evaluate(step * STEP + 2_000); // judges the step
    assertThat(prom.get("gateway.anomaly.value").tag("stream", "queue-age").gauge().value()).isEqualTo(7);
    assertThat(prom.get("gateway.anomaly.value").tag("stream", "queue-age").gauge().getId().getTag("series"))
        .isEqualTo("exporter=es");
    assertThat(prom.get("gateway.anomaly.value").tag("stream", "refusals").gauge().value()).isEqualTo(40);
  }

  @Test
  void clusterMembersJudgeTheSameTotals() throws Exception {
    AnomalyService a = new AnomalyService(vertx, config(100, List.of()), registry, null, "a", k -> true);
    SimpleMeterRegistry other = new SimpleMeterRegistry();
    AnomalyService b = new AnomalyService(vertx, config(100, List.of()), other, null, "b", k -> false);
    a.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    b.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    long step = System.currentTimeMillis() / STEP + 10;
    a.take(red(step * STEP - 500, 60, 0, new double[] {60, 0, 0, 0}));
    b.take(red(step * STEP - 500, 30, 10, new double[] {40, 0, 0, 0}));
    // Each publishes its cells before judging; a publishes once more so that b has a's before b judges.
    a.evaluate(step * STEP - 100);
    b.evaluate(step * STEP - 100);
    for (AnomalyService member : List.of(a, b)) {
      dev.telemetry.gateway.testing.Await.until("the other member's cells booked", Duration.ofSeconds(5), () ->
          member.book().groups().stream().filter(g -> g.what.equals("calls"))
              .anyMatch(g -> { double[] c = member.book().cells(g, step); return c != null && c[0] == 100; }));
    }
    a.evaluate(step * STEP + 2_000);
    b.evaluate(step * STEP + 2_000);
    assertThat(registry.get("gateway.anomaly.value").tag("signal", "rate").gauge().value()).isEqualTo(100);
    assertThat(other.get("gateway.anomaly.value").tag("signal", "rate").gauge().value()).isEqualTo(100);
    assertThat(other.get("gateway.anomaly.value").tag("signal", "error_ratio").gauge().value()).isEqualTo(0.1);
    a.stop();
    b.stop();
  }

  @Test
  void baselinesAreKeptAcrossARestartAndSeriesBeyondTheCapAreCounted() throws Exception {
    AnomaliesConfig cfg = config(2, List.of(new AnomaliesConfig.Stream("queue-age", "gateway_queue_oldest_age",
        AnomaliesConfig.Stream.Type.GAUGE, List.of("exporter"), Map.of(), "log", "up")));
    AnomalyService s = new AnomalyService(vertx, cfg, registry, null);
    long step = System.currentTimeMillis() / STEP + 10;
    s.take(red(step * STEP - 500, 90, 10, new double[] {100, 0, 0, 0}));
    s.take(ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder().addScopeMetrics(
        ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder().setName("gateway_queue_oldest_age")
            .setGauge(Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder()
                .setTimeUnixNano((step * STEP - 500) * 1_000_000L).setAsDouble(3.5)
                .addAttributes(kv("exporter", "es"))))))).build());
    s.evaluate(step * STEP + 2_000);
    JsonObject view = s.view().toCompletionStage().toCompletableFuture().get();
    assertThat(view.getInteger("series")).isEqualTo(2);
    assertThat(registry.get("gateway.anomaly.series.overflow").counter().count()).isGreaterThanOrEqualTo(1);
    s.stop().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);

    JsonObject state = new JsonObject(Files.readString(tmp.resolve("state.json")));
    JsonArray saved = state.getJsonArray("series");
    assertThat(saved).hasSize(2);
    assertThat(saved.getJsonObject(0).getLong("judged")).isEqualTo(step);
    AnomalyService restored = new AnomalyService(vertx, cfg, new SimpleMeterRegistry(), null);
    restored.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(restored.view().toCompletionStage().toCompletableFuture().get().getInteger("series")).isEqualTo(2);
    restored.stop();
    // Another step size: the saved baselines do not fit and are not used.
    AnomaliesConfig other = new AnomaliesConfig("seasonal_median", Duration.ofMinutes(1), Duration.ofSeconds(1), 2,
        Duration.ofMinutes(10), tmp.resolve("state.json"), cfg.red(), cfg.streams(), cfg.rules(), List.of());
    AnomalyService fresh = new AnomalyService(vertx, other, new SimpleMeterRegistry(), null);
    fresh.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(fresh.view().toCompletionStage().toCompletableFuture().get().getInteger("series")).isZero();
    fresh.stop();
  }
}
