package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.SdkTelemetry;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * OTLP in → tail sampling → OTLP out: the SDK's traces (a server span, an erroring client span, a producer span) are
 * sent span by span in shuffled order; only traces matching the policies arrive, and they arrive whole.
 */
class TailSamplingIT {
  /**
   * A sampler whose policies each test chooses. Its decision_wait is longer than sending a test's 30 spans one request
   * at a time takes even on a loaded machine (300 ms was not: a trace decided before its error span arrived).
   */
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": false}},
        "processors": {"sampler": {"type": "tail_sampling", "decision_wait": "2s", "memory_budget": "16MiB",
          "policies": {{POLICIES}}}},
        "exporters": {"jaeger": {"type": "otlp", "endpoint": "{{SINK}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["sampler"], "exporters": ["jaeger"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  static final String CART_POLICIES = """
      [{"name": "errors-of-even-carts", "type": "and", "policies": [
         {"name": "errors", "type": "status_code", "status_codes": ["ERROR"]},
         {"name": "even", "type": "boolean_attribute", "key": "cache.hit", "value": true}]},
       {"name": "never-cart-0", "type": "drop", "policies": [
         {"name": "cart-0", "type": "string_attribute", "key": "http.request.method", "values": ["GET"]},
         {"name": "ratio-0", "type": "numeric_attribute", "key": "cart.ratio", "max": 0}]}]""";

  @Test
  void onlyMatchingTracesArriveAndWhole() throws Exception {
    Vertx sinkVertx = Vertx.vertx();
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("SINK", sink.endpoint(), "POLICIES",
             CART_POLICIES));
         OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      // 10 traces of 3 spans: trace i's client span has cart.tags [a, b<i>], cart.ratio 0.25*i, cache.hit = (i even)
      // and status ERROR.
      List<SpanData> spans = new java.util.ArrayList<>(SdkTelemetry.spans("sampled-svc", 10));
      Collections.shuffle(spans, new Random(3));
      for (SpanData s : spans) { // one span per request, in shuffled order
        assertThat(exporter.export(List.of(s)).join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      // Kept: even i (errors AND tag b0/b2/…) except i = 0 (dropped: the GET root with cart.ratio 0) → 2, 4, 6, 8.
      Set<String> expectedTraces = spans.stream()
          .filter(s -> s.getName().equals("SELECT carts"))
          .filter(s -> {
            List<String> tags = s.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringArrayKey(
                "cart.tags"));
            int i = Integer.parseInt(tags.get(1).substring(1));
            return i % 2 == 0 && i != 0;
          }).map(SpanData::getTraceId).collect(Collectors.toSet());
      assertThat(expectedTraces).hasSize(4);
      Await.until("12 sampled spans at the backend", Duration.ofSeconds(20), () -> sink.spans().size() == 12);
      Map<String, Long> perTrace = sink.spans().stream().collect(Collectors.groupingBy(
          s -> dev.telemetry.gateway.otlp.OtlpJson.toHex(s.getTraceId()), Collectors.counting()));
      assertThat(perTrace.keySet()).isEqualTo(expectedTraces);
      assertThat(perTrace.values()).allMatch(n -> n == 3);
      Await.until("all decided", Duration.ofSeconds(10), () -> gw.counter("gateway.processor.tail_sampling.traces")
          == 10);
      assertThat(gw.counter("gateway.processor.tail_sampling.traces", "decision", "sampled")).isEqualTo(4);
      assertThat(gw.counter("gateway.processor.tail_sampling.policy_decisions", "policy", "never-cart-0",
          "decision", "drop")).isEqualTo(1);
      assertThat(sink.spans()).extracting(Span::getName).contains("GET /cart/2", "SELECT carts", "publish order");
    } finally {
      sinkVertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Collector-style policies end to end with the SDK as the client: an OTTL condition keeps the traces whose client
   * span has a large cart; trace_flags keeps what the SDK's head sampler marked sampled (all of it, by default).
   */
  @Test
  void ottlConditionAndTraceFlagsPoliciesDecideSdkTraces() throws Exception {
    String bigCarts = """
        [{"name": "big-carts", "type": "ottl_condition", "span": [
          "name == \\"SELECT carts\\" and attributes[\\"cart.ratio\\"] >= 1.0 and kind == SPAN_KIND_CLIENT"]}]""";
    Vertx sinkVertx = Vertx.vertx();
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("SINK", sink.endpoint(), "POLICIES",
             bigCarts));
         OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      assertThat(exporter.export(SdkTelemetry.spans("cart-svc", 10)).join(10, TimeUnit.SECONDS).isSuccess())
          .isTrue();
      // cart.ratio is 0.25 * i: traces 4..9 have a ratio of at least 1.0.
      Await.until("all decided", Duration.ofSeconds(10), () -> gw.counter("gateway.processor.tail_sampling.traces")
          == 10);
      assertThat(gw.counter("gateway.processor.tail_sampling.traces", "decision", "sampled")).isEqualTo(6);
      Await.until("18 sampled spans at the backend", Duration.ofSeconds(20), () -> sink.spans().size() == 18);
    }
    String headSampled = "[{\"name\": \"head\", \"type\": \"trace_flags\"}]";
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("SINK", sink.endpoint(), "POLICIES",
             headSampled));
         OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      assertThat(exporter.export(SdkTelemetry.spans("head-svc", 10)).join(10, TimeUnit.SECONDS).isSuccess())
          .isTrue();
      Await.until("every span kept: the SDK marked them sampled", Duration.ofSeconds(20),
          () -> sink.spans().size() == 30);
      assertThat(sink.spans()).allMatch(s -> (s.getFlags() & 1) == 1);
    } finally {
      sinkVertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
