package dev.telemetry.gateway.analytics.anomaly;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.config.AnomaliesConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusNames;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the metrics pipeline into the {@link SeriesBook}: the span_metrics calls counter (calls and errors per RED
 * group) and duration histogram (bucket increases), and each configured stream (a counter's increase, a gauge's
 * value), each point in the step ending at or after its time. Cumulative streams count their increase since the last
 * point (a reset counts the new value; a stream first seen counts whole only if it started after this reader did —
 * else that part may predate a restart). Thread-safe (one lock).
 */
final class MetricReader {
  static final String RED = "red";
  static final String CALLS = PrometheusNames.metricName("traces.span.metrics.calls", "", true, false, true);
  static final String DURATION = PrometheusNames.metricName("traces.span.metrics.duration", "ms", false, false,
      true);

  private final AnomaliesConfig config;
  private final SeriesBook book;
  private final long stepNanos;
  private final long startedNanos = System.currentTimeMillis() * 1_000_000L;
  private final List<String> redLabels;
  private final Map<String, AnomaliesConfig.Stream> counters = new HashMap<>();
  private final Map<String, AnomaliesConfig.Stream> gauges = new HashMap<>();
  private final Map<ByteString, double[]> cumulative = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<ByteString, double[]> eldest) {
      return size() > 100_000;
    }
  };

  MetricReader(AnomaliesConfig config, SeriesBook book) {
    this.config = config;
    this.book = book;
    this.stepNanos = config.step().toNanos();
    this.redLabels = config.red().groupBy().stream().map(PrometheusNames::labelName).toList();
    for (AnomaliesConfig.Stream s : config.streams()) {
      if (s.source() == AnomaliesConfig.Stream.Source.PIPELINE) {
        (s.type() == AnomaliesConfig.Stream.Type.COUNTER ? counters : gauges).put(s.metric(), s);
      }
    }
  }

  long step(long timeUnixNano) {
    return -Math.floorDiv(-timeUnixNano, stepNanos);
  }

  synchronized void take(ExportMetricsServiceRequest request) {
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      Map<String, String> resource = null;
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          switch (m.getDataCase()) {
            case SUM -> {
              boolean monotonic = m.getSum().getIsMonotonic();
              String counterName = PrometheusNames.metricName(m.getName(), m.getUnit(), true, false, true);
              String gaugeName = PrometheusNames.metricName(m.getName(), m.getUnit(), false, true, true);
              boolean red = monotonic && config.red().enabled() && counterName.equals(CALLS);
              AnomaliesConfig.Stream counter = monotonic ? counters.get(counterName) : null;
              AnomaliesConfig.Stream gauge = monotonic ? null : gauges.get(gaugeName);
              if (!red && counter == null && gauge == null) {
                continue;
              }
              if (resource == null) {
                resource = PrometheusNames.labels(rm.getResource().getAttributesList(), Map.of());
              }
              boolean delta = m.getSum().getAggregationTemporality()
                  == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
              for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                double v = p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
                Map<String, String> labels = PrometheusNames.labels(p.getAttributesList(), resource);
                if (gauge != null) {
                  gauge(gauge, labels, p.getTimeUnixNano(), v);
                  continue;
                }
                double increase = delta ? v : increase(counterName, rm, p.getAttributesList(), v,
                    p.getStartTimeUnixNano());
                if (red) {
                  redCalls(labels, p.getTimeUnixNano(), increase);
                }
                if (counter != null && matches(counter, labels) && increase > 0) {
                  book.add(counter.name(), "value", group(counter.groupBy(), labels), SeriesBook.Merge.SUM, null,
                      step(p.getTimeUnixNano()), new double[] {increase});
                }
              }
            }
            case GAUGE -> {
              AnomaliesConfig.Stream gauge = gauges.get(PrometheusNames.metricName(m.getName(), m.getUnit(), false,
                  true, true));
              if (gauge == null) {
                continue;
              }
              if (resource == null) {
                resource = PrometheusNames.labels(rm.getResource().getAttributesList(), Map.of());
              }
              for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
                double v = p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
                gauge(gauge, PrometheusNames.labels(p.getAttributesList(), resource), p.getTimeUnixNano(), v);
              }
            }
            case HISTOGRAM -> {
              if (!config.red().enabled() || config.red().latencyQuantiles().isEmpty() || !DURATION.equals(
                  PrometheusNames.metricName(m.getName(), m.getUnit(), false, false, true))) {
                continue;
              }
              if (resource == null) {
                resource = PrometheusNames.labels(rm.getResource().getAttributesList(), Map.of());
              }
              boolean delta = m.getHistogram().getAggregationTemporality()
                  == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
              for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
                redDuration(rm, p, PrometheusNames.labels(p.getAttributesList(), resource), delta);
              }
            }
            default -> {
            }
          }
        }
      }
    }
  }

  private void gauge(AnomaliesConfig.Stream s, Map<String, String> labels, long time, double v) {
    if (matches(s, labels) && Double.isFinite(v)) {
      book.add(s.name(), "value", group(s.groupBy(), labels), SeriesBook.Merge.MAX, null, step(time),
          new double[] {v});
    }
  }

  private void redCalls(Map<String, String> labels, long time, double increase) {
    if (increase <= 0 || !config.red().spanKinds().contains(labels.get("span_kind"))) {
      return;
    }
    boolean error = "STATUS_CODE_ERROR".equals(labels.get("status_code"));
    book.add(RED, "calls", groupLabels(labels), SeriesBook.Merge.SUM, null, step(time),
        new double[] {increase, error ? increase : 0});
  }

  private void redDuration(ResourceMetrics rm, HistogramDataPoint p, Map<String, String> labels, boolean delta) {
    if (!config.red().spanKinds().contains(labels.get("span_kind")) || p.getExplicitBoundsCount() == 0) {
      return;
    }
    int n = p.getBucketCountsCount();
    double[] counts = new double[n];
    for (int i = 0; i < n; i++) {
      counts[i] = p.getBucketCounts(i);
    }
    double[] increase = counts;
    if (!delta) {
      ByteString key = ByteString.copyFromUtf8(DURATION).concat(rm.getResource().toByteString())
          .concat(ByteString.copyFromUtf8(p.getAttributesList().toString()));
      double[] last = cumulative.put(key, concat(counts, p.getStartTimeUnixNano()));
      if (last == null) {
        if (p.getStartTimeUnixNano() < startedNanos) {
          return;
        }
      } else if (last.length == n + 1 && last[n] == p.getStartTimeUnixNano() && sum(last, n) <= sum(counts, n)) {
        increase = new double[n];
        for (int i = 0; i < n; i++) {
          increase[i] = Math.max(0, counts[i] - last[i]);
        }
      }
    }
    if (sum(increase, n) <= 0) {
      return;
    }
    double[] bounds = new double[p.getExplicitBoundsCount()];
    for (int i = 0; i < bounds.length; i++) {
      bounds[i] = p.getExplicitBounds(i);
    }
    book.add(RED, "duration", groupLabels(labels), SeriesBook.Merge.SUM, bounds, step(p.getTimeUnixNano()),
        increase);
  }

  private static double[] concat(double[] a, double last) {
    double[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = last;
    return out;
  }

  private static double sum(double[] a, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += a[i];
    }
    return s;
  }

  private Map<String, String> groupLabels(Map<String, String> labels) {
    return group(redLabels, labels);
  }

  static Map<String, String> group(List<String> names, Map<String, String> labels) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String n : names) {
      String l = PrometheusNames.labelName(n);
      out.put(l, labels.getOrDefault(l, ""));
    }
    return out;
  }

  static boolean matches(AnomaliesConfig.Stream s, Map<String, String> labels) {
    for (Map.Entry<String, String> e : s.match().entrySet()) {
      if (!e.getValue().equals(labels.get(PrometheusNames.labelName(e.getKey())))) {
        return false;
      }
    }
    return true;
  }

  private double increase(String metric, ResourceMetrics rm, List<KeyValue> attrs, double v, long start) {
    ByteString key = ByteString.copyFromUtf8(metric).concat(rm.getResource().toByteString())
        .concat(ByteString.copyFromUtf8(attrs.toString()));
    double[] last = cumulative.put(key, new double[] {v, start});
    if (last == null) {
      return start >= startedNanos ? v : 0;
    }
    if (last[1] != start || v < last[0]) {
      return v;
    }
    return v - last[0];
  }
}
