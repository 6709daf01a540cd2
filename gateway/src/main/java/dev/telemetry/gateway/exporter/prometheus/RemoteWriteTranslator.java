package dev.telemetry.gateway.exporter.prometheus;

import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.proto.prometheus.BucketSpan;
import dev.telemetry.proto.prometheus.Exemplar;
import dev.telemetry.proto.prometheus.Histogram;
import dev.telemetry.proto.prometheus.Label;
import dev.telemetry.proto.prometheus.Sample;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns OTLP metrics into Prometheus series as the OpenTelemetry "Prometheus and OpenMetrics compatibility" spec
 * describes (see docs/exporters/prometheus.md for the rules, with examples). Stateful only for delta points, whose
 * running totals live in a {@link CumulativeState}; not thread-safe, used from the exporter's context.
 */
public final class RemoteWriteTranslator {
  /** Prometheus's staleness marker: a NaN with this exact bit pattern ends a series. */
  static final double STALE_NAN = Double.longBitsToDouble(0x7ff0000000000002L);
  private static final int FLAG_NO_RECORDED_VALUE = 1;
  private static final int MIN_SCALE = -4;
  private static final int MAX_SCALE = 8;

  private final PrometheusRemoteWriteExporterConfig config;
  private final CumulativeState state;

  /** Series built from one batch, and what could not be translated (by reason, in data points). */
  public record Translation(List<SeriesData> series, int dataPoints, Map<String, Integer> dropped) {
  }

  public RemoteWriteTranslator(PrometheusRemoteWriteExporterConfig config) {
    this.config = config;
    this.state = new CumulativeState(config.deltaMaxSeries(), config.deltaTtl().toMillis());
  }

  CumulativeState state() {
    return state;
  }

  public Translation translate(ExportMetricsServiceRequest request, long nowMillis) {
    Batch b = new Batch(nowMillis);
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      b.resource(rm);
    }
    return new Translation(new ArrayList<>(b.series.values()), b.dataPoints, b.dropped);
  }

  /** The state of one translation. */
  private final class Batch {
    final long nowMillis;
    final Map<Labels, SeriesData> series = new HashMap<>();
    final Map<String, Integer> dropped = new HashMap<>();
    int dataPoints;

    Batch(long nowMillis) {
      this.nowMillis = nowMillis;
    }

    void drop(String reason, int n) {
      dropped.merge(reason, n, Integer::sum);
    }

    SeriesData series(Labels labels) {
      return series.computeIfAbsent(labels, SeriesData::new);
    }

    void resource(ResourceMetrics rm) {
      Map<String, String> attrs = new HashMap<>();
      for (KeyValue kv : rm.getResource().getAttributesList()) {
        attrs.put(kv.getKey(), valueToString(kv.getValue()));
      }
      Map<String, String> target = new java.util.TreeMap<>();
      String service = attrs.get("service.name");
      String namespace = attrs.get("service.namespace");
      if (service != null) {
        target.put("job", namespace == null || namespace.isEmpty() ? service : namespace + "/" + service);
      }
      String instance = attrs.get("service.instance.id");
      if (instance != null) {
        target.put("instance", instance);
      }
      Map<String, String> promoted = new java.util.TreeMap<>();
      for (String key : config.promoteResourceAttributes()) {
        String v = attrs.get(key);
        if (v != null) {
          promoted.put(PrometheusNames.labelName(key), v);
        }
      }
      long latest = 0;
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        Map<String, String> scope = scopeLabels(sm.getScope());
        for (Metric m : sm.getMetricsList()) {
          latest = Math.max(latest, metric(m, target, promoted, scope));
        }
      }
      if (config.targetInfo() && latest > 0) {
        targetInfo(attrs, target, latest);
      }
    }

    Map<String, String> scopeLabels(InstrumentationScope scope) {
      Map<String, String> b = new java.util.TreeMap<>();
      if (config.scopeLabels()) {
        if (!scope.getName().isEmpty()) {
          b.put("otel_scope_name", scope.getName());
        }
        if (!scope.getVersion().isEmpty()) {
          b.put("otel_scope_version", scope.getVersion());
        }
      }
      return b;
    }

    /** {@code target_info}: the resource's other attributes as labels on a constant 1, next to job/instance. */
    void targetInfo(Map<String, String> attrs, Map<String, String> target, long timestamp) {
      Labels.Builder b = new Labels.Builder();
      attrs.forEach((k, v) -> {
        if (!k.equals("service.name") && !k.equals("service.namespace") && !k.equals("service.instance.id")) {
          b.merge(PrometheusNames.labelName(k), v);
        }
      });
      if (b.size() > 0) {
        b.setAll(target);
        external(b);
        SeriesData s = series(b.set("__name__", "target_info").build());
        s.samples.add(Sample.newBuilder().setValue(1).setTimestamp(timestamp).build());
      }
    }

    /** Base labels of a data point: its attributes, then resource and scope labels, then external labels. */
    Labels.Builder base(List<KeyValue> attributes, Map<String, String> target, Map<String, String> promoted,
                        Map<String, String> scope) {
      Labels.Builder b = new Labels.Builder();
      for (KeyValue kv : attributes) {
        b.merge(PrometheusNames.labelName(kv.getKey()), valueToString(kv.getValue()));
      }
      promoted.forEach(b::setIfAbsent);
      b.setAll(target);
      b.setAll(scope);
      external(b);
      return b;
    }

    void external(Labels.Builder b) {
      config.externalLabels().forEach(b::setIfAbsent);
    }

    /** Translates one metric; returns its latest timestamp in ms (0 if none). */
    long metric(Metric m, Map<String, String> target, Map<String, String> promoted, Map<String, String> scope) {
      long latest = 0;
      if (m.getName().isEmpty()) {
        // No series name can be made of it, and one bad series fails a whole remote-write request.
        drop("no_name", dev.telemetry.gateway.otlp.Signal.dataPointCount(m));
        return latest;
      }
      switch (m.getDataCase()) {
        case GAUGE -> {
          String name = PrometheusNames.metricName(m.getName(), m.getUnit(), false, true, config.addMetricSuffixes());
          for (NumberDataPoint dp : m.getGauge().getDataPointsList()) {
            latest = Math.max(latest, number(name, dp, null, target, promoted, scope, false));
          }
        }
        case SUM -> {
          boolean monotonic = m.getSum().getIsMonotonic();
          boolean delta = m.getSum().getAggregationTemporality()
              == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
          String name = PrometheusNames.metricName(m.getName(), m.getUnit(), monotonic, !monotonic,
              config.addMetricSuffixes());
          for (NumberDataPoint dp : m.getSum().getDataPointsList()) {
            latest = Math.max(latest, number(name, dp, delta ? Boolean.TRUE : null, target, promoted, scope,
                monotonic));
          }
        }
        case HISTOGRAM -> {
          boolean delta = m.getHistogram().getAggregationTemporality()
              == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
          String name = PrometheusNames.metricName(m.getName(), m.getUnit(), false, false,
              config.addMetricSuffixes());
          for (HistogramDataPoint dp : m.getHistogram().getDataPointsList()) {
            latest = Math.max(latest, histogram(name, dp, delta, target, promoted, scope));
          }
        }
        case EXPONENTIAL_HISTOGRAM -> {
          boolean delta = m.getExponentialHistogram().getAggregationTemporality()
              == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
          String name = PrometheusNames.metricName(m.getName(), m.getUnit(), false, false,
              config.addMetricSuffixes());
          for (ExponentialHistogramDataPoint dp : m.getExponentialHistogram().getDataPointsList()) {
            latest = Math.max(latest, exponential(name, dp, delta, target, promoted, scope));
          }
        }
        case SUMMARY -> {
          String name = PrometheusNames.metricName(m.getName(), m.getUnit(), false, false,
              config.addMetricSuffixes());
          for (SummaryDataPoint dp : m.getSummary().getDataPointsList()) {
            latest = Math.max(latest, summary(name, dp, target, promoted, scope));
          }
        }
        case DATA_NOT_SET -> drop("no_data", 1);
      }
      return latest;
    }

    long millis(long nanos) {
      return nanos == 0 ? nowMillis : nanos / 1_000_000L;
    }

    long number(String name, NumberDataPoint dp, Boolean delta, Map<String, String> target, Map<String, String> promoted,
                Map<String, String> scope, boolean counter) {
      dataPoints++;
      Labels labels = base(dp.getAttributesList(), target, promoted, scope).set("__name__", name).build();
      double v = dp.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? dp.getAsInt() : dp.getAsDouble();
      long ts = millis(dp.getTimeUnixNano());
      if ((dp.getFlags() & FLAG_NO_RECORDED_VALUE) != 0) {
        v = STALE_NAN;
      } else if (delta != null) {
        v = state.addSum(labels, v, nowMillis);
      }
      SeriesData s = series(labels);
      s.dataPoints++;
      s.samples.add(Sample.newBuilder().setValue(v).setTimestamp(ts).build());
      if (counter) {
        for (io.opentelemetry.proto.metrics.v1.Exemplar e : dp.getExemplarsList()) {
          s.addExemplar(exemplar(e));
        }
      }
      return ts;
    }

    long histogram(String name, HistogramDataPoint dp, boolean delta, Map<String, String> target, Map<String, String> promoted,
                   Map<String, String> scope) {
      dataPoints++;
      Labels.Builder base = base(dp.getAttributesList(), target, promoted, scope);
      long ts = millis(dp.getTimeUnixNano());
      boolean stale = (dp.getFlags() & FLAG_NO_RECORDED_VALUE) != 0;
      int n = dp.getExplicitBoundsCount();
      double[] bounds = new double[n];
      for (int i = 0; i < n; i++) {
        bounds[i] = dp.getExplicitBounds(i);
      }
      long[] counts = new long[n + 1];
      for (int i = 0; i < dp.getBucketCountsCount() && i <= n; i++) {
        counts[i] = dp.getBucketCounts(i);
      }
      long count = dp.getCount();
      double sum = dp.hasSum() ? dp.getSum() : Double.NaN;
      if (delta && !stale) {
        Labels key = new Labels.Builder(base).set("__name__", name + "_count").build();
        CumulativeState.Histo h = state.addHistogram(key, bounds, counts, count, dp.hasSum() ? sum : 0, nowMillis);
        counts = h.counts.clone();
        count = h.count;
        sum = dp.hasSum() ? h.sum : Double.NaN;
      }
      long cumulative = 0;
      for (int i = 0; i <= n; i++) {
        cumulative += counts[i];
        String le = i < n ? PrometheusNames.formatFloat(bounds[i]) : "+Inf";
        SeriesData s = series(new Labels.Builder(base).set("__name__", name + "_bucket").set("le", le).build());
        s.samples.add(Sample.newBuilder().setValue(stale ? STALE_NAN : (i < n ? cumulative : count))
            .setTimestamp(ts).build());
        double upper = i < n ? bounds[i] : Double.POSITIVE_INFINITY;
        double lower = i == 0 ? Double.NEGATIVE_INFINITY : bounds[i - 1];
        for (io.opentelemetry.proto.metrics.v1.Exemplar e : dp.getExemplarsList()) {
          double ev = exemplarValue(e);
          if (ev > lower && ev <= upper) {
            s.addExemplar(exemplar(e));
          }
        }
      }
      if (dp.hasSum()) {
        series(new Labels.Builder(base).set("__name__", name + "_sum").build()).samples
            .add(Sample.newBuilder().setValue(stale ? STALE_NAN : sum).setTimestamp(ts).build());
      }
      SeriesData c = series(new Labels.Builder(base).set("__name__", name + "_count").build());
      c.dataPoints++;
      c.samples.add(Sample.newBuilder().setValue(stale ? STALE_NAN : count).setTimestamp(ts).build());
      return ts;
    }

    long summary(String name, SummaryDataPoint dp, Map<String, String> target, Map<String, String> promoted,
                 Map<String, String> scope) {
      dataPoints++;
      Labels.Builder base = base(dp.getAttributesList(), target, promoted, scope);
      long ts = millis(dp.getTimeUnixNano());
      boolean stale = (dp.getFlags() & FLAG_NO_RECORDED_VALUE) != 0;
      for (SummaryDataPoint.ValueAtQuantile q : dp.getQuantileValuesList()) {
        series(new Labels.Builder(base).set("__name__", name)
            .set("quantile", PrometheusNames.formatFloat(q.getQuantile())).build()).samples
            .add(Sample.newBuilder().setValue(stale ? STALE_NAN : q.getValue()).setTimestamp(ts).build());
      }
      series(new Labels.Builder(base).set("__name__", name + "_sum").build()).samples
          .add(Sample.newBuilder().setValue(stale ? STALE_NAN : dp.getSum()).setTimestamp(ts).build());
      SeriesData c = series(new Labels.Builder(base).set("__name__", name + "_count").build());
      c.dataPoints++;
      c.samples.add(Sample.newBuilder().setValue(stale ? STALE_NAN : dp.getCount()).setTimestamp(ts).build());
      return ts;
    }

    long exponential(String name, ExponentialHistogramDataPoint dp, boolean delta, Map<String, String> target,
                     Map<String, String> promoted, Map<String, String> scope) {
      dataPoints++;
      if (dp.getScale() < MIN_SCALE) {
        drop("unsupported_scale", 1);
        return 0;
      }
      Labels labels = base(dp.getAttributesList(), target, promoted, scope).set("__name__", name).build();
      long ts = millis(dp.getTimeUnixNano());
      int scale = dp.getScale();
      ExponentialBuckets pos = ExponentialBuckets.of(dp.getPositive().getOffset(),
          dp.getPositive().getBucketCountsList());
      ExponentialBuckets neg = ExponentialBuckets.of(dp.getNegative().getOffset(),
          dp.getNegative().getBucketCountsList());
      long zeroCount = dp.getZeroCount();
      long count = dp.getCount();
      double sum = dp.hasSum() ? dp.getSum() : 0;
      double zeroThreshold = dp.getZeroThreshold();
      boolean stale = (dp.getFlags() & FLAG_NO_RECORDED_VALUE) != 0;
      if (delta && !stale) {
        CumulativeState.ExpHisto h = state.addExponential(labels, scale, zeroThreshold, zeroCount, count, sum, pos,
            neg, nowMillis);
        scale = h.scale;
        pos = h.positive;
        neg = h.negative;
        zeroCount = h.zeroCount;
        count = h.count;
        sum = h.sum;
        zeroThreshold = h.zeroThreshold;
      }
      if (scale > MAX_SCALE) {
        pos = pos.downscale(scale - MAX_SCALE);
        neg = neg.downscale(scale - MAX_SCALE);
        scale = MAX_SCALE;
      }
      Histogram.Builder h = Histogram.newBuilder().setSchema(scale).setZeroThreshold(zeroThreshold)
          .setTimestamp(ts);
      if (stale) {
        h.setSum(STALE_NAN).setCountInt(0).setZeroCountInt(0);
      } else {
        h.setSum(sum).setCountInt(count).setZeroCountInt(zeroCount)
            .setResetHint(delta ? Histogram.ResetHint.NO : Histogram.ResetHint.UNKNOWN);
        buckets(pos, h, true);
        buckets(neg, h, false);
      }
      SeriesData s = series(labels);
      s.dataPoints++;
      s.addHistogram(h.build());
      for (io.opentelemetry.proto.metrics.v1.Exemplar e : dp.getExemplarsList()) {
        s.addExemplar(exemplar(e));
      }
      return ts;
    }

    /**
     * OTLP bucket {@code offset + i} covers (base^(offset+i), base^(offset+i+1)]; Prometheus bucket {@code j}
     * covers (base^(j-1), base^j], so j = offset + i + 1. Leading and trailing empty buckets are trimmed; counts
     * are delta-encoded as integer native histograms require.
     */
    void buckets(ExponentialBuckets b, Histogram.Builder h, boolean positive) {
      long[] c = b.counts();
      int first = 0;
      int last = c.length - 1;
      while (first <= last && c[first] == 0) {
        first++;
      }
      while (last >= first && c[last] == 0) {
        last--;
      }
      if (first > last) {
        return;
      }
      BucketSpan span = BucketSpan.newBuilder().setOffset(b.offset() + first + 1).setLength(last - first + 1).build();
      long prev = 0;
      if (positive) {
        h.addPositiveSpans(span);
        for (int i = first; i <= last; i++) {
          h.addPositiveDeltas(c[i] - prev);
          prev = c[i];
        }
      } else {
        h.addNegativeSpans(span);
        for (int i = first; i <= last; i++) {
          h.addNegativeDeltas(c[i] - prev);
          prev = c[i];
        }
      }
    }

    Exemplar exemplar(io.opentelemetry.proto.metrics.v1.Exemplar e) {
      Exemplar.Builder b = Exemplar.newBuilder().setValue(exemplarValue(e)).setTimestamp(millis(e.getTimeUnixNano()));
      if (!e.getTraceId().isEmpty()) {
        b.addLabels(Label.newBuilder().setName("trace_id").setValue(OtlpJson.toHex(e.getTraceId())));
      }
      if (!e.getSpanId().isEmpty()) {
        b.addLabels(Label.newBuilder().setName("span_id").setValue(OtlpJson.toHex(e.getSpanId())));
      }
      for (KeyValue kv : e.getFilteredAttributesList()) {
        b.addLabels(Label.newBuilder().setName(PrometheusNames.labelName(kv.getKey()))
            .setValue(valueToString(kv.getValue())));
      }
      return b.build();
    }

    double exemplarValue(io.opentelemetry.proto.metrics.v1.Exemplar e) {
      return e.getValueCase() == io.opentelemetry.proto.metrics.v1.Exemplar.ValueCase.AS_INT ? e.getAsInt()
          : e.getAsDouble();
    }
  }

  /** Attribute values as label values: strings as they are, scalars in their usual text, composites as JSON. */
  static String valueToString(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case INT_VALUE -> Long.toString(v.getIntValue());
      case DOUBLE_VALUE -> PrometheusNames.formatFloat(v.getDoubleValue());
      case BYTES_VALUE -> Base64.getEncoder().encodeToString(v.getBytesValue().toByteArray());
      case ARRAY_VALUE, KVLIST_VALUE -> jsonOf(v);
      default -> ""; // unset, or a newer value kind this gateway does not know
    };
  }

  private static String jsonOf(AnyValue v) {
    StringBuilder b = new StringBuilder();
    appendJson(b, v);
    return b.toString();
  }

  private static void appendJson(StringBuilder b, AnyValue v) {
    switch (v.getValueCase()) {
      case ARRAY_VALUE -> {
        b.append('[');
        List<AnyValue> values = v.getArrayValue().getValuesList();
        for (int i = 0; i < values.size(); i++) {
          if (i > 0) {
            b.append(',');
          }
          appendJson(b, values.get(i));
        }
        b.append(']');
      }
      case KVLIST_VALUE -> {
        b.append('{');
        List<KeyValue> kvs = v.getKvlistValue().getValuesList();
        for (int i = 0; i < kvs.size(); i++) {
          if (i > 0) {
            b.append(',');
          }
          b.append(io.vertx.core.json.Json.encode(kvs.get(i).getKey())).append(':');
          appendJson(b, kvs.get(i).getValue());
        }
        b.append('}');
      }
      case STRING_VALUE, BYTES_VALUE -> b.append(io.vertx.core.json.Json.encode(valueToString(v)));
      case VALUE_NOT_SET -> b.append("null");
      default -> b.append(valueToString(v));
    }
  }
}
