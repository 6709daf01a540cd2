package dev.telemetry.gateway.connector.genai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GenAiUsageTest {
  static final String PRICES = """
      {"prices": [
        {"provider": "openai", "model": "gpt-4o", "effective_from": "2024-01-01",
         "input_per_million": 5, "output_per_million": 15},
        {"provider": "openai", "model": "gpt-4o", "effective_from": "2025-06-01",
         "input_per_million": 2.5, "output_per_million": 10, "cached_input_per_million": 1.25},
        {"provider": "openai", "model": "gpt-4o-mini*", "input_per_million": 0.15, "output_per_million": 0.6},
        {"provider": "anthropic", "model": "claude-sonnet-4", "input_per_million": 3, "output_per_million": 15}
      ]}""";

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static KeyValue kv(String k, long v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setIntValue(v)).build();
  }

  static long nanos(String day) {
    return LocalDate.parse(day).atStartOfDay().toEpochSecond(ZoneOffset.UTC) * 1_000_000_000L + 5_000_000_000L;
  }

  static Span call(String model, long in, long out, long cached, String team, String day, boolean error) {
    Span.Builder s = Span.newBuilder().setName("chat " + model).setKind(Span.SpanKind.SPAN_KIND_CLIENT)
        .setStartTimeUnixNano(nanos(day) - 1_500_000_000L).setEndTimeUnixNano(nanos(day))
        .addAttributes(kv("gen_ai.operation.name", "chat")).addAttributes(kv("gen_ai.provider.name",
            model.startsWith("claude") ? "anthropic" : "openai"))
        .addAttributes(kv("gen_ai.request.model", model)).addAttributes(kv("gen_ai.usage.input_tokens", in))
        .addAttributes(kv("gen_ai.usage.output_tokens", out)).addAttributes(kv("team", team));
    if (cached > 0) {
      s.addAttributes(kv("gen_ai.usage.cache_read.input_tokens", cached));
    }
    if (error) {
      s.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
    }
    return s.build();
  }

  static ExportTraceServiceRequest spans(String service, Span... spans) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", service)))
        .addScopeSpans(ScopeSpans.newBuilder().addAllSpans(List.of(spans)).addSpans(Span.newBuilder()
            .setName("not a model call")))).build();
  }

  static GenAiUsage usage(List<String> unpriced) throws Exception {
    GenAiUsage u = new GenAiUsage(List.of("team"), "tenant", 100, 0, Resource.getDefaultInstance(), unpriced::add);
    u.prices(PriceTable.parse(PRICES));
    return u;
  }

  /** USD by "service|tenant|team|model|type". */
  static Map<String, Double> cost(ExportMetricsServiceRequest r) {
    Map<String, Double> out = new HashMap<>();
    for (Metric m : r.getResourceMetrics(0).getScopeMetrics(0).getMetricsList()) {
      if (m.getName().equals(GenAiUsage.COST)) {
        for (NumberDataPoint p : m.getSum().getDataPointsList()) {
          Map<String, String> l = new HashMap<>();
          p.getAttributesList().forEach(a -> l.put(a.getKey(), a.getValue().getStringValue()));
          out.merge(l.get("service.name") + "|" + l.get("tenant") + "|" + l.get("team") + "|"
              + l.get("gen_ai.response.model") + "|" + l.get("gen_ai.token.type"), p.getAsDouble(), Double::sum);
        }
      }
    }
    return out;
  }

  static Metric metric(ExportMetricsServiceRequest r, String name) {
    return r.getResourceMetrics(0).getScopeMetrics(0).getMetricsList().stream().filter(m -> m.getName().equals(name))
        .findFirst().orElseThrow();
  }

  @Test
  void pricesEachCallByTheModelsPriceOnTheCallsDayWithCachedTokensAtTheirPrice() throws Exception {
    List<String> unpriced = new ArrayList<>();
    GenAiUsage u = usage(unpriced);
    u.add(spans("assistant",
        call("gpt-4o", 1_000_000, 100_000, 0, "search", "2025-01-10", false), // old price: 5 + 1.5
        call("gpt-4o", 1_000_000, 100_000, 400_000, "search", "2025-07-10", false), // 1.5 + 0.5 + 1.0
        call("gpt-4o-mini-2024-07-18", 2_000_000, 1_000_000, 0, "chat", "2025-07-10", true), // 0.3 + 0.6
        call("claude-sonnet-4", 10_000, 2_000, 0, "chat", "2025-07-10", false), // 0.03 + 0.03
        call("llama-3-70b", 500, 500, 0, "chat", "2025-07-10", false)), "acme"); // no price
    Map<String, Double> c = cost(u.snapshot());
    assertThat(c.get("assistant|acme|search|gpt-4o|input")).isCloseTo(5.0 + 1.5, within(1e-9));
    assertThat(c.get("assistant|acme|search|gpt-4o|cached_input")).isCloseTo(0.5, within(1e-9));
    assertThat(c.get("assistant|acme|search|gpt-4o|output")).isCloseTo(1.5 + 1.0, within(1e-9));
    assertThat(c.get("assistant|acme|chat|gpt-4o-mini-2024-07-18|input")).isCloseTo(0.3, within(1e-9));
    assertThat(c.get("assistant|acme|chat|gpt-4o-mini-2024-07-18|output")).isCloseTo(0.6, within(1e-9));
    assertThat(c.get("assistant|acme|chat|claude-sonnet-4|output")).isCloseTo(0.03, within(1e-9));
    assertThat(c.keySet()).noneMatch(k -> k.contains("llama"));
    assertThat(u.unpricedTokens()).isEqualTo(1000);
    assertThat(unpriced).containsExactly("openai/llama-3-70b");
    assertThat(u.calls()).isEqualTo(5);
    ExportMetricsServiceRequest r = u.snapshot();
    Metric tokens = metric(r, GenAiUsage.TOKENS);
    long inputTokens = tokens.getHistogram().getDataPointsList().stream().filter(p -> p.getAttributesList()
        .contains(kv("gen_ai.token.type", "input"))).mapToLong(p -> (long) p.getSum()).sum();
    assertThat(inputTokens).isEqualTo(1_000_000 + 1_000_000 + 2_000_000 + 10_000 + 500);
    Metric duration = metric(r, GenAiUsage.DURATION);
    assertThat(duration.getHistogram().getDataPointsList()).anyMatch(p -> p.getAttributesList()
        .contains(kv("error.type", "_OTHER")) && p.getCount() == 1);
    // Month to date is booked at arrival: all of this month.
    Metric mtd = metric(r, GenAiUsage.MONTH_TO_DATE);
    double total = mtd.getGauge().getDataPointsList().stream().mapToDouble(NumberDataPoint::getAsDouble).sum();
    assertThat(total).isCloseTo(6.5 + 3.0 + 0.9 + 0.06, within(1e-9));
    Metric end = metric(r, GenAiUsage.MONTH_END);
    assertThat(end.getGauge().getDataPointsList()).allMatch(p -> p.getAsDouble() >= 0);
  }

  @Test
  void theExamplePriceTableParses() throws Exception {
    PriceTable t = PriceTable.parse(java.nio.file.Files.readString(java.nio.file.Path.of(
        System.getProperty("gateway.repo.root", ".."), "config/examples/genai/prices.json")));
    assertThat(t.size()).isEqualTo(6);
    assertThat(t.price("openai", "gpt-4o", nanos("2024-06-01")).input()).isEqualTo(5);
    assertThat(t.price("openai", "gpt-4o", nanos("2026-06-01")).input()).isEqualTo(2.5);
    assertThat(t.price("openai", "gpt-4o", nanos("2024-01-01"))).as("before its first price").isNull();
    assertThat(t.price("Anthropic", "claude-sonnet-4-20250514", nanos("2026-06-01")).output()).isEqualTo(15);
  }

  @Test
  void aBadPriceTableNamesEveryProblemWithItsPath() {
    assertThatThrownBy(() -> PriceTable.parse("""
        {"prices": [{"provider": "openai", "model": "gpt-4o", "input_per_million": -1, "output_per_million": 2},
                    {"model": "x", "effective_from": "yesterday", "output_per_million": 1, "colour": "red"},
                    {"provider": "openai", "model": "gpt-4o", "input_per_million": 1, "output_per_million": 2}]}
        """)).isInstanceOfSatisfying(PriceTable.PriceTableException.class, e -> assertThat(e.problems())
            .containsExactlyInAnyOrder(
                "prices[0].input_per_million: -1.0 is out of range [0.0, 1000000.0]",
                "prices[1].colour: unknown key (known keys here: cached_input_per_million, effective_from, "
                    + "input_per_million, model, output_per_million, provider)",
                "prices[1].provider: is required",
                "prices[1].effective_from: expected a date like 2026-01-31, found \"yesterday\"",
                "prices[1].input_per_million: required: USD per million input tokens",
                "prices[2]: same provider, model and effective_from as prices[0]; remove one of them"));
    assertThatThrownBy(() -> PriceTable.parse("[]")).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> PriceTable.parse("{}")).hasMessageContaining("prices: expected a list of prices");
  }

  @Test
  void incomingTokenUsageMetricsArePricedByTheirIncreaseAndOwnOutputIsNot() throws Exception {
    GenAiUsage u = usage(new ArrayList<>());
    long start = System.currentTimeMillis() * 1_000_000L + 1;
    for (double sum : new double[] {1_000_000, 3_000_000, 3_000_000}) {
      u.add(tokenUsage("sdk", AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, start, sum), "acme");
    }
    u.add(tokenUsage("sdk", AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, start, 1_000_000), "acme");
    // A stream that started before the connector: only its increase from here on.
    u.add(tokenUsage("svc2", "sdk", AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, 5, 9_000_000), "old");
    u.add(tokenUsage("svc2", "sdk", AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, 5, 10_000_000),
        "old");
    // A restarted stream (new start time) counts whole.
    u.add(tokenUsage("svc2", "sdk", AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, start, 400_000),
        "old");
    // The connector's own output must not be priced again.
    u.add(tokenUsage(GenAiUsage.SCOPE, AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, start, 1e9), "acme");
    Map<String, Double> c = cost(u.snapshot());
    // gpt-4o input today: 2.5 per million; 3M cumulative + 1M delta.
    assertThat(c.get("svc|acme|null|gpt-4o|input")).isCloseTo(10.0, within(1e-9));
    assertThat(c.get("svc2|old|null|gpt-4o|input")).isCloseTo(2.5 + 1.0, within(1e-9));
  }

  static ExportMetricsServiceRequest tokenUsage(String scope, AggregationTemporality t, long start, double sum) {
    return tokenUsage("svc", scope, t, start, sum);
  }

  static ExportMetricsServiceRequest tokenUsage(String service, String scope, AggregationTemporality t, long start,
                                                double sum) {
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", service)))
        .addScopeMetrics(ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder().setName(scope))
            .addMetrics(Metric.newBuilder().setName(GenAiUsage.TOKENS).setHistogram(Histogram.newBuilder()
                .setAggregationTemporality(t).addDataPoints(HistogramDataPoint.newBuilder()
                    .setStartTimeUnixNano(start).setTimeUnixNano(System.currentTimeMillis() * 1_000_000L)
                    .setCount(1).setSum(sum).addAttributes(kv("gen_ai.token.type", "input"))
                    .addAttributes(kv("gen_ai.provider.name", "openai"))
                    .addAttributes(kv("gen_ai.request.model", "gpt-4o"))))))).build();
  }

  @Test
  void theLedgerProjectsMonthEndFromTheRecentRateAndSurvivesARestart() {
    CostLedger ledger = new CostLedger(10);
    long day = LocalDate.parse("2026-11-10").atStartOfDay().toEpochSecond(ZoneOffset.UTC) * 1000;
    List<String> key = java.util.Arrays.asList("svc", null, "team-a");
    // 2 USD an hour for the last 24 hours of Nov 9..10; earlier in the month nothing.
    ledger.add(key, 100, LocalDate.parse("2026-11-01").atStartOfDay().toEpochSecond(ZoneOffset.UTC) * 1000);
    for (int h = 0; h < 24; h++) {
      ledger.add(key, 2, day - (23 - h) * 3_600_000L);
    }
    double[] seen = new double[2];
    ledger.forEach(day, (k, mtd, end) -> {
      seen[0] = mtd;
      seen[1] = end;
    });
    assertThat(seen[0]).isCloseTo(148, within(1e-9));
    // The week's window: 48 USD over 168 hours; 21 days (504 h) left from the start of Nov 10.
    assertThat(seen[1]).isCloseTo(148 + 48.0 / 168 * 504, within(1e-6));
    CostLedger restored = new CostLedger(10);
    restored.fromJson(ledger.toJson(), (i, p) -> { throw new AssertionError(p); });
    double[] again = new double[2];
    restored.forEach(day, (k, mtd, end) -> {
      assertThat(k).isEqualTo(key);
      again[0] = mtd;
      again[1] = end;
    });
    assertThat(again).containsExactly(seen);
    // A new month starts from zero.
    long december = LocalDate.parse("2026-12-01").atStartOfDay().toEpochSecond(ZoneOffset.UTC) * 1000;
    restored.forEach(december, (k, mtd, end) -> assertThat(mtd).isZero());
  }
}
