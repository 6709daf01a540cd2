package dev.telemetry.gateway.connector.genai;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
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
 * The gen_ai_metrics connector on one thread: 100 decoded spans, of which 10 are model calls (3 models, one not in
 * the price table) and 90 ordinary spans it must skip. One op = one span.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GenAiUsageBenchmark {
  static final int SPANS = 100;
  private GenAiUsage usage;
  private ExportTraceServiceRequest request;

  @Setup
  public void setUp() throws Exception {
    usage = new GenAiUsage(List.of("team", "feature"), "tenant", 2000, 0, Resource.getDefaultInstance(), m -> { });
    usage.prices(PriceTable.parse("""
        {"prices": [{"provider": "openai", "model": "gpt-4o", "input_per_million": 2.5, "output_per_million": 10},
          {"provider": "openai", "model": "gpt-4o-mini*", "input_per_million": 0.15, "output_per_million": 0.6}]}"""));
    String[] models = {"gpt-4o", "gpt-4o-mini-2024-07-18", "mystery-1"};
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < SPANS; i++) {
      Span.Builder s = Span.newBuilder().setName("span " + i).setKind(Span.SpanKind.SPAN_KIND_INTERNAL)
          .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_800_000_000L)
          .addAttributes(kv("http.route", "/ask")).addAttributes(kv("feature", "search"));
      if (i % 10 == 0) {
        String model = models[i / 10 % 3];
        s.setKind(Span.SpanKind.SPAN_KIND_CLIENT).addAttributes(kv("gen_ai.operation.name", "chat"))
            .addAttributes(kv("gen_ai.provider.name", "openai")).addAttributes(kv("gen_ai.request.model", model))
            .addAttributes(kv("gen_ai.response.model", model)).addAttributes(count("gen_ai.usage.input_tokens", 1200))
            .addAttributes(count("gen_ai.usage.output_tokens", 300));
      }
      ss.addSpans(s);
    }
    request = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "assistant"))
            .addAttributes(kv("team", "ml"))).addScopeSpans(ss)).build();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static KeyValue count(String k, long v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setIntValue(v)).build();
  }

  @Benchmark
  @OperationsPerInvocation(SPANS)
  public void add() {
    usage.add(request, "acme");
  }
}
