package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.OtlpValidator;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.otlp.WireScan;
import dev.telemetry.gateway.processor.redaction.RedactionProcessor;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig;
import dev.telemetry.gateway.receiver.otlp.ReceiverLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * What a received traces request costs on its way into the tail sampler's buffer, on one thread, for the side-by-side
 * pipeline (hash {@code user.email}, sample by status): decoded — wire scan, parse, validate, redact, encode each span
 * for the buffer — against taken encoded — wire scan, then {@link EncodedSpans} through the redaction processor. The
 * request is shaped like ../shared/bench's: 100 spans in 10 traces, eight attributes each, one of them an e-mail.
 * One op = one request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ReceivePathBenchmark {
  private TailSampler sampler;
  private RedactionProcessor redaction;
  private byte[] request;
  private final WireScan.Limits limits = ReceiverLimits.DEFAULTS.items();

  @Setup
  public void setup() {
    sampler = new TailSampler(new TailSamplingProcessorConfig("bench", Duration.ofSeconds(2), 1L << 30, 0, 0,
        List.of(new SamplingPolicy.StatusCode("errors", List.of("ERROR")))), new SimpleMeterRegistry());
    redaction = new RedactionProcessor(new RedactionProcessorConfig("pii", List.of(), List.of("^user\\.email$"),
        RedactionProcessorConfig.Action.HASH, "bench-hash-key-0123456789", List.of(), false),
        new SimpleMeterRegistry());
    request = request(new Random(42)).toByteArray();
    System.out.printf("%nrequest: %d bytes, 100 spans%n", request.length);
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ExportTraceServiceRequest request(Random r) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("bench")
        .setVersion("1.0"));
    long now = System.currentTimeMillis() * 1_000_000L;
    for (int t = 0; t < 10; t++) {
      byte[] trace = new byte[16];
      r.nextBytes(trace);
      for (int s = 0; s < 10; s++) {
        byte[] id = new byte[8];
        r.nextBytes(id);
        id[0] |= 1;
        Span.Builder span = Span.newBuilder().setTraceId(ByteString.copyFrom(trace)).setSpanId(ByteString.copyFrom(id))
            .setName(s == 0 ? "POST /checkout" : "SELECT orders")
            .setKind(s == 0 ? Span.SpanKind.SPAN_KIND_SERVER : Span.SpanKind.SPAN_KIND_CLIENT)
            .setStartTimeUnixNano(now + s * 1000L).setEndTimeUnixNano(now + s * 1000L + 1_000_000L * (1 + s))
            .addAttributes(kv("http.request.method", "POST")).addAttributes(kv("url.path", "/checkout"))
            .addAttributes(KeyValue.newBuilder().setKey("http.response.status_code")
                .setValue(AnyValue.newBuilder().setIntValue(200)))
            .addAttributes(kv("user.email", "user" + r.nextInt(100_000) + "@example.com"))
            .addAttributes(kv("db.system.name", "postgresql"))
            .addAttributes(kv("db.query.text", "SELECT * FROM orders WHERE id = " + r.nextInt(1_000_000)))
            .addAttributes(kv("peer.service", "orders-db"))
            .addAttributes(kv("net.peer.ip", "10.0.0." + r.nextInt(255)));
        if (t == 0 && s == 0) {
          span.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage("boom"));
        }
        ss.addSpans(span);
      }
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "checkout"))
            .addAttributes(kv("service.version", "2.1.0")).addAttributes(kv("host.name", "node-7")))
        .addScopeSpans(ss)).build();
  }

  /** The decoding path: what the sampler's buffer got before. */
  @Benchmark
  public List<Trace.Entry> decoded() throws Exception {
    WireScan.scan(ExportTraceServiceRequest.getDescriptor(), request, limits);
    ExportTraceServiceRequest parsed = ExportTraceServiceRequest.parseFrom(request);
    ExportTraceServiceRequest valid = (ExportTraceServiceRequest) OtlpValidator.validate(Signal.TRACES, parsed)
        .request();
    ExportTraceServiceRequest redacted = (ExportTraceServiceRequest) redaction.process(Signal.TRACES, valid);
    List<Trace.Entry> out = new ArrayList<>(100);
    for (ResourceSpans rs : redacted.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          out.add(Trace.Entry.of(rs.getResource(), rs.getSchemaUrl(), ss.getScope(), ss.getSchemaUrl(), s,
              java.util.Set.of(), false, TailSampler.charge(s), Destination.DEFAULT));
        }
      }
    }
    return out;
  }

  /** Taken encoded: what the sampler's buffer gets now. */
  @Benchmark
  public EncodedSpans encoded() throws Exception {
    WireScan.scan(ExportTraceServiceRequest.getDescriptor(), request, limits);
    return sampler.readReceived(com.google.protobuf.UnsafeByteOperations.unsafeWrap(request), List.of(redaction));
  }

  /** The wire scan alone (both paths run it). */
  @Benchmark
  public WireScan.Shape scan() throws Exception {
    return WireScan.scan(ExportTraceServiceRequest.getDescriptor(), request, limits);
  }
}
