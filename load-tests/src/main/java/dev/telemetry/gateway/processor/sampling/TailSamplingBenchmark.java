package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Duration;
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
 * The tail sampler's own work per span: buffering (trace lookup, charge) and deciding (policies over the trace,
 * rebuilding the kept traces' requests). A batch of 100 traces × 10 spans, three policies (errors, latency,
 * 10% probabilistic), 10% of traces erroring. Run on one thread, as the sampler's context does. One op = one span.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TailSamplingBenchmark {
  static final int SPANS = 100 * 10;
  private TailSampler sampler;
  private ExportTraceServiceRequest[] batches;
  private int next;

  @Setup
  public void setUp() {
    List<SamplingPolicy> policies = List.of(
        new SamplingPolicy.StatusCode("errors", List.of("ERROR")),
        new SamplingPolicy.Latency("slow", Duration.ofSeconds(2), null),
        new SamplingPolicy.Probabilistic("baseline", 10));
    // The batches are reused, so the decision cache is off (size 0): otherwise repeated trace IDs would take the
    // cheap late-span path. The budget is generous so that no early decisions skew the figure.
    sampler = new TailSampler(new TailSamplingProcessorConfig("bench", Duration.ofSeconds(10), 1L << 40, 0, 0,
        policies), new SimpleMeterRegistry());
    sampler.downstream(new dev.telemetry.gateway.processor.Downstream() {
      @Override
      public Future<Void> offer(java.util.function.Supplier<? extends com.google.protobuf.Message> request, int items,
                                int bytes) {
        request.get(); // built as the exporter queues would build it
        return Future.succeededFuture();
      }

      @Override
      public long keepAtShutdown(java.util.function.Supplier<? extends com.google.protobuf.Message> request, int items,
                                 int bytes) {
        return 0;
      }
    });
    batches = new ExportTraceServiceRequest[64];
    long id = 0;
    for (int b = 0; b < batches.length; b++) {
      ScopeSpans.Builder ss = ScopeSpans.newBuilder();
      for (int t = 0; t < 100; t++) {
        id++;
        for (int s = 0; s < 10; s++) {
          Span.Builder span = Span.newBuilder()
              .setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(id * 31).putLong(id).array()))
              .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(id * 16 + s).array()))
              .setName("GET /api/v1/items").setStartTimeUnixNano(1_000_000L * s).setEndTimeUnixNano(1_000_000L * s + 5)
              .addAttributes(KeyValue.newBuilder().setKey("http.route").setValue(AnyValue.newBuilder()
                  .setStringValue("/api/v1/items")));
          if (t % 10 == 0 && s == 3) {
            span.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
          }
          ss.addSpans(span);
        }
      }
      batches[b] = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
          .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
              .setValue(AnyValue.newBuilder().setStringValue("items")))).addScopeSpans(ss)).build();
    }
  }

  /** Buffer 1,000 spans of 100 traces, then decide them all. */
  @Benchmark
  @OperationsPerInvocation(SPANS)
  public long insertAndDecide() {
    sampler.insert(batches[next++ & (batches.length - 1)]);
    sampler.decideAll();
    return sampler.chargedBytes();
  }
}
