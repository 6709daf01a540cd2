package dev.telemetry.gateway.analytics.slo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SloFileParserTest {
  static final SloFileParser.Catalog SPAN_METRICS = new SloFileParser.Catalog(List.of(new double[] {100, 250, 400}));

  @Test
  void readsAvailabilityLatencyAndRatioSlisWithTheWorkbookPolicyByDefault() throws Exception {
    List<Slo> slos = SloFileParser.parse("""
        {"slos": [
          {"name": "a", "service": "checkout", "sli": {"type": "availability", "match": {"http_route": "/pay"}},
           "objective": 99.9},
          {"name": "l", "service": "checkout", "sli": {"type": "latency", "threshold_ms": 250}, "objective": 99,
           "window": "7d", "alerting": {"rules": []}},
          {"name": "r", "service": "api", "tenant": "t1", "objective": 99.5, "window": "4w",
           "sli": {"type": "ratio", "good": {"metric": "ok_total", "labels": {"code": "200"}},
                   "total": {"metric": "all_total"}}}]}""", SPAN_METRICS);
    assertThat(slos).hasSize(3);
    Slo a = slos.get(0);
    assertThat(a.window()).isEqualTo(Duration.ofDays(30));
    assertThat(a.rules()).isEqualTo(Slo.DEFAULT_RULES);
    assertThat(a.sli().bad().labels()).containsEntry("status_code", "STATUS_CODE_ERROR")
        .containsEntry("http_route", "/pay").containsEntry("service_name", "checkout")
        .containsEntry("span_kind", "SPAN_KIND_SERVER");
    assertThat(slos.get(1).sli().good().le()).isEqualTo(250);
    assertThat(slos.get(1).rules()).isEmpty();
    assertThat(slos.get(2).window()).isEqualTo(Duration.ofDays(28));
    assertThat(PrometheusRules.errorRatio(slos.get(2).sli(), "5m")).isEqualTo(
        "1 - (sum(rate(ok_total{code=\"200\"}[5m])) or vector(0)) / sum(rate(all_total{}[5m]))");
  }

  @Test
  void everyProblemIsReportedWithItsPathAndTheFix() {
    assertThatThrownBy(() -> SloFileParser.parse("""
        {"slos": [
          {"name": "a", "service": "s", "sli": {"type": "latency", "threshold_ms": 300}, "objective": 100},
          {"name": "a", "service": "s", "sli": {"type": "ratio", "total": {"metric": "t"}}, "objective": 99,
           "window": "30 days", "colour": "red",
           "alerting": {"rules": [{"severity": "page", "long_window": "5m", "short_window": "1h", "burn_rate": 2}]}},
          {"name": "b c", "sli": {"type": "availability", "match": {"http.route": "/x"}}, "objective": 99}]}""",
        SPAN_METRICS)).isInstanceOfSatisfying(SloFileParser.SloFileException.class, e -> assertThat(e.problems())
            .containsExactlyInAnyOrder(
                "slos[0].objective: must be above 0 and below 100 (a percentage such as 99.9), found 100.0",
                "slos[0].sli.threshold_ms: must be a bucket bound of the span_metrics duration histogram, so good "
                    + "calls are counted exactly; bounds: [100.0, 250.0, 400.0] (or add 300.0 to the connector's "
                    + "buckets_ms)",
                "slos[1].colour: unknown key (known keys here: alerting, description, name, objective, service, sli, "
                    + "tenant, window)",
                "slos[1].window: expected a duration of whole minutes, hours, days or weeks, e.g. \"5m\", \"1h\", "
                    + "\"30d\"; found 30 days",
                "slos[1].sli: give exactly one of good and bad (the other is total minus it)",
                "slos[1].alerting.rules[0].short_window: must be shorter than long_window (the workbook uses 1/12 "
                    + "of it)",
                "slos[2].name: use letters, digits, '.', '_' and '-' (it becomes a label value and a file key), "
                    + "found \"b c\"",
                "slos[2].service: is required",
                "slos[2].sli.match[\"http.route\"]: not a Prometheus label name (letters, digits and _; an "
                    + "attribute http.route is the label http_route)"));
  }

  @Test
  void availabilityAndLatencyNeedASpanMetricsConnector() {
    assertThatThrownBy(() -> SloFileParser.parse("""
        {"slos": [{"name": "a", "service": "s", "sli": {"type": "availability"}, "objective": 99}]}""",
        SloFileParser.Catalog.NONE)).hasMessageContaining("slos[0].sli.type: a availability SLI counts the "
            + "span_metrics connector's series: add a connector of type span_metrics");
  }
}
