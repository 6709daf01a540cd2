package dev.telemetry.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RawGrpc;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A stalled backend fills the exporter queue; the receivers then refuse with the retryable OTLP statuses (HTTP 429 +
 * Retry-After, gRPC RESOURCE_EXHAUSTED + RetryInfo), the queue never exceeds its bounds, and once the backend
 * recovers every accepted span is delivered and new data is accepted again.
 */
class BackPressureIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"},
          "retry_after": "2s"}},
        "exporters": {"jaeger": {"type": "otlp", "endpoint": "{{SINK}}", "timeout": "60s", "compression": "none",
          "queue": {"max_items": 100, "concurrency": 2},
          "batch": {"max_items": 10, "timeout": "1ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["jaeger"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  @Test
  void stalledExporterBackPressuresClientsAndRecovers() throws Exception {
    Vertx sinkVertx = Vertx.vertx();
    try (OtlpSink sink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("SINK", sink.endpoint()));
         RawGrpc grpc = new RawGrpc(gw.vertx, gw.grpcPort)) {
      sink.script(n -> OtlpSink.Reply.STALL);
      HttpClient http = HttpClient.newHttpClient();
      int accepted = 0;
      HttpResponse<byte[]> refused = null;
      double maxQueue = 0;
      for (int i = 0; i < 100 && refused == null; i++) { // bounded: 100 requests of 10 spans at most
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.traces("bp", 10).toByteArray())).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        maxQueue = Math.max(maxQueue, gw.gauge("gateway.queue.items", "exporter", "jaeger"));
        if (r.statusCode() == 200) {
          accepted += 10;
        } else {
          refused = r;
        }
      }
      assertThat(refused).as("a request was refused once the queue was full").isNotNull();
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("retry-after")).hasValue("2");
      assertThat(Status.parseFrom(refused.body()).getMessage()).contains("queue of exporter \"jaeger\" is full");
      assertThat(accepted).isEqualTo(100);
      assertThat(maxQueue).isLessThanOrEqualTo(100);
      assertThat(gw.gauge("gateway.queue.items", "exporter", "jaeger")).isEqualTo(100);

      RawGrpc.Result g = grpc.export(Signal.TRACES, Buffer.buffer(Payloads.traces("bp", 10).toByteArray()),
          "identity");
      assertThat(g.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      String details = g.trailers().get("grpc-status-details-bin");
      if (details == null) {
        details = g.headers().get("grpc-status-details-bin");
      }
      assertThat(details).as("RetryInfo in grpc-status-details-bin").isNotNull();
      Status status = Status.parseFrom(Base64.getDecoder().decode(details));
      RetryInfo retry = status.getDetailsList().stream().filter(a -> a.is(RetryInfo.class)).findFirst()
          .map(a -> unpack(a)).orElseThrow();
      assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(2);
      assertThat(gw.counter("gateway.receiver.items.refused", "reason", "queue_full")).isEqualTo(20);

      // The backend recovers: everything accepted is delivered, and the gateway takes data again.
      sink.releaseStalled();
      int expected = accepted;
      Await.until(() -> "all " + expected + " accepted spans delivered (have " + sink.items(Signal.TRACES) + ")",
          Duration.ofSeconds(30), () -> sink.items(Signal.TRACES) == expected);
      Await.until("queue empty", Duration.ofSeconds(10), () -> gw.gauge("gateway.queue.items") == 0);
      assertThat(grpc.export(Signal.TRACES, Buffer.buffer(Payloads.traces("bp", 10).toByteArray()), "identity")
          .status()).isEqualTo(GrpcStatus.OK);
      Await.until("the new request delivered", Duration.ofSeconds(10),
          () -> sink.items(Signal.TRACES) == expected + 10);
    } finally {
      sinkVertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static RetryInfo unpack(Any a) {
    try {
      return a.unpack(RetryInfo.class);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
