package dev.telemetry.gateway.connector.servicegraph;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.connector.HistogramSpec;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
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
 * The service_graph pairing on one thread: each invocation files 100 decoded spans — 50 client spans of "frontend"
 * and the 50 server spans of "orders" they called, in two requests (as two services' exporters would send them), so
 * every client span is stored and then paired by its server span. One op = one span.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ServiceGraphBenchmark {
  static final int PAIRS = 50;
  static final int BATCHES = 1000;
  private ServiceGraph graph;
  private final ExportTraceServiceRequest[] clients = new ExportTraceServiceRequest[BATCHES];
  private final ExportTraceServiceRequest[] servers = new ExportTraceServiceRequest[BATCHES];
  private int next;

  @Setup
  public void setUp() {
    graph = new ServiceGraph(List.of(), ServiceGraph.DEFAULT_PEER_ATTRIBUTES, TimeUnit.SECONDS.toNanos(10), 100_000,
        HistogramSpec.explicit(ServiceGraph.DEFAULT_BOUNDS_S), 5000, TimeUnit.MINUTES.toNanos(5),
        Resource.getDefaultInstance());
    for (int b = 0; b < BATCHES; b++) {
      clients[b] = side("frontend", true, (long) b * PAIRS);
      servers[b] = side("orders", false, (long) b * PAIRS);
    }
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  private ExportTraceServiceRequest side(String service, boolean client, long first) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < PAIRS; i++) {
      ByteString trace = ByteString.copyFrom(ByteBuffer.allocate(16).putLong(first + i).putLong(7).array());
      ByteString clientId = ByteString.copyFrom(ByteBuffer.allocate(8).putLong(first + i).array());
      Span.Builder s = Span.newBuilder().setTraceId(trace).setName("GET /orders/{id}")
          .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_000_000_000L + 3_000_000L)
          .addAttributes(kv("http.request.method", "GET")).addAttributes(kv("http.route", "/orders/{id}"))
          .addAttributes(kv("server.address", "orders")).addAttributes(kv("url.path", "/orders/" + i));
      if (client) {
        s.setSpanId(clientId).setKind(Span.SpanKind.SPAN_KIND_CLIENT);
      } else {
        s.setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(~(first + i)).array()))
            .setParentSpanId(clientId).setKind(Span.SpanKind.SPAN_KIND_SERVER);
      }
      ss.addSpans(s);
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", service))).addScopeSpans(ss)).build();
  }

  /** Cycles through 1000 prepared request pairs (100k distinct traces; a pair leaves the store once matched). */
  @Benchmark
  @OperationsPerInvocation(2 * PAIRS)
  public void pair() {
    int b = next;
    next = (b + 1) % BATCHES;
    graph.add(clients[b]);
    graph.add(servers[b]);
  }
}
