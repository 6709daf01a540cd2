package dev.telemetry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayProcess;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm-up before ready, in the shipped jar as its own process: the codecs, the pipeline's processors and sampler
 * (through throwaway copies) and the receiver's HTTP path (on a Vert.x of its own) run over synthetic requests, then
 * the JIT settles. None of it may be seen: no item counted by the receiver, redaction or the sampler, no span at the
 * backend even with a policy that keeps everything; the first real request is then counted and delivered exactly.
 */
class WarmUpIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp", "http": {"endpoint": "127.0.0.1:%d"},
                               "grpc": {"endpoint": "127.0.0.1:%d"}}},
        "processors": {
          "pii": {"type": "redaction", "blocked_keys": ["password"], "rules": [
            {"name": "emails", "detector": "email", "action": "mask"},
            {"name": "cards", "detector": "credit_card", "action": "mask"}]},
          "sampler": {"type": "tail_sampling", "decision_wait": "300ms",
                      "policies": [{"name": "all", "type": "always_sample"}]}},
        "exporters": {"backend": {"type": "otlp", "endpoint": "%s", "batch": {"timeout": "5ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["pii", "sampler"], "exporters": ["backend"]}},
        "admin": {"endpoint": "127.0.0.1:%d"},
        "logging": {"level": "debug"}
      }""";

  @Test
  void nothingSyntheticIsCountedOrDeliveredAndTheFirstRealRequestIs(@TempDir Path dir) throws Exception {
    Vertx sinkVertx = Vertx.vertx();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    int http = Ports.free();
    int admin = Ports.free();
    Process gateway = null;
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start()) {
      Path config = dir.resolve("gateway.json");
      Files.writeString(config, CONFIG.formatted(http, Ports.free(), sink.endpoint(), admin));
      Path log = dir.resolve("gateway.log");
      gateway = GatewayProcess.start("256m", config, log, client, admin);
      String started = Files.readString(log);
      // The warm-ups ran (logged at debug): a silent failure would leave the code cold and this test green.
      assertThat(started).containsPattern("warmed the OTLP codecs with \\d+ synthetic items and the pipelines' "
          + "processors and samplers with [1-9]\\d* in")
          .contains("receiver otlp: 200 of 200 warm-up requests answered")
          .containsPattern("the JIT compilers were quiet \\d+ ms after the receivers bound");
      assertThat(Http.metric(client, admin, "gateway_receiver_items_received_total")).isZero();
      assertThat(Http.metric(client, admin, "gateway_processor_redaction_redactions_total")).isZero();
      assertThat(Http.metric(client, admin, "gateway_processor_tail_sampling_traces_total")).isZero();
      Thread.sleep(1000); // past decision_wait and the batch timeout: anything buffered would have been sent
      assertThat(sink.spans()).as("spans at the backend before any client sent one").isEmpty();

      ExportTraceServiceRequest request = Payloads.traces("checkout", 7);
      ExportTraceServiceRequest.Builder withEmail = request.toBuilder();
      Span.Builder first = withEmail.getResourceSpansBuilder(0).getScopeSpansBuilder(0).getSpansBuilder(0);
      first.addAttributes(KeyValue.newBuilder().setKey("enduser.email")
          .setValue(AnyValue.newBuilder().setStringValue("jane@example.com")));
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
              + "/v1/traces")).header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(withEmail.build().toByteArray())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      Await.until("the trace delivered", Duration.ofSeconds(15), () -> sink.spans().size() >= 7);
      Thread.sleep(300);
      assertThat(sink.spans()).hasSize(7);
      assertThat(sink.spans().toString()).doesNotContain("jane@example.com");
      assertThat(Http.metric(client, admin, "gateway_receiver_items_received_total")).isEqualTo(7);
      assertThat(Http.metric(client, admin, "gateway_processor_redaction_redactions_total")).isEqualTo(1);
      assertThat(Http.metric(client, admin, "gateway_processor_tail_sampling_traces_total")).isEqualTo(1);
    } finally {
      if (gateway != null) {
        gateway.destroy();
        gateway.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      }
      GatewayProcess.kill(gateway);
      sinkVertx.close().await();
    }
  }
}
