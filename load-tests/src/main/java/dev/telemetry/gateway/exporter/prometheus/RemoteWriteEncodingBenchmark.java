package dev.telemetry.gateway.exporter.prometheus;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.proto.prometheus.WriteRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
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
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * OTLP metrics → Prometheus remote-write bytes, as the exporter does it per batch: translate, build one
 * {@link WriteRequest} per {@code max_samples_per_send}, serialize, snappy-compress. Reported in samples per second
 * (one op = one Prometheus sample; a batch holds {@link #SAMPLES} of them).
 *
 * <p>The batch: 4 services × (20 counters + 20 gauges) × 10 series, plus 10 histograms × 10 series with 10 buckets
 * (13 samples each) — 2,400 plain samples and 5,200 histogram samples.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RemoteWriteEncodingBenchmark {
  static final int SAMPLES = 4 * (40 * 10 + 10 * 10 * 13);

  private ExportMetricsServiceRequest request;
  private RemoteWriteTranslator translator;
  private int maxSamplesPerSend;

  @Setup
  public void setUp() {
    PrometheusRemoteWriteExporterConfig config = new PrometheusRemoteWriteExporterConfig("bench",
        URI.create("http://localhost:9090/api/v1/write"), Duration.ofSeconds(30), Map.of(), Map.of("cluster", "b"),
        true, true, true, List.of(), 4, 2000, 4 << 20, 100_000, Duration.ofMinutes(10),
        PrometheusRemoteWriteExporterConfig.DEFAULT_QUEUE, BatchConfig.DEFAULTS, RetryConfig.DEFAULTS);
    translator = new RemoteWriteTranslator(config);
    maxSamplesPerSend = config.maxSamplesPerSend();
    request = batch(System.currentTimeMillis() * 1_000_000L);
    int samples = 0;
    for (SeriesData s : translator.translate(request, 0).series()) {
      samples += s.weight();
    }
    // target_info adds one sample per service
    if (samples != SAMPLES + 4) {
      throw new IllegalStateException("expected " + (SAMPLES + 4) + " samples, got " + samples);
    }
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ExportMetricsServiceRequest batch(long now) {
    ExportMetricsServiceRequest.Builder req = ExportMetricsServiceRequest.newBuilder();
    for (int svc = 0; svc < 4; svc++) {
      ScopeMetrics.Builder scope = ScopeMetrics.newBuilder()
          .setScope(InstrumentationScope.newBuilder().setName("io.opentelemetry.http").setVersion("1.0"));
      for (int m = 0; m < 20; m++) {
        Sum.Builder sum = Sum.newBuilder().setIsMonotonic(true)
            .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
        Gauge.Builder gauge = Gauge.newBuilder();
        for (int s = 0; s < 10; s++) {
          List<KeyValue> attrs = List.of(kv("http.route", "/api/v1/items/" + s), kv("http.method", "GET"),
              kv("http.status_code", "200"));
          sum.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(now).setAsInt(1000 + s).addAllAttributes(attrs));
          gauge.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(now).setAsDouble(0.5 * s)
              .addAllAttributes(attrs));
        }
        scope.addMetrics(Metric.newBuilder().setName("http.server.requests." + m).setUnit("{request}").setSum(sum));
        scope.addMetrics(Metric.newBuilder().setName("process.memory." + m).setUnit("By").setGauge(gauge));
      }
      for (int m = 0; m < 10; m++) {
        Histogram.Builder h = Histogram.newBuilder()
            .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (int s = 0; s < 10; s++) {
          HistogramDataPoint.Builder dp = HistogramDataPoint.newBuilder().setTimeUnixNano(now).setCount(100)
              .setSum(12.5).addAttributes(kv("http.route", "/api/v1/items/" + s));
          for (int b = 0; b < 10; b++) {
            dp.addExplicitBounds(0.005 * (1 << b)).addBucketCounts(9);
          }
          dp.addBucketCounts(10);
          h.addDataPoints(dp);
        }
        scope.addMetrics(Metric.newBuilder().setName("http.server.duration." + m).setUnit("s").setHistogram(h));
      }
      req.addResourceMetrics(ResourceMetrics.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "svc-" + svc)).addAttributes(kv("service.instance.id", "pod-" + svc))
          .addAttributes(kv("host.name", "node-1"))).addScopeMetrics(scope));
    }
    return req.build();
  }

  /** Translation only: OTLP → series (labels, names, samples). */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public int translate() {
    return translator.translate(request, 0).series().size();
  }

  /** The exporter's whole per-batch CPU work: translate, build requests, serialize, snappy. */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public long encode() {
    long bytes = 0;
    WriteRequest.Builder b = WriteRequest.newBuilder();
    int weight = 0;
    for (SeriesData s : translator.translate(request, 0).series()) {
      if (weight + s.weight() > maxSamplesPerSend && b.getTimeseriesCount() > 0) {
        bytes += Snappy.compress(b.build().toByteArray()).length;
        b = WriteRequest.newBuilder();
        weight = 0;
      }
      b.addTimeseries(s.toProto());
      weight += s.weight();
    }
    bytes += Snappy.compress(b.build().toByteArray()).length;
    return bytes;
  }
}
