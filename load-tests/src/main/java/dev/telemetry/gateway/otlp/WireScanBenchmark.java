package dev.telemetry.gateway.otlp;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the receivers' wire scan (item caps and the decoded-object count) costs next to decoding the same request:
 * one request of 100 spans shaped like ../shared/bench's (8 attributes each, a resource with 4). One op = one request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WireScanBenchmark {
  private static final WireScan.Limits LIMITS = new WireScan.Limits(1024, 10_000, 16);
  private byte[] request;

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  @Setup
  public void setup() {
    Random r = new Random(7);
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < 100; i++) {
      byte[] trace = new byte[16];
      byte[] span = new byte[8];
      r.nextBytes(trace);
      r.nextBytes(span);
      scope.addSpans(Span.newBuilder().setTraceId(ByteString.copyFrom(trace)).setSpanId(ByteString.copyFrom(span))
          .setName("GET /api/v1/orders/{id}").setKind(Span.SpanKind.SPAN_KIND_SERVER)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L + i).setEndTimeUnixNano(1_700_000_000_100_000_000L + i)
          .addAttributes(kv("http.request.method", "GET")).addAttributes(kv("http.route", "/api/v1/orders/{id}"))
          .addAttributes(kv("url.path", "/api/v1/orders/" + i)).addAttributes(kv("user.email", "user" + i + "@x.io"))
          .addAttributes(kv("server.address", "orders.internal")).addAttributes(kv("net.peer.ip", "10.0.0." + i))
          .addAttributes(KeyValue.newBuilder().setKey("http.response.status_code")
              .setValue(AnyValue.newBuilder().setIntValue(200)))
          .addAttributes(kv("thread.name", "worker-" + (i % 8))));
    }
    request = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "orders"))
            .addAttributes(kv("service.version", "1.4.2")).addAttributes(kv("host.name", "node-17"))
            .addAttributes(kv("k8s.namespace.name", "shop")))
        .addScopeSpans(scope)).build().toByteArray();
  }

  @Benchmark
  public WireScan.Shape scan() throws WireScan.Refused {
    return WireScan.scan(ExportTraceServiceRequest.getDescriptor(), request, LIMITS);
  }

  @Benchmark
  public ExportTraceServiceRequest decode() throws Exception {
    return ExportTraceServiceRequest.parseFrom(request);
  }
}
