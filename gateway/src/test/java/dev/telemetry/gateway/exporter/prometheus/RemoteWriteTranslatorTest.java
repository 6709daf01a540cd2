package dev.telemetry.gateway.exporter.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.proto.prometheus.Histogram;
import dev.telemetry.proto.prometheus.Label;
import dev.telemetry.proto.prometheus.TimeSeries;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogram;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RemoteWriteTranslatorTest {
  static final long T = 1_700_000_000_000_000_000L;

  static PrometheusRemoteWriteExporterConfig config(int deltaMaxSeries, Map<String, String> external) {
    return new PrometheusRemoteWriteExporterConfig("p", URI.create("http://p:9090/api/v1/write"), Duration.ofSeconds(1),
        Map.of(), external, true, true, true, List.of("k8s.namespace.name"), 4, 2000, 1 << 20, deltaMaxSeries,
        Duration.ofMinutes(10), PrometheusRemoteWriteExporterConfig.DEFAULT_QUEUE, BatchConfig.DEFAULTS,
        RetryConfig.DEFAULTS);
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ExportMetricsServiceRequest request(Metric... metrics) {
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "api")).addAttributes(kv("k8s.namespace.name", "prod")))
        .addScopeMetrics(ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder().setName("lib"))
            .addAllMetrics(List.of(metrics)))).build();
  }

  static Map<String, TimeSeries> byLabels(RemoteWriteTranslator.Translation t) {
    Map<String, TimeSeries> out = new TreeMap<>();
    for (SeriesData s : t.series()) {
      out.put(s.labels.toString(), s.toProto());
    }
    return out;
  }

  @Test
  void labelsAreSortedAndCarryResourceScopeAndExternalLabels() {
    Metric g = Metric.newBuilder().setName("temp").setGauge(Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder()
        .setTimeUnixNano(T).setAsDouble(1).addAttributes(kv("zone", "b")).addAttributes(kv("a.b", "1"))
        .addAttributes(kv("a_b", "2")))).build();
    RemoteWriteTranslator t = new RemoteWriteTranslator(config(10, Map.of("cluster", "c1", "zone", "ignored")));
    Map<String, TimeSeries> series = byLabels(t.translate(request(g), 0));
    TimeSeries temp = series.get("temp{a_b=\"1;2\",cluster=\"c1\",job=\"api\",k8s_namespace_name=\"prod\","
        + "otel_scope_name=\"lib\",zone=\"b\"}");
    assertThat(temp).as(series.keySet().toString()).isNotNull();
    assertThat(temp.getLabelsList().stream().map(Label::getName).toList()).isSorted();
    assertThat(temp.getSamples(0).getTimestamp()).isEqualTo(T / 1_000_000);
    assertThat(series.keySet()).anyMatch(k -> k.startsWith("target_info{") && k.contains("k8s_namespace_name=\"prod\""));
  }

  @Test
  void deltaSumsAccumulateAndStateIsBounded() {
    RemoteWriteTranslator t = new RemoteWriteTranslator(config(2, Map.of()));
    java.util.function.BiFunction<String, Long, Metric> delta = (route, v) -> Metric.newBuilder().setName("hits")
        .setSum(Sum.newBuilder().setIsMonotonic(true)
            .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
            .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(T).setAsInt(v)
                .addAttributes(kv("route", route)))).build();
    t.translate(request(delta.apply("/a", 3L)), 1000);
    double a = value(t.translate(request(delta.apply("/a", 4L)), 2000), "route=\"/a\"");
    assertThat(a).isEqualTo(7);
    t.translate(request(delta.apply("/b", 1L)), 3000);
    t.translate(request(delta.apply("/c", 1L)), 4000); // third series: /a (least recently used) is evicted
    assertThat(t.state().size()).isEqualTo(2);
    assertThat(t.state().evictions()).isEqualTo(1);
    assertThat(value(t.translate(request(delta.apply("/a", 5L)), 5000), "route=\"/a\"")).isEqualTo(5);
  }

  static double value(RemoteWriteTranslator.Translation t, String labelFragment) {
    return t.series().stream().filter(s -> s.labels.toString().contains(labelFragment)
            && s.labels.metricName().equals("hits_total"))
        .findFirst().orElseThrow().samples.get(0).getValue();
  }

  @Test
  void samplesOfASeriesAreInTimeOrderAndNoRecordedValueIsStaleNaN() {
    Metric g = Metric.newBuilder().setName("g").setGauge(Gauge.newBuilder()
        .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(T + 2_000_000).setAsDouble(2))
        .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(T + 1_000_000).setAsDouble(1))
        .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(T + 3_000_000).setFlags(1))).build();
    TimeSeries ts = new RemoteWriteTranslator(config(10, Map.of())).translate(request(g), 0).series().stream()
        .filter(s -> s.labels.metricName().equals("g")).findFirst().orElseThrow().toProto();
    assertThat(ts.getSamplesList()).extracting(s -> s.getTimestamp() - T / 1_000_000).containsExactly(1L, 2L, 3L);
    assertThat(Double.doubleToRawLongBits(ts.getSamples(2).getValue())).isEqualTo(0x7ff0000000000002L);
  }

  @Test
  void explicitHistogramBucketsAreCumulativeWithExemplarsOnTheirBucket() {
    Metric h = Metric.newBuilder().setName("rt").setUnit("ms").setHistogram(io.opentelemetry.proto.metrics.v1.Histogram
        .newBuilder().setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
        .addDataPoints(HistogramDataPoint.newBuilder().setTimeUnixNano(T).setCount(6).setSum(321)
            .addAllExplicitBounds(List.of(10.0, 100.0)).addAllBucketCounts(List.of(1L, 3L, 2L))
            .addExemplars(Exemplar.newBuilder().setAsDouble(50).setTimeUnixNano(T)
                .setTraceId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))))).build();
    Map<String, TimeSeries> s = byLabels(new RemoteWriteTranslator(config(10, Map.of())).translate(request(h), 0));
    String base = "job=\"api\",k8s_namespace_name=\"prod\",otel_scope_name=\"lib\"";
    java.util.function.Function<String, String> bucket = le -> "rt_milliseconds_bucket{job=\"api\","
        + "k8s_namespace_name=\"prod\",le=\"" + le + "\",otel_scope_name=\"lib\"}";
    assertThat(s.get(bucket.apply("10")).getSamples(0).getValue()).isEqualTo(1);
    TimeSeries le100 = s.get(bucket.apply("100"));
    assertThat(le100.getSamples(0).getValue()).isEqualTo(4);
    assertThat(le100.getExemplarsCount()).isEqualTo(1);
    assertThat(le100.getExemplars(0).getLabels(0).getValue()).isEqualTo("0102030405060708090a0b0c0d0e0f10");
    assertThat(s.get(bucket.apply("+Inf")).getSamples(0).getValue()).isEqualTo(6);
    assertThat(s.get(bucket.apply("10")).getExemplarsCount()).isZero();
    assertThat(s.get("rt_milliseconds_sum{" + base + "}").getSamples(0).getValue()).isEqualTo(321);
    assertThat(s.get("rt_milliseconds_count{" + base + "}").getSamples(0).getValue()).isEqualTo(6);
  }

  @Test
  void exponentialHistogramsBecomeNativeHistogramsDownscaledTo8() {
    // scale 10: OTLP buckets 4096..4099 hold 1,2,3,4; at scale 8 indexes >> 2 = 1024 -> one bucket of 10.
    Metric e = Metric.newBuilder().setName("size").setUnit("By").setExponentialHistogram(ExponentialHistogram.newBuilder()
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
        .addDataPoints(ExponentialHistogramDataPoint.newBuilder().setTimeUnixNano(T).setScale(10).setCount(13)
            .setSum(99).setZeroCount(3).setZeroThreshold(0.001)
            .setPositive(ExponentialHistogramDataPoint.Buckets.newBuilder().setOffset(4096)
                .addAllBucketCounts(List.of(1L, 2L, 3L, 4L))))).build();
    SeriesData s = new RemoteWriteTranslator(config(10, Map.of())).translate(request(e), 0).series().stream()
        .filter(x -> x.labels.metricName().equals("size_bytes")).findFirst().orElseThrow();
    Histogram h = s.histograms.get(0);
    assertThat(h.getSchema()).isEqualTo(8);
    assertThat(h.getCountInt()).isEqualTo(13);
    assertThat(h.getZeroCountInt()).isEqualTo(3);
    assertThat(h.getZeroThreshold()).isEqualTo(0.001);
    assertThat(h.getPositiveSpansList()).singleElement().satisfies(span -> {
      assertThat(span.getOffset()).isEqualTo(1025); // OTLP index 1024 -> Prometheus index 1025
      assertThat(span.getLength()).isEqualTo(1);
    });
    assertThat(h.getPositiveDeltasList()).containsExactly(10L);
  }

  @Test
  void nativeHistogramCountsAreDeltaEncodedAndEmptyEdgesTrimmed() {
    Metric e = Metric.newBuilder().setName("x").setExponentialHistogram(ExponentialHistogram.newBuilder()
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
        .addDataPoints(ExponentialHistogramDataPoint.newBuilder().setTimeUnixNano(T).setScale(0).setCount(9)
            .setNegative(ExponentialHistogramDataPoint.Buckets.newBuilder().setOffset(-2)
                .addAllBucketCounts(List.of(0L, 5L, 0L, 4L, 0L))))).build();
    Histogram h = new RemoteWriteTranslator(config(10, Map.of())).translate(request(e), 0).series().stream()
        .filter(x -> x.labels.metricName().equals("x")).findFirst().orElseThrow().histograms.get(0);
    assertThat(h.getNegativeSpans(0).getOffset()).isEqualTo(0); // first non-empty OTLP index -1, +1
    assertThat(h.getNegativeSpans(0).getLength()).isEqualTo(3);
    assertThat(h.getNegativeDeltasList()).containsExactly(5L, -5L, 4L);
  }

  @Test
  void bucketsDownscaleByMergingPairs() {
    ExponentialBuckets b = new ExponentialBuckets(-3, new long[] {1, 2, 3, 4, 5});
    ExponentialBuckets d = b.downscale(1); // indexes -3..1 -> -2,-1,-1,0,0
    assertThat(d.offset()).isEqualTo(-2);
    assertThat(d.counts()).containsExactly(1, 5, 9);
    assertThat(d.plus(new ExponentialBuckets(0, new long[] {1, 1})).counts()).containsExactly(1, 5, 10, 1);
  }

  @Test
  void unsupportedScalesAreDroppedAndReported() {
    Metric e = Metric.newBuilder().setName("coarse").setExponentialHistogram(ExponentialHistogram.newBuilder()
        .addDataPoints(ExponentialHistogramDataPoint.newBuilder().setScale(-5).setCount(1))).build();
    RemoteWriteTranslator.Translation t = new RemoteWriteTranslator(config(10, Map.of())).translate(request(e), 0);
    assertThat(t.dropped()).containsEntry("unsupported_scale", 1);
    assertThat(t.series().stream().map(s -> s.labels.metricName()).collect(Collectors.toSet()))
        .doesNotContain("coarse");
  }
}
