package dev.telemetry.gateway.analytics.slo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.alerting.Alerting;
import dev.telemetry.gateway.config.AlertingConfig;
import dev.telemetry.gateway.config.SlosConfig;
import dev.telemetry.gateway.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The predictive SLO alert: the budget is gone within exhaustion_alert_within at the current burn. */
class SloForecastAlertTest {
  static final String SLOS = """
      {"slos": [{"name": "api", "service": "api", "objective": 99, "window": "1d",
        "sli": {"type": "ratio", "bad": {"metric": "errors_total"}, "total": {"metric": "requests_total"}}}]}""";

  @TempDir
  Path tmp;

  @Test
  void firesWhenTheBudgetIsGoneWithinTheHorizonAtTheCurrentBurn() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Path file = tmp.resolve("slos.json");
      Files.writeString(file, SLOS);
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      Alerting alerting = new Alerting(vertx, new AlertingConfig(List.of(URI.create("http://127.0.0.1:1")),
          Duration.ofMinutes(1), Duration.ofSeconds(1), 100, null, "http://gateway:8888"), registry);
      alerting.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      SloService slos = new SloService(vertx, new SlosConfig(file, Duration.ZERO, Duration.ofSeconds(1), null,
          Duration.ofHours(6)), SloFileParser.Catalog.NONE, registry, alerting);
      slos.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      long minute = System.currentTimeMillis() / 60_000 * 60_000;
      // 23 quiet hours (0.1 % errors), then an hour at 5 %: 70 % of the budget left, burning 5× → about 3.3 h.
      for (int m = 24 * 60; m >= 61; m--) {
        slos.take(SloEvaluatorTest.counts(minute - m * 60_000L + 30_000, 1, 1000));
      }
      for (int m = 60; m >= 1; m--) {
        slos.take(SloEvaluatorTest.counts(minute - m * 60_000L + 30_000, 50, 1000));
      }
      slos.evaluateNow();
      Await.until("the forecast alert", Duration.ofSeconds(5), () -> firing(alerting).size() == 1);
      JsonObject alert = firing(alerting).getJsonObject(0);
      assertThat(alert.getJsonObject("labels").getString("alertname")).isEqualTo(SloService.EXHAUSTION_ALERT);
      assertThat(alert.getJsonObject("annotations").getString("summary"))
          .matches("The error budget of api is gone in 3\\.[0-9] h at the current burn rate");
      double seconds = registry.get("gateway.slo.time_to_exhaustion").gauge().value();
      assertThat(seconds).isBetween(3 * 3600.0, 3.6 * 3600);
      slos.stop();
      alerting.stop().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static JsonArray firing(Alerting alerting) {
    try {
      return alerting.view().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)
          .getJsonArray("firing");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
