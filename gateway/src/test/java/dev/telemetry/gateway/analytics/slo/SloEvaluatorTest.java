package dev.telemetry.gateway.analytics.slo;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SloEvaluatorTest {
  static final String SLOS = """
      {"slos": [{"name": "api", "service": "api", "objective": 99, "window": "1d",
        "sli": {"type": "ratio", "bad": {"metric": "errors_total"}, "total": {"metric": "requests_total"}},
        "alerting": {"rules": [{"severity": "page", "long_window": "5m", "short_window": "1m", "burn_rate": 10}]}}]}""";
  /** A minute boundary; every point below falls in the minute ending at T0 + 60 s, judged from then on. */
  static final long T0 = 1_800_000_000_000L;

  static ExportMetricsServiceRequest counts(long atMillis, long errors, long requests) {
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(delta("errors", atMillis, errors))
            .addMetrics(delta("requests", atMillis, requests)))).build();
  }

  static Metric delta(String name, long atMillis, long v) {
    return Metric.newBuilder().setName(name).setSum(Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
        .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(atMillis * 1_000_000L).setAsInt(v))).build();
  }

  static SloEvaluator.Status evaluate(SloEvaluator e, long at) {
    List<SloEvaluator.Status> out = new ArrayList<>();
    e.evaluate(at, out);
    return out.get(0);
  }

  /** One member sees all the errors, the other most of the traffic: judged together, nothing fires. */
  @Test
  void clusterMembersJudgeTheCombinedCountsNotTheirShare() throws Exception {
    List<Slo> slos = SloFileParser.parse(SLOS, SloFileParser.Catalog.NONE);
    SloEvaluator a = new SloEvaluator(slos);
    SloEvaluator b = new SloEvaluator(slos);
    a.take(counts(T0 + 10_000, 100, 100));
    b.take(counts(T0 + 20_000, 0, 1900));
    SloEvaluator alone = new SloEvaluator(slos);
    alone.take(counts(T0 + 10_000, 100, 100));
    assertThat(evaluate(alone, T0 + 60_000).firingSince()).as("alone, the first member's share would page")
        .containsKey("page");
    JsonObject fromA = a.ownCounts(T0 + 30_000);
    JsonObject fromB = b.ownCounts(T0 + 30_000);
    a.merge("b", fromB, T0 + 30_000);
    b.merge("a", fromA, T0 + 30_000);
    a.merge("b", fromB, T0 + 31_000); // repeated (every publish repeats the last minutes): booked once
    SloEvaluator.Status sa = evaluate(a, T0 + 60_000);
    SloEvaluator.Status sb = evaluate(b, T0 + 60_000);
    assertThat(sa.totalInWindow()).isEqualTo(2000);
    assertThat(sb.totalInWindow()).isEqualTo(2000);
    assertThat(sa.badInWindow()).isEqualTo(100);
    assertThat(sa.firingSince()).isEmpty();
    assertThat(sb.firingSince()).isEmpty();
    assertThat(sa.burnRates().values().iterator().next()).isEqualTo(100.0 / 2000 / slos.get(0).budget());

    // More errors on b: now the cluster's ratio is over 10 × 1 %, and both members see it.
    b.take(counts(T0 + 40_000, 200, 100));
    a.merge("b", b.ownCounts(T0 + 41_000), T0 + 41_000);
    assertThat(evaluate(a, T0 + 60_000).firingSince()).containsKey("page");
    assertThat(evaluate(b, T0 + 60_000).firingSince()).containsKey("page");

    // A restart keeps the budget, the alert state and what peers said: nothing is booked twice.
    SloEvaluator restarted = new SloEvaluator(slos);
    restarted.restore(new JsonObject(a.state().encode()));
    restarted.merge("b", b.ownCounts(T0 + 43_000), T0 + 43_000);
    SloEvaluator.Status sr = evaluate(restarted, T0 + 60_000);
    assertThat(sr.totalInWindow()).isEqualTo(2100);
    assertThat(sr.badInWindow()).isEqualTo(300);
    assertThat(sr.firingSince()).containsKey("page");
  }
}
