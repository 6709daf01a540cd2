package dev.telemetry.gateway.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
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
import java.util.EnumMap;
import java.util.Map;

/**
 * Runs the receivers' codec path — wire scan, protobuf decode, validation, sizing and encoding, OTLP/JSON both ways —
 * over synthetic requests of every signal before the gateway reports ready. A just-started JVM otherwise meets its
 * first clients with these classes unloaded and their code interpreted: the first requests then took hundreds of
 * milliseconds (docs/benchmarks.md, cold start). Only codecs, which have no side effects: nothing synthetic reaches
 * a processor, a sampler, a meter or an exporter. (Pipelines warm their processors and sampler on {@link #request}
 * and {@link #encodedTraces} themselves, through throwaway copies: {@code Pipeline.warmUp}; the OTLP receiver its
 * HTTP path: {@code ReceiverWarmup}. Both as free of side effects.)
 */
public final class Warmup {
  private Warmup() {
  }

  /**
   * Decodes and encodes {@code rounds} synthetic requests of each signal, scanned under {@code limits}; returns the
   * items that went through.
   */
  public static long codecs(int rounds, WireScan.Limits limits) {
    Map<Signal, byte[]> encoded = new EnumMap<>(Signal.class);
    encoded.put(Signal.TRACES, traces().toByteArray());
    encoded.put(Signal.METRICS, metrics().toByteArray());
    encoded.put(Signal.LOGS, logs().toByteArray());
    long items = 0;
    try {
      for (int r = 0; r < rounds; r++) {
        for (Map.Entry<Signal, byte[]> e : encoded.entrySet()) {
          Signal signal = e.getKey();
          WireScan.scan(signal.emptyRequest().getDescriptorForType(), e.getValue(), limits);
          Message request = signal.parseRequest(e.getValue());
          OtlpValidator.Result v = OtlpValidator.validate(signal, request);
          items += v.accepted() + signal.itemCount(v.request());
          if (!java.util.Arrays.equals(request.toByteArray(), e.getValue())) {
            throw new IllegalStateException("a synthetic " + signal.id() + " request did not survive its codec");
          }
          if (r % 16 == 0) {
            items += signal.itemCount(OtlpJson.parse(OtlpJson.write(request), signal.newRequestBuilder()));
          }
        }
      }
    } catch (WireScan.Refused | InvalidProtocolBufferException | OtlpJsonException e) {
      throw new IllegalStateException("a synthetic request did not decode: " + e.getMessage(), e);
    }
    return items;
  }

  private static KeyValue attr(String key, AnyValue value) {
    return KeyValue.newBuilder().setKey(key).setValue(value).build();
  }

  private static AnyValue str(String s) {
    return AnyValue.newBuilder().setStringValue(s).build();
  }

  private static Resource resource() {
    return Resource.newBuilder().addAttributes(attr("service.name", str("warmup")))
        .addAttributes(attr("host.name", str("localhost"))).build();
  }

  private static InstrumentationScope scope() {
    return InstrumentationScope.newBuilder().setName("dev.telemetry.gateway.warmup").setVersion("1").build();
  }

  /**
   * A mix of every attribute value kind, as SDKs send them, with an e-mail address and a card number among the
   * strings, so that redaction's detectors run their matching and masking code too (in throwaway copies: see the
   * class).
   */
  private static Iterable<KeyValue> attributes(int i) {
    return java.util.List.of(attr("http.request.method", str("POST")), attr("url.path", str("/orders/" + i)),
        attr("enduser.email", str(i % 2 == 0 ? "user" + i + "@example.com" : "user-" + i)),
        attr("payment.note", str(i % 5 == 0 ? "card 4111 1111 1111 1111 declined" : "paid")),
        attr("http.response.status_code", AnyValue.newBuilder().setIntValue(200 + i % 3).build()),
        attr("retry", AnyValue.newBuilder().setBoolValue(i % 2 == 0).build()),
        attr("ratio", AnyValue.newBuilder().setDoubleValue(i / 7.0).build()),
        attr("tags", AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder().addValues(str("a"))
            .addValues(str("é"))).build()),
        attr("ctx", AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder()
            .addValues(attr("k", str("v")))).build()),
        attr("blob", AnyValue.newBuilder().setBytesValue(ByteString.copyFromUtf8("b" + i)).build()));
  }

  private static byte[] id(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed * 31 + i * 17 + 1);
    }
    return b;
  }

  /** The synthetic request of a signal, as the codec warm-up uses it. */
  public static Message request(Signal signal) {
    return switch (signal) {
      case TRACES -> traces();
      case LOGS -> logs();
      case METRICS -> metrics();
    };
  }

  /** The synthetic traces request, encoded (for the paths that take traces without decoding them). */
  public static byte[] encodedTraces() {
    return traces().toByteArray();
  }

  static ExportTraceServiceRequest traces() {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(scope());
    for (int i = 0; i < 50; i++) {
      ss.addSpans(Span.newBuilder().setTraceId(ByteString.copyFrom(id(16, i / 10)))
          .setSpanId(ByteString.copyFrom(id(8, i))).setParentSpanId(i % 10 == 0 ? ByteString.EMPTY
              : ByteString.copyFrom(id(8, i - 1))).setName("GET /orders").setKind(Span.SpanKind.SPAN_KIND_SERVER)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L + i).setEndTimeUnixNano(1_700_000_000_001_000_000L + i)
          .addAllAttributes(attributes(i))
          .addEvents(Span.Event.newBuilder().setName("event").setTimeUnixNano(1_700_000_000_000_500_000L))
          .addLinks(Span.Link.newBuilder().setTraceId(ByteString.copyFrom(id(16, 99)))
              .setSpanId(ByteString.copyFrom(id(8, 99))))
          .setStatus(Status.newBuilder().setCode(i % 10 == 0 ? Status.StatusCode.STATUS_CODE_ERROR
              : Status.StatusCode.STATUS_CODE_OK)));
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().setResource(resource())
        .addScopeSpans(ss)).build();
  }

  static ExportLogsServiceRequest logs() {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder().setScope(scope());
    for (int i = 0; i < 50; i++) {
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + i)
          .setObservedTimeUnixNano(1_700_000_000_000_000_000L + i).setSeverityNumberValue(9 + i % 9)
          .setSeverityText("INFO").setBody(str("order " + i + " placed")).addAllAttributes(attributes(i))
          .setTraceId(ByteString.copyFrom(id(16, i))).setSpanId(ByteString.copyFrom(id(8, i))));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder().setResource(resource())
        .addScopeLogs(sl)).build();
  }

  static ExportMetricsServiceRequest metrics() {
    ScopeMetrics.Builder sm = ScopeMetrics.newBuilder().setScope(scope());
    for (int i = 0; i < 10; i++) {
      long t = 1_700_000_000_000_000_000L + i;
      sm.addMetrics(Metric.newBuilder().setName("requests_" + i).setUnit("1").setSum(Sum.newBuilder()
          .setIsMonotonic(true).setAggregationTemporality(
              io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
          .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(t).setAsInt(i).addAllAttributes(
              attributes(i)))));
      sm.addMetrics(Metric.newBuilder().setName("queue_depth_" + i).setGauge(Gauge.newBuilder()
          .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(t).setAsDouble(i / 3.0))));
      sm.addMetrics(Metric.newBuilder().setName("latency_" + i).setUnit("s").setHistogram(Histogram.newBuilder()
          .setAggregationTemporality(
              io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
          .addDataPoints(HistogramDataPoint.newBuilder().setTimeUnixNano(t).setCount(3).setSum(0.6)
              .addExplicitBounds(0.1).addExplicitBounds(1).addBucketCounts(1).addBucketCounts(2)
              .addBucketCounts(0))));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(resource()).addScopeMetrics(sm)).build();
  }
}
