package dev.telemetry.gateway.analytics.slo;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two faces of an SLO file agree: the rules {@code slo-rules} generates pass {@code promtool check rules}, and
 * the same synthetic history — a healthy service, a hard outage, recovery, a slow burn, a flapping signal — fed to
 * the gateway's in-stream evaluator and to {@code promtool test rules} gives the same firing alerts (labels and
 * annotations) at every evaluated minute. promtool is Debian's (the prometheus package); missing, the test fails.
 */
class SloPromtoolIT {
  static final String SLOS = """
      {"slos": [
        {"name": "checkout-availability", "service": "checkout", "tenant": "shop",
         "sli": {"type": "availability", "match": {"http_route": "/checkout"}}, "objective": 99.9, "window": "30d",
         "alerting": {"runbook_url": "https://runbooks.example/checkout"}},
        {"name": "checkout-fast", "service": "checkout",
         "sli": {"type": "ratio", "bad": {"metric": "slow_requests_total"}, "total": {"metric": "requests_total"}},
         "objective": 99, "window": "7d",
         "alerting": {"rules": [{"severity": "page", "long_window": "30m", "short_window": "5m", "burn_rate": 10},
                                {"severity": "ticket", "long_window": "2h", "short_window": "10m", "burn_rate": 2}]}}
      ]}""";
  static final int MINUTES = 18 * 60;

  @TempDir
  Path tmp;

  @Test
  void generatedRulesPassPromtoolAndFireWhenTheEvaluatorDoes() throws Exception {
    List<Slo> slos = SloFileParser.parse(SLOS, new SloFileParser.Catalog(List.of(new double[] {100, 400})));
    Path rules = tmp.resolve("rules.yml");
    Files.writeString(rules, PrometheusRules.render(slos, "test"));
    String promtool = dev.telemetry.gateway.testing.Processes.binary("prometheus", "/usr/bin/promtool",
        "/usr/local/bin/promtool");
    assertThat(run(promtool, "check", "rules", rules.toString())).contains("SUCCESS");

    // Cumulative counters per minute from a seeded history.
    Random random = new Random(42);
    long[] total = new long[MINUTES + 1];
    long[] errors = new long[MINUTES + 1];
    long[] requests = new long[MINUTES + 1];
    long[] slow = new long[MINUTES + 1];
    for (int m = 1; m <= MINUTES; m++) {
      long n = 900 + random.nextInt(200);
      double errorRate = m >= 120 && m < 150 ? 0.30 // a hard outage
          : m >= 300 && m < 420 ? 0.012 // a slow burn
          : m >= 500 && m < 560 ? (m / 3 % 2 == 0 ? 0.05 : 0) // flapping
          : 0.0002;
      total[m] = total[m - 1] + n;
      errors[m] = errors[m - 1] + Math.round(n * errorRate);
      long r = 500 + random.nextInt(50);
      requests[m] = requests[m - 1] + r;
      slow[m] = slow[m - 1] + (m >= 200 && m < 260 ? r / 5 : random.nextInt(3));
    }
    SloEvaluator evaluator = new SloEvaluator(slos);
    SloService service = new SloService(null, null, SloFileParser.Catalog.NONE, null, null);
    Map<Integer, List<String>> firing = new TreeMap<>();
    List<String> tests = new ArrayList<>();
    for (int m = 0; m <= MINUTES; m++) {
      long at = m * 60_000L;
      evaluator.take(request(at, total[m], errors[m], requests[m], slow[m]));
      List<SloEvaluator.Status> statuses = new ArrayList<>();
      evaluator.evaluate(at, statuses);
      List<String> alerts = new ArrayList<>();
      for (SloEvaluator.Status s : statuses) {
        for (String severity : s.firingSince().keySet()) {
          alerts.add(expected(service, s.slo(), severity));
        }
      }
      if (m % 5 == 0) {
        firing.put(m, alerts);
        tests.add("      - eval_time: " + m + "m\n        alertname: " + PrometheusRules.ALERT + "\n        exp_alerts:"
            + (alerts.isEmpty() ? " []\n" : "\n" + String.join("", alerts)));
      }
    }
    // The history exercises both states of both SLOs' alerts.
    String all = String.join("", firing.values().stream().flatMap(List::stream).toList());
    assertThat(all).contains("checkout-availability").contains("checkout-fast").contains("severity: \"page\"")
        .contains("severity: \"ticket\"");
    assertThat(firing.get(0)).isEmpty();
    assertThat(firing.get(MINUTES)).isEmpty();

    StringBuilder test = new StringBuilder("rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n"
        + "  - interval: 1m\n    input_series:\n");
    test.append(series("traces_span_metrics_calls_total{service_name=\"checkout\",span_kind=\"SPAN_KIND_SERVER\","
        + "http_route=\"/checkout\",status_code=\"STATUS_CODE_UNSET\"}", diff(total, errors)));
    test.append(series("traces_span_metrics_calls_total{service_name=\"checkout\",span_kind=\"SPAN_KIND_SERVER\","
        + "http_route=\"/checkout\",status_code=\"STATUS_CODE_ERROR\"}", errors));
    test.append(series("requests_total", requests));
    test.append(series("slow_requests_total", slow));
    test.append("    alert_rule_test:\n");
    tests.forEach(test::append);
    Files.writeString(tmp.resolve("test.yml"), test.toString());
    String out = run(promtool, "test", "rules", tmp.resolve("test.yml").toString());
    assertThat(out).contains("SUCCESS");
  }

  /** The evaluator's alert, as promtool's exp_alerts entry. */
  static String expected(SloService service, Slo slo, String severity) {
    dev.telemetry.gateway.alerting.Alert a = service.alert(new SloEvaluator.Transition(slo, severity, true, 0, 0));
    StringBuilder b = new StringBuilder("          - exp_labels:\n");
    new TreeMap<>(a.labels()).forEach((k, v) -> {
      if (!k.equals("alertname")) {
        b.append("              ").append(k).append(": ").append(PrometheusRules.q(v)).append('\n');
      }
    });
    b.append("            exp_annotations:\n");
    new TreeMap<>(a.annotations()).forEach((k, v) -> b.append("              ").append(k).append(": ")
        .append(PrometheusRules.q(v)).append('\n'));
    return b.toString();
  }

  static long[] diff(long[] a, long[] b) {
    long[] out = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] - b[i];
    }
    return out;
  }

  static String series(String name, long[] values) {
    StringBuilder b = new StringBuilder("      - series: ").append(PrometheusRules.q(name)).append("\n        values: \"");
    for (int i = 0; i < values.length; i++) {
      b.append(i == 0 ? "" : " ").append(values[i]);
    }
    return b.append("\"\n").toString();
  }

  /** The same points as OTLP: span_metrics' calls counter (two status codes) and two plain counters. */
  static ExportMetricsServiceRequest request(long atMillis, long total, long errors, long requests, long slow) {
    long t = atMillis * 1_000_000L;
    Sum.Builder calls = Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    calls.addDataPoints(point(t, total - errors, "STATUS_CODE_UNSET"));
    calls.addDataPoints(point(t, errors, "STATUS_CODE_ERROR"));
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .addScopeMetrics(ScopeMetrics.newBuilder()
            .addMetrics(Metric.newBuilder().setName("traces.span.metrics.calls").setUnit("{call}").setSum(calls))
            .addMetrics(counter("requests", t, requests)).addMetrics(counter("slow_requests", t, slow)))).build();
  }

  static Metric counter(String name, long t, long v) {
    return Metric.newBuilder().setName(name).setSum(Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
        .addDataPoints(NumberDataPoint.newBuilder().setStartTimeUnixNano(0).setTimeUnixNano(t).setAsInt(v))).build();
  }

  static NumberDataPoint point(long t, long v, String status) {
    return NumberDataPoint.newBuilder().setStartTimeUnixNano(0).setTimeUnixNano(t).setAsInt(v)
        .addAttributes(kv("service.name", "checkout")).addAttributes(kv("span.kind", "SPAN_KIND_SERVER"))
        .addAttributes(kv("http.route", "/checkout")).addAttributes(kv("status.code", status)).build();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static String run(String... cmd) throws Exception {
    return dev.telemetry.gateway.testing.Processes.run(cmd);
  }

}
