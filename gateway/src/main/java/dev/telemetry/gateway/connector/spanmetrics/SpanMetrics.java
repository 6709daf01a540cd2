package dev.telemetry.gateway.connector.spanmetrics;

import dev.telemetry.gateway.connector.HistogramCells;
import dev.telemetry.gateway.connector.HistogramSpec;
import dev.telemetry.gateway.connector.SeriesTable;
import dev.telemetry.gateway.otlp.Attributes;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Exemplar;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * RED metrics from spans, with the Collector spanmetrics connector's names so its dashboards work: a calls counter
 * ({@code traces.span.metrics.calls}) and a duration histogram ({@code traces.span.metrics.duration}, milliseconds,
 * explicit or exponential buckets) per service.name, span.name, span.kind, status.code and the configured dimensions
 * (span attribute first, then resource attribute; absent: not a label). Cumulative, from the first span of a series;
 * bounded by a {@link SeriesTable}. Thread-safe: {@link #add} runs on any receiver's event loop; a request's spans are
 * tallied per label set first, then each series is updated once under its own lock.
 *
 * <p>Exemplars: each duration point carries one span's trace and span ID. A span of a trace the tail sampler kept
 * ({@link #kept}) wins over any other for {@code keptExemplarNanos}, so the exemplar link resolves in the trace
 * backend; otherwise the series' latest span is the exemplar (without a sampler every trace is kept).
 */
public final class SpanMetrics {
  public static final String CALLS = "traces.span.metrics.calls";
  public static final String DURATION = "traces.span.metrics.duration";
  /** The Collector's default explicit bounds, in milliseconds. */
  public static final double[] DEFAULT_BOUNDS_MS = {2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000,
      10_000, 15_000};
  static final long KEPT_EXEMPLAR_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
  /** A kept exemplar older than this is refreshed from the next kept trace of its series. */
  static final long KEPT_REFRESH_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

  private final List<String> dimensions;
  private final HistogramSpec histogram;
  private final Resource resource;
  private final SeriesTable<Series> table;
  private final LongAdder overflowSpans = new LongAdder();
  /**
   * (service, kind, status) of the series that lack a fresh kept exemplar, as of the last snapshot; null
   * before the first one (all wanted). Spans of kept traces outside it are not parsed.
   */
  private volatile java.util.Set<SeriesTable.Labels> wantKept;

  /**
   * {@code resource}: what the metrics are attributed to (this gateway instance: remote-write from several members
   * must not collide).
   */
  public SpanMetrics(List<String> dimensions, HistogramSpec histogram, int cardinalityLimit, long expiryNanos,
                     Resource resource) {
    this.dimensions = List.copyOf(dimensions);
    this.histogram = histogram;
    this.resource = resource;
    List<String> names = new ArrayList<>(List.of("service.name", "span.name", "span.kind", "status.code"));
    names.addAll(dimensions);
    this.table = new SeriesTable<>(names, cardinalityLimit, expiryNanos, labels -> new Series(labels,
        histogram.cells()));
  }

  /** One label set's counts and exemplar; guarded by itself. */
  private static final class Series extends SeriesTable.Series {
    final HistogramCells duration;
    long calls;
    Exemplar exemplar;
    boolean exemplarKept;
    long exemplarSetNanos;

    Series(SeriesTable.Labels labels, HistogramCells duration) {
      super(labels);
      this.duration = duration;
    }

    synchronized void exemplar(Exemplar e, boolean kept, long now) {
      if (kept || !exemplarKept || now - exemplarSetNanos > KEPT_EXEMPLAR_NANOS) {
        exemplar = e;
        exemplarKept = kept;
        exemplarSetNanos = now;
      }
    }
  }

  /** One request's spans of one label set. */
  private static final class Local {
    double[] durations = new double[4];
    int n;
    Span last;

    void add(Span s, double ms) {
      if (n == durations.length) {
        durations = java.util.Arrays.copyOf(durations, n * 2);
      }
      durations[n++] = ms;
      last = s;
    }
  }

  /** Counts every span of the request. */
  public void add(ExportTraceServiceRequest request) {
    long now = System.nanoTime();
    Map<SeriesTable.Labels, Local> tally = new HashMap<>(8);
    for (ResourceSpans rs : request.getResourceSpansList()) {
      List<KeyValue> resourceAttrs = rs.getResource().getAttributesList();
      String service = Attributes.label(resourceAttrs, "service.name");
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          tally.computeIfAbsent(new SeriesTable.Labels(labels(s, service, resourceAttrs)), k -> new Local())
              .add(s, durationMs(s));
        }
      }
    }
    for (Map.Entry<SeriesTable.Labels, Local> e : tally.entrySet()) {
      Series target = table.get(e.getKey().values());
      Local l = e.getValue();
      if (target.isOverflow()) {
        overflowSpans.add(l.n);
      }
      target.touch(now);
      synchronized (target) {
        target.calls += l.n;
        for (int i = 0; i < l.n; i++) {
          target.duration.record(l.durations[i]);
        }
      }
      target.exemplar(exemplar(l.last), false, now);
    }
  }

  /**
   * A span of a trace the sampler kept: it becomes its series' exemplar (the series must exist; a kept trace never
   * creates one — its spans were counted when they arrived, possibly on another cluster member).
   */
  public void kept(Resource spanResource, Span span) {
    List<KeyValue> attrs = spanResource.getAttributesList();
    Series s = table.find(labels(span, Attributes.label(attrs, "service.name"), attrs));
    if (s != null) {
      s.exemplar(exemplar(span), true, System.nanoTime());
    }
  }

  /**
   * True when a kept span of this service, kind and status could give some series a fresh kept exemplar (the name is
   * not used: the sampler keeps span names only when a policy reads them).
   */
  public boolean wantsKeptExemplar(Resource spanResource, int kind, int statusCode) {
    java.util.Set<SeriesTable.Labels> want = wantKept;
    if (want == null) {
      return true;
    }
    return want.contains(new SeriesTable.Labels(new String[] {Attributes.label(spanResource.getAttributesList(),
        "service.name"), kindName(kind), codeName(statusCode)}));
  }

  private static String kindName(int kind) {
    Span.SpanKind k = Span.SpanKind.forNumber(kind);
    return k != null ? k.name() : "SPAN_KIND_" + kind;
  }

  private static String codeName(int statusCode) {
    Status.StatusCode c = Status.StatusCode.forNumber(statusCode);
    return c != null ? c.name() : "STATUS_CODE_" + statusCode;
  }


  private static double durationMs(Span s) {
    return Math.max(0, s.getEndTimeUnixNano() - s.getStartTimeUnixNano()) / 1e6;
  }

  /**
   * Stamped when it is chosen, not with the span's end: Prometheus drops an exemplar older than the series' last one,
   * and a kept trace's span is chosen after later spans of undecided traces were.
   */
  private static Exemplar exemplar(Span s) {
    return Exemplar.newBuilder().setTraceId(s.getTraceId()).setSpanId(s.getSpanId()).setAsDouble(durationMs(s))
        .setTimeUnixNano(System.currentTimeMillis() * 1_000_000L).build();
  }

  private String[] labels(Span s, String service, List<KeyValue> resourceAttrs) {
    String[] values = new String[4 + dimensions.size()];
    values[0] = service;
    values[1] = s.getName();
    values[2] = kindName(s.getKindValue());
    values[3] = codeName(s.getStatus().getCodeValue());
    for (int i = 0; i < dimensions.size(); i++) {
      String v = Attributes.label(s.getAttributesList(), dimensions.get(i));
      values[4 + i] = v != null ? v : Attributes.label(resourceAttrs, dimensions.get(i));
    }
    return values;
  }

  /**
   * The cumulative metrics now, after forgetting series idle for longer than the expiry (they are reported one last
   * time first). Called from one thread at a time (the flush timer).
   */
  public ExportMetricsServiceRequest snapshot() {
    long nowUnix = System.currentTimeMillis() * 1_000_000L;
    Sum.Builder calls = Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    HistogramSpec.Points duration = histogram.points();
    long now = System.nanoTime();
    java.util.Set<SeriesTable.Labels> want = new java.util.HashSet<>();
    table.sweep(s -> {
      List<KeyValue> attrs = table.attributes(s);
      synchronized (s) {
        if (!s.isOverflow() && !(s.exemplarKept && now - s.exemplarSetNanos < KEPT_REFRESH_NANOS)) {
          String[] v = s.labels().values();
          want.add(new SeriesTable.Labels(new String[] {v[0], v[2], v[3]})); // service, kind, status
        }
        calls.addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(attrs).setAsInt(s.calls)
            .setStartTimeUnixNano(s.startUnixNanos()).setTimeUnixNano(nowUnix));
        duration.add(s.duration, attrs, s.startUnixNanos(), nowUnix, s.exemplar);
      }
    });
    wantKept = want;
    ScopeMetrics.Builder scope = ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder()
        .setName("telemetry-gateway/span_metrics"));
    if (calls.getDataPointsCount() > 0) {
      scope.addMetrics(Metric.newBuilder().setName(CALLS).setUnit("{call}")
          .setDescription("Spans seen, by service, span name, kind, status and configured dimensions").setSum(calls));
      scope.addMetrics(duration.metric(DURATION, "ms", "Span durations"));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(resource).addScopeMetrics(scope)).build();
  }

  /** Spans counted in the overflow series so far. */
  public long overflowSpans() {
    return overflowSpans.sum();
  }

  /** Series forgotten after the expiry so far. */
  public long expiredSeries() {
    return table.expired();
  }

  /** Series tracked now (without the overflow series). */
  public int seriesCount() {
    return table.size();
  }
}
