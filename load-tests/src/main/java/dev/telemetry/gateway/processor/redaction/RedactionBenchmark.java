package dev.telemetry.gateway.processor.redaction;

import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Action;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Rule;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;
import java.util.Set;
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
 * The redaction processor over a realistic batch: 100 spans × 10 string attributes (one attribute in ten holds PII),
 * with all ten built-in detectors enabled. One op = one span attribute.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RedactionBenchmark {
  static final int ATTRIBUTES = 100 * 10;
  private RedactionProcessor processor;
  private ExportTraceServiceRequest request;

  @Setup
  public void setUp() {
    List<Rule> rules = RedactionProcessorConfig.DETECTORS.stream()
        .map(d -> new Rule(d, d, null, Action.MASK, Set.of(), Set.of())).toList();
    processor = new RedactionProcessor(new RedactionProcessorConfig("bench", List.of(), List.of("password"),
        Action.MASK, null, rules, false), new SimpleMeterRegistry());
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < 100; i++) {
      Span.Builder s = Span.newBuilder().setName("GET /api/v1/orders/{id}");
      s.addAttributes(kv("http.request.method", "GET"));
      s.addAttributes(kv("url.path", "/api/v1/orders/" + (100000 + i)));
      s.addAttributes(kv("http.route", "/api/v1/orders/{id}"));
      s.addAttributes(kv("server.address", "orders.internal.example"));
      s.addAttributes(kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"));
      s.addAttributes(kv("db.query.text", "SELECT id, total FROM orders WHERE id = ? AND status = 'open'"));
      s.addAttributes(kv("order.id", "4111111111111112"));
      s.addAttributes(kv("customer.tier", "gold"));
      s.addAttributes(kv("region", "eu-west-1"));
      s.addAttributes(kv("enduser.email", i % 2 == 0 ? "jane.doe" + i + "@example.com" : "anonymous"));
      ss.addSpans(s);
    }
    request = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "orders"))).addScopeSpans(ss)).build();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  @Benchmark
  @OperationsPerInvocation(ATTRIBUTES)
  public Object redact() {
    return processor.process(Signal.TRACES, request);
  }
}
