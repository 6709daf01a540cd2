package dev.telemetry.gateway.connector.genai;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.connector.HistogramCells;
import dev.telemetry.gateway.connector.HistogramSpec;
import dev.telemetry.gateway.connector.SeriesTable;
import dev.telemetry.gateway.otlp.Attributes;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * GenAI usage and cost from model-call spans (those with {@code gen_ai.operation.name} or a provider attribute):
 * the semantic conventions' {@code gen_ai.client.token.usage} and {@code gen_ai.client.operation.duration}
 * histograms, and a cost counter in USD ({@code gen_ai.client.cost.usd}) priced from the {@link PriceTable} by
 * provider and response model (else request model) at the call's time, split by token type (input, cached_input,
 * output). Every series carries service.name, tenant and the configured allocation attributes, so cost can be
 * allocated; month-to-date and projected month-end cost per allocation key are gauges ({@link CostLedger}).
 *
 * <p>Incoming {@code gen_ai.client.token.usage} metrics from SDKs that emit them are priced too (delta points as
 * they are, cumulative ones by their increase; a stream first seen after a restart counts from its next point).
 * Tokens of a model the table does not price are counted as unpriced, never guessed.
 */
public final class GenAiUsage {
  public static final String TOKENS = "gen_ai.client.token.usage";
  public static final String DURATION = "gen_ai.client.operation.duration";
  public static final String COST = "gen_ai.client.cost.usd";
  public static final String MONTH_TO_DATE = "gen_ai.client.cost.month_to_date.usd";
  public static final String MONTH_END = "gen_ai.client.cost.month_end_projection.usd";
  static final String SCOPE = "telemetry-gateway/gen_ai_metrics";
  /** The conventions' advised bounds. */
  static final double[] TOKEN_BOUNDS = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
      16777216, 67108864};
  static final double[] DURATION_BOUNDS_S = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24,
      20.48, 40.96, 81.92};
  private static final int MAX_STREAMS = 10_000;
  private static final int MAX_UNPRICED_NAMES = 100;

  private final List<String> allocation;
  private final String tenantAttribute;
  private final Resource resource;
  private final HistogramSpec tokenHistogram = HistogramSpec.explicit(TOKEN_BOUNDS);
  private final HistogramSpec durationHistogram = HistogramSpec.explicit(DURATION_BOUNDS_S);
  private final SeriesTable<Histo> tokens;
  private final SeriesTable<Histo> durations;
  private final SeriesTable<Cost> costs;
  private final CostLedger ledger;
  private volatile PriceTable prices = PriceTable.EMPTY;
  private final long startedNanos = System.currentTimeMillis() * 1_000_000L;
  /** Cumulative incoming streams: their last sum and start time (bounded, oldest forgotten). */
  private final Map<ByteString, double[]> streams = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<ByteString, double[]> eldest) {
      return size() > MAX_STREAMS;
    }
  };
  private final LongAdder calls = new LongAdder();
  private final LongAdder unpricedTokens = new LongAdder();
  private final LongAdder pricedTokens = new LongAdder();
  private final Set<String> unpricedNames = ConcurrentHashMap.newKeySet();
  private final Consumer<String> unpricedLog;

  private static final class Histo extends SeriesTable.Series {
    final HistogramCells cells;

    Histo(SeriesTable.Labels labels, HistogramSpec spec) {
      super(labels);
      cells = spec.cells();
    }
  }

  private static final class Cost extends SeriesTable.Series {
    double usd;

    Cost(SeriesTable.Labels labels) {
      super(labels);
    }
  }

  /**
   * {@code allocation}: attributes (span, then resource) that split cost, e.g. team, feature; {@code tenantAttribute}
   * where the tenant is read when the request carries none; {@code unpricedLog} hears each unpriced provider/model
   * once (the first {@value #MAX_UNPRICED_NAMES}).
   */
  public GenAiUsage(List<String> allocation, String tenantAttribute, int cardinalityLimit, long expiryNanos,
                    Resource resource, Consumer<String> unpricedLog) {
    this.allocation = List.copyOf(allocation);
    this.tenantAttribute = tenantAttribute;
    this.resource = resource;
    this.unpricedLog = unpricedLog;
    List<String> key = new ArrayList<>(List.of("service.name", "tenant"));
    key.addAll(allocation);
    tokens = new SeriesTable<>(names(key, "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
        "gen_ai.response.model", "gen_ai.token.type"), cardinalityLimit, expiryNanos,
        l -> new Histo(l, tokenHistogram));
    durations = new SeriesTable<>(names(key, "gen_ai.operation.name", "gen_ai.provider.name",
        "gen_ai.request.model", "gen_ai.response.model", "error.type"), cardinalityLimit, expiryNanos,
        l -> new Histo(l, durationHistogram));
    costs = new SeriesTable<>(names(key, "gen_ai.provider.name", "gen_ai.response.model", "gen_ai.token.type"),
        cardinalityLimit, expiryNanos, Cost::new);
    ledger = new CostLedger(cardinalityLimit);
  }

  private static List<String> names(List<String> key, String... more) {
    List<String> out = new ArrayList<>(key);
    out.addAll(Arrays.asList(more));
    return out;
  }

  public void prices(PriceTable table) {
    this.prices = table;
  }

  public PriceTable prices() {
    return prices;
  }

  /** Counts the model calls among the request's spans; {@code tenant} the request's tenant, if any. */
  public void add(ExportTraceServiceRequest request, String tenant) {
    for (ResourceSpans rs : request.getResourceSpansList()) {
      List<KeyValue> res = rs.getResource().getAttributesList();
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          List<KeyValue> a = s.getAttributesList();
          String operation = Attributes.label(a, "gen_ai.operation.name");
          String provider = Attributes.label(a, "gen_ai.provider.name", "gen_ai.system");
          if (operation == null && provider == null) {
            continue;
          }
          call(s, a, res, operation, provider, tenant);
        }
      }
    }
  }

  private void call(Span s, List<KeyValue> a, List<KeyValue> res, String operation, String provider,
                    String tenant) {
    calls.increment();
    String[] key = allocationKey(a, res, tenant);
    String requestModel = Attributes.label(a, "gen_ai.request.model");
    String responseModel = Attributes.label(a, "gen_ai.response.model");
    long input = Attributes.count(a, "gen_ai.usage.input_tokens");
    long output = Attributes.count(a, "gen_ai.usage.output_tokens");
    long cached = Math.max(0, firstCount(a, "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.input_tokens.cached"));
    long now = System.nanoTime();
    if (input >= 0) {
      record(tokens, with(key, operation, provider, requestModel, responseModel, "input"), input, now);
    }
    if (output >= 0) {
      record(tokens, with(key, operation, provider, requestModel, responseModel, "output"), output, now);
    }
    String error = null;
    if (s.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR) {
      error = Attributes.label(a, "error.type");
      error = error != null ? error : "_OTHER";
    }
    record(durations, with(key, operation, provider, requestModel, responseModel, error),
        Math.max(0, s.getEndTimeUnixNano() - s.getStartTimeUnixNano()) / 1e9, now);
    if (input > 0 || output > 0) {
      price(key, provider, responseModel != null ? responseModel : requestModel, Math.max(input, 0),
          Math.max(output, 0), cached, s.getEndTimeUnixNano());
    }
  }

  private static long firstCount(List<KeyValue> a, String... keys) {
    for (String k : keys) {
      long v = Attributes.count(a, k);
      if (v >= 0) {
        return v;
      }
    }
    return -1;
  }

  /** service.name, tenant, allocation attribute values. */
  private String[] allocationKey(List<KeyValue> spanOrPoint, List<KeyValue> res, String tenant) {
    String[] key = new String[2 + allocation.size()];
    key[0] = Attributes.label(res, "service.name");
    key[1] = tenant;
    if (key[1] == null) {
      String fromItem = Attributes.label(spanOrPoint, tenantAttribute);
      key[1] = fromItem != null ? fromItem : Attributes.label(res, tenantAttribute);
    }
    for (int i = 0; i < allocation.size(); i++) {
      String v = Attributes.label(spanOrPoint, allocation.get(i));
      key[2 + i] = v != null ? v : Attributes.label(res, allocation.get(i));
    }
    return key;
  }

  private static String[] with(String[] key, String... more) {
    String[] out = Arrays.copyOf(key, key.length + more.length);
    System.arraycopy(more, 0, out, key.length, more.length);
    return out;
  }

  private static void record(SeriesTable<Histo> table, String[] labels, double value, long now) {
    Histo h = table.get(labels);
    h.touch(now);
    synchronized (h) {
      h.cells.record(value);
    }
  }

  /** Prices one call's (or one metric point's) tokens and books the cost. */
  private void price(String[] key, String provider, String model, long input, long output, long cached,
                     long epochNanos) {
    PriceTable.Price p = prices.price(provider, model, epochNanos);
    if (p == null) {
      unpricedTokens.add(input + output);
      String name = provider + "/" + model;
      if (unpricedNames.size() < MAX_UNPRICED_NAMES && unpricedNames.add(name)) {
        unpricedLog.accept(name);
      }
      return;
    }
    pricedTokens.add(input + output);
    long cachedPart = Math.min(cached, input);
    double inputUsd = p.cost(input - cachedPart, 0, 0);
    double cachedUsd = p.cost(cachedPart, 0, cachedPart);
    double outputUsd = p.cost(0, output, 0);
    long now = System.nanoTime();
    book(with(key, provider, model, "input"), inputUsd, input - cachedPart > 0, now);
    book(with(key, provider, model, "cached_input"), cachedUsd, cachedPart > 0, now);
    book(with(key, provider, model, "output"), outputUsd, output > 0, now);
    synchronized (ledger) {
      ledger.add(Arrays.asList(key), inputUsd + cachedUsd + outputUsd, System.currentTimeMillis());
    }
  }

  private void book(String[] labels, double usd, boolean any, long now) {
    if (!any) {
      return;
    }
    Cost c = costs.get(labels);
    c.touch(now);
    synchronized (c) {
      c.usd += usd;
    }
  }

  /**
   * Prices incoming {@code gen_ai.client.token.usage} histograms (not the ones this connector emits); {@code tenant}
   * the request's tenant, if any.
   */
  public void add(ExportMetricsServiceRequest request, String tenant) {
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      List<KeyValue> res = rm.getResource().getAttributesList();
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        if (sm.getScope().getName().equals(SCOPE)) {
          continue;
        }
        for (Metric m : sm.getMetricsList()) {
          if (m.getName().equals(TOKENS) && m.hasHistogram()) {
            boolean delta = m.getHistogram().getAggregationTemporality()
                == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
            for (HistogramDataPoint dp : m.getHistogram().getDataPointsList()) {
              incoming(rm.getResource(), res, dp, delta, tenant);
            }
          }
        }
      }
    }
  }

  private void incoming(Resource resource, List<KeyValue> res, HistogramDataPoint dp, boolean delta,
                        String tenant) {
    List<KeyValue> a = dp.getAttributesList();
    String type = Attributes.label(a, "gen_ai.token.type");
    String provider = Attributes.label(a, "gen_ai.provider.name", "gen_ai.system");
    String model = Attributes.label(a, "gen_ai.response.model", "gen_ai.request.model");
    if (type == null || provider == null || !dp.hasSum()) {
      return;
    }
    double tokens = dp.getSum();
    if (!delta) {
      ByteString stream = resource.toByteString().concat(ByteString.copyFromUtf8(a.toString()));
      synchronized (streams) {
        double[] last = streams.get(stream);
        if (last == null || last[1] != dp.getStartTimeUnixNano()) {
          // A new stream counts whole only if it started since this connector did (else: its earlier part may
          // have been priced before a restart).
          boolean fresh = dp.getStartTimeUnixNano() >= startedNanos;
          streams.put(stream, new double[] {tokens, dp.getStartTimeUnixNano()});
          if (!fresh && last == null) {
            return;
          }
        } else {
          double increase = tokens - last[0];
          last[0] = tokens;
          tokens = increase < 0 ? tokens : increase;
        }
      }
    }
    long n = Math.round(tokens);
    if (n <= 0) {
      return;
    }
    String[] key = allocationKey(a, res, tenant);
    boolean isOutput = type.equals("output");
    price(key, provider, model, isOutput ? 0 : n, isOutput ? n : 0, 0, dp.getTimeUnixNano());
  }

  /** The cumulative metrics and the month's cost gauges now. One caller at a time (the flush timer). */
  public ExportMetricsServiceRequest snapshot() {
    long nowUnix = System.currentTimeMillis() * 1_000_000L;
    HistogramSpec.Points tokenPoints = tokenHistogram.points();
    tokens.sweep(h -> {
      synchronized (h) {
        tokenPoints.add(h.cells, tokens.attributes(h), h.startUnixNanos(), nowUnix, null);
      }
    });
    HistogramSpec.Points durationPoints = durationHistogram.points();
    durations.sweep(h -> {
      synchronized (h) {
        durationPoints.add(h.cells, durations.attributes(h), h.startUnixNanos(), nowUnix, null);
      }
    });
    Sum.Builder cost = Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    costs.sweep(c -> {
      synchronized (c) {
        cost.addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(costs.attributes(c)).setAsDouble(c.usd)
            .setStartTimeUnixNano(c.startUnixNanos()).setTimeUnixNano(nowUnix));
      }
    });
    Gauge.Builder mtd = Gauge.newBuilder();
    Gauge.Builder projected = Gauge.newBuilder();
    synchronized (ledger) {
      ledger.forEach(nowUnix / 1_000_000L, (key, monthToDate, monthEnd) -> {
        List<KeyValue> attrs = ledgerAttributes(key);
        mtd.addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(attrs).setAsDouble(monthToDate)
            .setTimeUnixNano(nowUnix));
        projected.addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(attrs).setAsDouble(monthEnd)
            .setTimeUnixNano(nowUnix));
      });
    }
    ScopeMetrics.Builder scope = ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder()
        .setName(SCOPE));
    if (!tokenPoints.isEmpty()) {
      scope.addMetrics(tokenPoints.metric(TOKENS, "{token}", "Tokens used per model call, by token type"));
    }
    if (!durationPoints.isEmpty()) {
      scope.addMetrics(durationPoints.metric(DURATION, "s", "Model call durations"));
    }
    if (cost.getDataPointsCount() > 0) {
      scope.addMetrics(Metric.newBuilder().setName(COST).setUnit("{USD}").setSum(cost)
          .setDescription("Cost of model calls in USD from the price table, by allocation key, model and token type"));
    }
    if (mtd.getDataPointsCount() > 0) {
      scope.addMetrics(Metric.newBuilder().setName(MONTH_TO_DATE).setUnit("{USD}").setGauge(mtd)
          .setDescription("Cost of model calls this calendar month (UTC), by allocation key"));
      scope.addMetrics(Metric.newBuilder().setName(MONTH_END).setUnit("{USD}").setGauge(projected)
          .setDescription("Projected month-end cost: month to date plus the last week's hourly rate over the hours "
              + "left"));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(resource).addScopeMetrics(scope)).build();
  }

  private List<KeyValue> ledgerAttributes(List<String> key) {
    if (key.equals(CostLedger.OVERFLOW)) {
      return List.of(KeyValue.newBuilder().setKey("otel.metric.overflow").setValue(
          io.opentelemetry.proto.common.v1.AnyValue.newBuilder().setBoolValue(true)).build());
    }
    List<KeyValue> out = new ArrayList<>(key.size());
    List<String> names = new ArrayList<>(List.of("service.name", "tenant"));
    names.addAll(allocation);
    for (int i = 0; i < key.size(); i++) {
      if (key.get(i) != null) {
        out.add(Attributes.string(names.get(i), key.get(i)));
      }
    }
    return out;
  }

  /** The month's ledger as JSON (persisted so month-to-date survives a restart). */
  public io.vertx.core.json.JsonObject ledgerJson() {
    synchronized (ledger) {
      return ledger.toJson();
    }
  }

  public void restoreLedger(io.vertx.core.json.JsonObject json, java.util.function.BiConsumer<Integer, String> skipped) {
    synchronized (ledger) {
      ledger.fromJson(json, skipped);
    }
  }

  public long calls() {
    return calls.sum();
  }

  public long unpricedTokens() {
    return unpricedTokens.sum();
  }

  public long pricedTokens() {
    return pricedTokens.sum();
  }
}
