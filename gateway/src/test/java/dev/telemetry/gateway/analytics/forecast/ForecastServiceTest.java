package dev.telemetry.gateway.analytics.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.config.ForecastsConfig;
import dev.telemetry.gateway.connector.genai.GenAiUsage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ForecastServiceTest {
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

  ForecastService service(List<ForecastsConfig.CostBudget> budgets) {
    return new ForecastService(vertx, new ForecastsConfig(Duration.ofSeconds(1), Duration.ofSeconds(60),
        Duration.ofHours(1), ForecastsConfig.DEFAULT_COST_METRIC, budgets), registry, null);
  }

  JsonObject view(ForecastService f) throws Exception {
    return f.view().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aQueueDiskGrowingTowardsItsHeadroomIsForecastAndAlertedWithHysteresis() throws Exception {
    AtomicLong used = new AtomicLong();
    Gauge.builder("gateway.queue.disk.size", used, AtomicLong::get).tags("exporter", "es", "signal", "logs")
        .register(registry);
    Gauge.builder("gateway.queue.capacity", () -> 1e9).tags("exporter", "es", "signal", "logs").register(registry);
    Gauge.builder("gateway.queue.disk.available", () -> 5e8 - used.get()).tags("exporter", "es", "signal", "logs")
        .register(registry);
    ForecastService f = service(List.of());
    long t = 1_000_000;
    for (int i = 0; i <= 6; i++) { // 100 kB/s: the filesystem's 500 MB go in about 5,000 s
      f.evaluate(t + i * 10_000L);
      used.addAndGet(1_000_000);
    }
    double seconds = registry.get("gateway.forecast.queue.disk.full.seconds").tag("exporter", "es").gauge().value();
    assertThat(seconds).isBetween(4_800.0, 5_000.0);
    assertThat(view(f).getJsonArray("firing")).isEmpty();
    for (int i = 7; i <= 13; i++) { // 1 MB/s: under half an hour
      f.evaluate(t + i * 10_000L);
      used.addAndGet(10_000_000);
    }
    JsonObject v = view(f);
    assertThat(v.getJsonArray("firing")).hasSize(1);
    assertThat(v.getJsonArray("firing").getJsonObject(0).getJsonObject("labels").getString("alertname"))
        .isEqualTo(ForecastService.QUEUE_ALERT);
    assertThat(v.getJsonArray("firing").getJsonObject(0).getJsonObject("annotations").getString("summary"))
        .contains("fills its disk in").contains("min");
    for (int i = 14; i <= 21; i++) { // the backend is back: the queue shrinks
      f.evaluate(t + i * 10_000L);
      used.addAndGet(-5_000_000);
    }
    assertThat(view(f).getJsonArray("firing")).isEmpty();
    assertThat(registry.get("gateway.forecast.queue.disk.full.seconds").tag("exporter", "es").gauge().value()).isInfinite();
  }

  static ExportMetricsServiceRequest projection(String team, double usd, long atMillis) {
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder().setName(GenAiUsage.MONTH_END).setUnit("{USD}")
            .setGauge(io.opentelemetry.proto.metrics.v1.Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder()
                .setTimeUnixNano(atMillis * 1_000_000L).setAsDouble(usd).addAttributes(KeyValue.newBuilder()
                    .setKey("team").setValue(AnyValue.newBuilder().setStringValue(team)))))))).build();
  }

  @Test
  void aCostBudgetSumsItsSeriesWarnsThenGoesCritical() throws Exception {
    ForecastService f = service(List.of(new ForecastsConfig.CostBudget("search", Map.of("team", "search"), 1000,
        0.9)));
    long now = System.currentTimeMillis();
    f.take(projection("search", 500, now));
    f.take(projection("search", 420, now)); // the same series again: the newest value counts
    f.take(projection("ads", 5000, now));
    f.evaluate(now);
    assertThat(registry.get("gateway.forecast.cost.month_end.usd").tag("budget", "search").gauge().value())
        .isEqualTo(420);
    assertThat(view(f).getJsonArray("firing")).isEmpty();
    ExportMetricsServiceRequest second = projection("search", 530, now).toBuilder()
        .setResourceMetrics(0, projection("search", 530, now).getResourceMetrics(0).toBuilder().setResource(
            io.opentelemetry.proto.resource.v1.Resource.newBuilder().addAttributes(KeyValue.newBuilder()
                .setKey("service.name").setValue(AnyValue.newBuilder().setStringValue("rag"))))).build();
    f.take(second); // another series of the same team: summed
    f.evaluate(now);
    JsonObject v = view(f);
    assertThat(v.getJsonArray("cost_budgets").getJsonObject(0).getDouble("ratio")).isEqualTo(0.95);
    assertThat(v.getJsonArray("firing")).hasSize(1);
    assertThat(v.getJsonArray("firing").getJsonObject(0).getJsonObject("labels").getString("severity"))
        .isEqualTo("warning");
    f.take(projection("search", 600, now));
    f.evaluate(now);
    assertThat(view(f).getJsonArray("firing")).hasSize(2);
    assertThat(view(f).getJsonArray("firing").getJsonObject(1).getJsonObject("annotations").getString("summary"))
        .isEqualTo("GenAI cost of search projected at $1130.00 by month end: 113% of its $1000.00 budget");
    // Projections not refreshed for 15 minutes no longer count.
    f.evaluate(now + ForecastService.STALE_MS + 1);
    assertThat(view(f).getJsonArray("firing")).isEmpty();
  }
}
