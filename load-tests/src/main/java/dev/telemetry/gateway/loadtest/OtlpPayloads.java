package dev.telemetry.gateway.loadtest;

import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.Signal;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.Random;

/**
 * Realistic generated OTLP requests for load tests: traces (whole multi-service traces, a share of errors and slow
 * ones, PII in attributes), metrics (counters and histograms per route) and logs (with trace context and PII in
 * bodies), pre-encoded as protobuf or OTLP/JSON so the load generator spends nothing on encoding.
 */
public final class OtlpPayloads {
  private OtlpPayloads() {
  }

  /** {@code count} distinct encoded requests of {@code items} items each. */
  public static byte[][] encoded(Signal signal, boolean json, int count, int items, long seed) {
    Random r = new Random(seed);
    byte[][] out = new byte[count][];
    for (int i = 0; i < count; i++) {
      com.google.protobuf.Message m = switch (signal) {
        case TRACES -> traces(items, r);
        case METRICS -> metrics(items, r);
        case LOGS -> logs(items, r);
      };
      out[i] = json ? OtlpJson.write(m) : m.toByteArray();
    }
    return out;
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ExportTraceServiceRequest traces(int spans, Random r) {
    try {
      return ExportTraceServiceRequest.parseFrom(SaturationBenchmark.payloads(1, spans, r)[0]);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static ExportMetricsServiceRequest metrics(int points, Random r) {
    long now = System.currentTimeMillis() * 1_000_000L;
    ScopeMetrics.Builder sm = ScopeMetrics.newBuilder();
    Sum.Builder requests = Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    Histogram.Builder durations = Histogram.newBuilder()
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    for (int i = 0; i < points / 2; i++) {
      String route = "/api/v1/route/" + (i % 50);
      requests.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(now).setAsInt(1000 + r.nextInt(1000))
          .addAttributes(kv("http.route", route)).addAttributes(kv("http.response.status_code", "200")));
      HistogramDataPoint.Builder dp = HistogramDataPoint.newBuilder().setTimeUnixNano(now).setCount(100).setSum(3.5)
          .addAttributes(kv("http.route", route));
      for (double b : new double[] {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {
        dp.addExplicitBounds(b).addBucketCounts(r.nextInt(20));
      }
      durations.addDataPoints(dp.addBucketCounts(r.nextInt(5)));
    }
    sm.addMetrics(Metric.newBuilder().setName("http.server.requests").setUnit("{request}").setSum(requests));
    sm.addMetrics(Metric.newBuilder().setName("http.server.request.duration").setUnit("s").setHistogram(durations));
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "api-" + r.nextInt(5)))
            .addAttributes(kv("service.instance.id", "pod-" + r.nextInt(20)))).addScopeMetrics(sm)).build();
  }

  static ExportLogsServiceRequest logs(int records, Random r) {
    long now = System.currentTimeMillis() * 1_000_000L;
    ScopeLogs.Builder sl = ScopeLogs.newBuilder();
    for (int i = 0; i < records; i++) {
      byte[] trace = new byte[16];
      r.nextBytes(trace);
      boolean error = r.nextInt(10) == 0;
      String body = error ? "payment failed for customer jane" + r.nextInt(1000) + "@example.com card 4111 1111 1111 1111"
          : "GET /api/v1/cart/" + r.nextInt(100000) + " 200 in " + r.nextInt(300) + "ms";
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(now + i).setObservedTimeUnixNano(now + i)
          .setSeverityNumberValue(error ? 17 : 9).setSeverityText(error ? "ERROR" : "INFO")
          .setBody(AnyValue.newBuilder().setStringValue(body))
          .setTraceId(com.google.protobuf.ByteString.copyFrom(trace))
          .addAttributes(kv("http.route", "/api/v1/cart/{id}"))
          .addAttributes(kv("enduser.id", "user-" + r.nextInt(10000))));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "checkout"))).addScopeLogs(sl)).build();
  }
}
