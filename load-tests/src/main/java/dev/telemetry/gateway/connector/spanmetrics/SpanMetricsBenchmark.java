package dev.telemetry.gateway.connector.spanmetrics;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.List;
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
 * The span_metrics aggregation on one thread over a realistic batch: 100 decoded spans of one service, 20 routes,
 * 5% errors, 8 attributes each, two configured dimensions (one on the span, one on the resource). One op = one span.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpanMetricsBenchmark {
  static final int SPANS = 100;
  private SpanMetrics metrics;
  private ExportTraceServiceRequest request;

  @Setup
  public void setUp() {
    metrics = new SpanMetrics(List.of("http.route", "deployment.environment.name"), dev.telemetry.gateway.connector.HistogramSpec.explicit(SpanMetrics.DEFAULT_BOUNDS_MS),
        10_000, TimeUnit.MINUTES.toNanos(5), Resource.getDefaultInstance());
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < SPANS; i++) {
      String route = "/api/v1/orders/" + (i % 20) + "/{id}";
      ss.addSpans(Span.newBuilder().setName("GET " + route).setKind(Span.SpanKind.SPAN_KIND_SERVER)
          .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_000_000_000L + (i + 1) * 1_700_000L)
          .setStatus(Status.newBuilder().setCode(i % 20 == 0 ? Status.StatusCode.STATUS_CODE_ERROR
              : Status.StatusCode.STATUS_CODE_UNSET))
          .addAttributes(kv("http.request.method", "GET")).addAttributes(kv("http.route", route))
          .addAttributes(kv("url.path", "/api/v1/orders/" + i)).addAttributes(kv("server.address", "orders"))
          .addAttributes(kv("http.response.status_code", "200")).addAttributes(kv("network.protocol.version", "1.1"))
          .addAttributes(kv("user_agent.original", "curl/8.5")).addAttributes(kv("region", "eu-west-1")));
    }
    request = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "orders"))
            .addAttributes(kv("deployment.environment.name", "prod"))).addScopeSpans(ss)).build();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  @Benchmark
  @OperationsPerInvocation(SPANS)
  public void add() {
    metrics.add(request);
  }
}
