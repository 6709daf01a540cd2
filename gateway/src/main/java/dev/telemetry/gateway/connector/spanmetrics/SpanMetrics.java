package dev.telemetry.gateway.connector.spanmetrics;

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
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * RED metrics from spans, with the Collector spanmetrics connector's names so its dashboards work: a calls counter
 * ({@code traces.span.metrics.calls}) and a duration histogram ({@code traces.span.metrics.duration}, milliseconds,
 * explicit buckets) per service.name, span.name, span.kind, status.code and the configured dimensions (span
 * attribute first, then resource attribute; absent: not a label). Cumulative, from the first span of a series.
 *
 * <p>Bounded: beyond {@code cardinalityLimit} series, spans of new label sets count in one overflow series labelled
 * {@code otel.metric.overflow="true"} (counted); a series not updated for {@code expiryNanos} is forgotten at the next
 * snapshot (counted), and starts from zero if it comes back. Thread-safe: {@link #add} runs on any receiver's event
 * loop concurrently; counts are adders, so a snapshot may see a span in the calls counter and not yet in the
 * histogram, never lose one.
 */
public final class SpanMetrics {
  public static final String CALLS = "traces.span.metrics.calls";
  public static final String DURATION = "traces.span.metrics.duration";
  /** The Collector's default explicit bounds, in milliseconds. */
  public static final double[] DEFAULT_BOUNDS_MS = {2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000,
      10_000, 15_000};

  private final List<String> dimensions;
  private final double[] bounds;
  private final int cardinalityLimit;
  private final long expiryNanos;
  private final Resource resource;
  private final Map<Key, Series> series = new ConcurrentHashMap<>();
  private final AtomicInteger size = new AtomicInteger();
  private final LongAdder overflowSpans = new LongAdder();
  private final LongAdder expiredSeries = new LongAdder();
  private volatile Series overflow;

  /**
   * {@code resource}: what the metrics are attributed to (this gateway instance: remote-write from several members
   * must not collide).
   */
  public SpanMetrics(List<String> dimensions, double[] boundsMs, int cardinalityLimit, long expiryNanos,
                     Resource resource) {
    this.dimensions = List.copyOf(dimensions);
    this.bounds = boundsMs.clone();
    for (int i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) {
        throw new IllegalArgumentException("bucket bounds must increase: " + Arrays.toString(boundsMs));
      }
    }
    if (cardinalityLimit < 1) {
      throw new IllegalArgumentException("cardinality limit must be at least 1");
    }
    this.cardinalityLimit = cardinalityLimit;
    this.expiryNanos = expiryNanos;
    this.resource = resource;
  }

  /** The label values of one series; {@code values} in the order service, span name, kind, code, dimensions. */
  private record Key(String[] values) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(values, k.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }
  }

  /** One label set's counts. */
  private static final class Series {
    final Key key;
    final long startUnixNanos;
    final LongAdder calls = new LongAdder();
    final AtomicLongArray buckets;
    final java.util.concurrent.atomic.DoubleAdder sumMs = new java.util.concurrent.atomic.DoubleAdder();
    volatile long touchedNanos;

    Series(Key key, int bucketCount, long startUnixNanos) {
      this.key = key;
      this.buckets = new AtomicLongArray(bucketCount);
      this.startUnixNanos = startUnixNanos;
    }
  }

  /** One request's counts for one label set, added to the shared series once per request. */
  private static final class Local {
    long calls;
    double sumMs;
    final long[] buckets;

    Local(int bucketCount) {
      buckets = new long[bucketCount];
    }
  }

  /**
   * Counts every span of the request. Spans are tallied per label set first, then each set's series is updated
   * once: a request's spans share few label sets, and the shared counters are touched by every event loop.
   */
  public void add(ExportTraceServiceRequest request) {
    long now = System.nanoTime();
    Map<Key, Local> tally = new java.util.HashMap<>(8);
    for (ResourceSpans rs : request.getResourceSpansList()) {
      List<KeyValue> resourceAttrs = rs.getResource().getAttributesList();
      String service = string(resourceAttrs, "service.name");
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          Local l = tally.computeIfAbsent(key(s, service, resourceAttrs), k -> new Local(bounds.length + 1));
          double ms = Math.max(0, s.getEndTimeUnixNano() - s.getStartTimeUnixNano()) / 1e6;
          l.calls++;
          l.sumMs += ms;
          l.buckets[bucket(ms)]++;
        }
      }
    }
    for (Map.Entry<Key, Local> e : tally.entrySet()) {
      Series target = series(e.getKey());
      Local l = e.getValue();
      if (target.key == null) {
        overflowSpans.add(l.calls); // the overflow series
      }
      target.touchedNanos = now;
      target.calls.add(l.calls);
      target.sumMs.add(l.sumMs);
      for (int i = 0; i < l.buckets.length; i++) {
        if (l.buckets[i] != 0) {
          target.buckets.addAndGet(i, l.buckets[i]);
        }
      }
    }
  }

  private Key key(Span s, String service, List<KeyValue> resourceAttrs) {
    String[] values = new String[4 + dimensions.size()];
    values[0] = service;
    values[1] = s.getName();
    Span.SpanKind kind = Span.SpanKind.forNumber(s.getKindValue());
    values[2] = kind != null ? kind.name() : "SPAN_KIND_" + s.getKindValue();
    Status.StatusCode code = s.getStatus().getCode();
    values[3] = code != Status.StatusCode.UNRECOGNIZED ? code.name()
        : "STATUS_CODE_" + s.getStatus().getCodeValue();
    for (int i = 0; i < dimensions.size(); i++) {
      String v = string(s.getAttributesList(), dimensions.get(i));
      values[4 + i] = v != null ? v : string(resourceAttrs, dimensions.get(i));
    }
    return new Key(values);
  }

  private Series series(Key key) {
    Series existing = series.get(key);
    if (existing != null) {
      return existing;
    }
    if (size.incrementAndGet() > cardinalityLimit) {
      size.decrementAndGet();
      Series o = overflow;
      if (o == null) {
        synchronized (this) {
          o = overflow;
          if (o == null) {
            o = new Series(null, bounds.length + 1, System.currentTimeMillis() * 1_000_000L);
            overflow = o;
          }
        }
      }
      return o;
    }
    Series created = new Series(key, bounds.length + 1, System.currentTimeMillis() * 1_000_000L);
    Series raced = series.putIfAbsent(key, created);
    if (raced != null) {
      size.decrementAndGet();
      return raced;
    }
    return created;
  }

  /** Index of the first bound ≥ ms (values equal to a bound count in its bucket, as OTLP says), or the last. */
  private int bucket(double ms) {
    int lo = 0;
    int hi = bounds.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ms <= bounds[mid]) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /**
   * The cumulative metrics now, after forgetting series idle for longer than the expiry (they are reported one last
   * time first). Called from one thread at a time (the flush timer).
   */
  public ExportMetricsServiceRequest snapshot() {
    long nowNanos = System.nanoTime();
    long nowUnix = System.currentTimeMillis() * 1_000_000L;
    Sum.Builder calls = Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    Histogram.Builder duration = Histogram.newBuilder()
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    Iterator<Series> it = series.values().iterator();
    while (it.hasNext()) {
      Series s = it.next();
      point(s, attributes(s.key), calls, duration, nowUnix);
      if (expiryNanos > 0 && nowNanos - s.touchedNanos > expiryNanos) {
        it.remove();
        size.decrementAndGet();
        expiredSeries.increment();
      }
    }
    Series o = overflow;
    if (o != null) {
      point(o, List.of(KeyValue.newBuilder().setKey("otel.metric.overflow").setValue(AnyValue.newBuilder()
          .setBoolValue(true)).build()), calls, duration, nowUnix);
    }
    ScopeMetrics.Builder scope = ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder()
        .setName("telemetry-gateway/span_metrics"));
    if (calls.getDataPointsCount() > 0) {
      scope.addMetrics(Metric.newBuilder().setName(CALLS).setUnit("{call}")
          .setDescription("Spans seen, by service, span name, kind, status and configured dimensions").setSum(calls));
      scope.addMetrics(Metric.newBuilder().setName(DURATION).setUnit("ms")
          .setDescription("Span durations").setHistogram(duration));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(resource).addScopeMetrics(scope)).build();
  }

  private void point(Series s, List<KeyValue> attrs, Sum.Builder calls, Histogram.Builder duration, long nowUnix) {
    long n = s.calls.sum();
    calls.addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(attrs).setAsInt(n)
        .setStartTimeUnixNano(s.startUnixNanos).setTimeUnixNano(nowUnix));
    HistogramDataPoint.Builder h = HistogramDataPoint.newBuilder().addAllAttributes(attrs)
        .setStartTimeUnixNano(s.startUnixNanos).setTimeUnixNano(nowUnix);
    long count = 0;
    for (int i = 0; i < s.buckets.length(); i++) {
      long c = s.buckets.get(i);
      h.addBucketCounts(c);
      count += c;
    }
    for (double b : bounds) {
      h.addExplicitBounds(b);
    }
    duration.addDataPoints(h.setCount(count).setSum(s.sumMs.sum()));
  }

  private List<KeyValue> attributes(Key key) {
    List<KeyValue> out = new ArrayList<>(4 + dimensions.size());
    put(out, "service.name", key.values()[0]);
    put(out, "span.name", key.values()[1]);
    put(out, "span.kind", key.values()[2]);
    put(out, "status.code", key.values()[3]);
    for (int i = 0; i < dimensions.size(); i++) {
      put(out, dimensions.get(i), key.values()[4 + i]);
    }
    return out;
  }

  private static void put(List<KeyValue> out, String key, String value) {
    if (value != null) {
      out.add(KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build());
    }
  }

  /** An attribute's value as a label: strings as they are, other scalars printed; absent: null. */
  static String string(List<KeyValue> attrs, String key) {
    for (KeyValue kv : attrs) {
      if (kv.getKey().equals(key)) {
        AnyValue v = kv.getValue();
        return switch (v.getValueCase()) {
          case STRING_VALUE -> v.getStringValue();
          case BOOL_VALUE -> String.valueOf(v.getBoolValue());
          case INT_VALUE -> String.valueOf(v.getIntValue());
          case DOUBLE_VALUE -> String.valueOf(v.getDoubleValue());
          default -> null;
        };
      }
    }
    return null;
  }

  /** Spans counted in the overflow series so far. */
  public long overflowSpans() {
    return overflowSpans.sum();
  }

  /** Series forgotten after the expiry so far. */
  public long expiredSeries() {
    return expiredSeries.sum();
  }

  /** Series tracked now (without the overflow series). */
  public int seriesCount() {
    return size.get();
  }
}
