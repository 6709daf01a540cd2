package dev.telemetry.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The anomalies, forecasts and remediations sections: defaults, and every problem at once with its JSON path. */
class AnalyticsConfigTest {
  final ConfigLoader loader = dev.telemetry.gateway.component.Components.BUILT_IN.configLoader(k -> null);
  static final String BASE = """
      {"receivers": {"otlp": {"type": "otlp"}},
       "exporters": {"f": {"type": "file", "directory": "d"}},
       "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["f"]},
                     "metrics": {"receivers": ["otlp"], "exporters": ["f"]}}%s}""";

  static final String ONE_OF = "exactly one of routing_table (a pre-approved routing table file), sampling "
      + "({\"policy_set\": ...}) or tenant_quota ({\"tenant\": ..., \"factor\": 2, \"max_items_per_second\": ...}) "
      + "is required";

  List<String> problems(String sections) {
    try {
      loader.parse(BASE.formatted(sections), Path.of("."));
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected the config to be rejected");
  }

  @Test
  void defaults() throws Exception {
    GatewayConfig c = loader.parse(BASE.formatted(", \"anomalies\": {}, \"forecasts\": {}"), Path.of("."));
    AnomaliesConfig a = c.anomaliesConfig().orElseThrow();
    assertThat(a.method()).isEqualTo("seasonal_median");
    assertThat(a.step()).isEqualTo(Duration.ofMinutes(5));
    assertThat(a.red().groupBy()).containsExactly("service.name", "span.name");
    assertThat(a.red().latencyQuantiles()).containsExactly(0.99);
    assertThat(a.rules()).isEqualTo(AnomaliesConfig.Rules.DEFAULTS);
    ForecastsConfig f = c.forecastsConfig().orElseThrow();
    assertThat(f.queueDiskAlertWithin()).isEqualTo(Duration.ofHours(1));
    assertThat(f.costMetric()).isEqualTo("gen_ai_client_cost_month_end_projection_usd");
    assertThat(c.remediationsConfig()).isEmpty();
  }

  @Test
  void everyProblemIsNamedByItsPath() {
    assertThat(problems("""
        , "anomalies": {"method": "prophet", "step": "7m",
           "streams": [{"name": "red", "metric": "x"}, {"metric": "y", "type": "histogram", "scale": "sqrt",
                        "direction": "sideways"}],
           "rules": {"threshold": 4, "sustained_threshold": 5, "critical_threshold": 3},
           "red": {"latency_quantiles": [99]},
           "maintenance": [{"start": "2026-12-24T00:00:00Z", "end": "2026-12-23T00:00:00Z"}, {"start": "tomorrow"}]},
          "forecasts": {"cost_budgets": [{"name": "a"}, {"name": "a", "monthly_usd": 10, "warn_at": 2}]},
          "remediations": {"actions": [{"name": "x"}, {"name": "y", "when": {"alertname": "A"},
                                        "routing_table": "t.json", "sampling": {"policy_set": "s"}}]}""")).containsExactlyInAnyOrder(
        "anomalies.method: unknown method \"prophet\" (known: seasonal_median, holt_winters)",
        "anomalies.step: must divide a day and be at most 1h (e.g. \"1m\", \"5m\", \"15m\"), found PT7M",
        "anomalies.streams[0].name: \"red\" is used by another stream (or is \"red\", the RED series' name): names "
            + "must be unique",
        "anomalies.streams[1].name: required: the stream's name (the alert's stream label), e.g. \"genai-cost\"",
        "anomalies.streams[1].type: \"histogram\" is not one of counter, gauge",
        "anomalies.streams[1].scale: expected \"count\" (events per step), \"log\" (positive amounts: seconds, "
            + "dollars) or \"linear\" (ratios), found \"sqrt\"",
        "anomalies.streams[1].direction: expected \"up\", \"down\" or \"both\", found \"sideways\"",
        "anomalies.rules.sustained_threshold: must not exceed threshold (4.0), found 5.0",
        "anomalies.rules.critical_threshold: must be at least threshold (4.0), found 3.0",
        "anomalies.red.latency_quantiles: element 0: expected a quantile between 0 and 1 (e.g. 0.99), found 99",
        "anomalies.maintenance[0].end: must be after start (2026-12-24T00:00:00Z), found 2026-12-23T00:00:00Z",
        "anomalies.maintenance[1].start: expected a UTC time such as \"2026-12-24T00:00:00Z\", found \"tomorrow\"",
        "forecasts.cost_budgets[0].monthly_usd: required: the budget in US dollars per calendar month (UTC), "
            + "e.g. 5000",
        "forecasts.cost_budgets[1].name: \"a\" is used by another budget: names must be unique",
        "forecasts.cost_budgets[1].warn_at: 2.0 is out of range [0.01, 1.0]",
        "remediations.actions[0].when: required: the labels of the alerts that run it, e.g. {\"alertname\": "
            + "\"GatewayAnomaly\", \"severity\": \"critical\"}",
        "remediations.actions[0]: " + ONE_OF,
        "remediations.actions[1]: " + ONE_OF,
        "remediations: routing_table and sampling remediations change the routing table: configure routing (a "
            + "routing table file)");
  }

  @Test
  void quotasAndTheQuotaRemediation() throws Exception {
    GatewayConfig c = loader.parse(BASE.formatted("""
        , "quotas": {"default": {"items_per_second": 1000}, "tenants": {"acme": {"bytes_per_second": "10MiB"}}},
          "remediations": {"actions": [{"name": "raise", "when": {"alertname": "TenantQuotaPressure"},
            "tenant_quota": {"tenant_label": "tenant", "factor": 3, "max_items_per_second": 5000}}]}"""),
        Path.of("."));
    QuotasConfig q = c.quotasConfig().orElseThrow();
    assertThat(q.defaults()).isEqualTo(new QuotasConfig.Limit(1000, 0));
    assertThat(q.tenants().get("acme")).isEqualTo(new QuotasConfig.Limit(0, 10L << 20));
    assertThat(q.burstSeconds()).isEqualTo(1.0);
    assertThat(c.remediationsConfig().orElseThrow().actions().get(0).quota())
        .isEqualTo(new RemediationsConfig.QuotaRaise(null, "tenant", 3, 5000, 0));
    assertThat(problems("""
        , "quotas": {"tenants": {"acme": {"items_per_second": -1}, "b": {}}, "burst_seconds": 0},
          "remediations": {"actions": [{"name": "raise", "when": {"alertname": "X"},
            "tenant_quota": {"tenant": "a", "tenant_label": "t"}}]}""")).containsExactlyInAnyOrder(
        "quotas.tenants.acme.items_per_second: -1 is out of range [0, 2305843009213693951]",
        "quotas.tenants.b: set items_per_second and/or bytes_per_second (0: unlimited)",
        "quotas.burst_seconds: 0.0 is out of range [0.1, 3600.0]",
        "remediations.actions[0].tenant_quota: tenant and tenant_label exclude each other",
        "remediations.actions[0].tenant_quota: a cap is required: max_items_per_second and/or max_bytes_per_second "
            + "(the most a remediation may raise the quota to)");
    assertThat(problems("""
        , "remediations": {"actions": [{"name": "raise", "when": {"alertname": "X"},
            "tenant_quota": {"tenant": "a", "max_items_per_second": 10}}]}""")).containsExactly(
        "remediations.actions[0].tenant_quota: the gateway has no tenant quotas to raise: add a quotas section");
  }

  @Test
  void remediationsAndMaintenanceLoad() throws Exception {
    GatewayConfig c = loader.parse(BASE.formatted("""
        , "routing": {"file": "routes.json"},
          "anomalies": {"maintenance": [{"start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z",
                                          "match": {"service_name": "checkout"}}]},
          "remediations": {"dry_run": true, "actions": [
            {"name": "shed", "when": {"alertname": "GatewayAnomaly"}, "routing_table": "shed.json"},
            {"name": "strict", "when": {"alertname": "B"}, "sampling": {"policy_set": "errors"}, "dry_run": false}]}"""),
        Path.of("."));
    RemediationsConfig r = c.remediationsConfig().orElseThrow();
    assertThat(r.actions()).extracting(RemediationsConfig.Action::dryRun).containsExactly(true, false);
    assertThat(r.actions().get(1).samplingPolicySet()).isEqualTo("errors");
    AnomaliesConfig.Maintenance m = c.anomaliesConfig().orElseThrow().maintenance().get(0);
    long christmas = java.time.Instant.parse("2026-12-25T12:00:00Z").toEpochMilli();
    assertThat(m.covers(christmas, Map.of("service_name", "checkout", "span_name", "GET /"))).isTrue();
    assertThat(m.covers(christmas, Map.of("service_name", "search"))).isFalse();
    assertThat(m.covers(java.time.Instant.parse("2026-12-27T00:00:00Z").toEpochMilli(),
        Map.of("service_name", "checkout"))).isFalse();
  }
}
