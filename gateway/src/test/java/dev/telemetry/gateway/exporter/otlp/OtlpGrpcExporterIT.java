package dev.telemetry.gateway.exporter.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.OtlpSink.Reply;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RawGrpc;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OTLP exporter against a scripted OTLP backend: retryable codes are retried with backoff, RetryInfo delays are
 * honoured, permanent errors are dropped once and counted, an unreachable or slow backend is retried until it works.
 */
class OtlpGrpcExporterIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": false}},
        "exporters": {"jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:{{SINK_PORT}}", "timeout": "300ms",
          "batch": {"timeout": "1ms"},
          "retry": {"initial_interval": "20ms", "max_interval": "100ms", "max_elapsed_time": "30s"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["jaeger"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "error"}
      }""";

  Vertx sinkVertx;
  int sinkPort;
  OtlpSink sink;
  GatewayHarness gw;
  RawGrpc client;

  @BeforeEach
  void setUp() throws Exception {
    sinkVertx = Vertx.vertx();
    sinkPort = Ports.free();
    sink = new OtlpSink(sinkVertx, sinkPort);
    gw = GatewayHarness.start(CONFIG, Map.of("SINK_PORT", Integer.toString(sinkPort)));
    client = new RawGrpc(gw.vertx, gw.grpcPort);
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    gw.close();
    sink.close();
    sinkVertx.close().await(10, TimeUnit.SECONDS);
  }

  void send(int spans) throws Exception {
    assertThat(client.export(Signal.TRACES, Buffer.buffer(Payloads.traces("exp", spans).toByteArray()), "identity")
        .status()).isEqualTo(GrpcStatus.OK);
  }

  double failed(String reason) {
    return gw.counter("gateway.exporter.items.failed", "reason", reason);
  }

  @Test
  void unavailableIsRetriedUntilDelivered() throws Exception {
    sink.start().script(n -> n <= 2 ? Reply.status(GrpcStatus.UNAVAILABLE) : Reply.OK);
    send(5);
    Await.until("5 spans delivered", Duration.ofSeconds(10), () -> sink.items(Signal.TRACES) == 5);
    assertThat(sink.calls()).isEqualTo(3);
    assertThat(gw.counter("gateway.exporter.retries")).isEqualTo(2);
    // The backend records the data before the gateway has read its answer: await the count.
    Await.until("5 spans counted as sent", Duration.ofSeconds(10), () -> gw.counter("gateway.exporter.items.sent") == 5);
  }

  @Test
  void retryInfoDelayIsHonoured() throws Exception {
    sink.start().script(n -> n == 1 ? Reply.retryAfter(GrpcStatus.RESOURCE_EXHAUSTED, 1000) : Reply.OK);
    long start = System.nanoTime();
    send(3);
    Await.until("3 spans delivered", Duration.ofSeconds(10), () -> sink.items(Signal.TRACES) == 3);
    // Our own backoff would have retried after ~20ms; the server asked for 1s.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
    assertThat(sink.calls()).isEqualTo(2);
  }

  @Test
  void resourceExhaustedWithoutRetryInfoIsPermanent() throws Exception {
    sink.start().script(n -> n == 1 ? Reply.status(GrpcStatus.RESOURCE_EXHAUSTED) : Reply.OK);
    send(4);
    Await.until("4 spans counted as permanently failed", Duration.ofSeconds(10), () -> failed("permanent") == 4);
    assertThat(sink.calls()).isEqualTo(1);
    assertThat(gw.counter("gateway.exporter.retries")).isZero();
  }

  @Test
  void invalidArgumentIsNotRetried() throws Exception {
    sink.start().script(n -> n == 1 ? Reply.status(GrpcStatus.INVALID_ARGUMENT) : Reply.OK);
    send(2);
    Await.until("first batch sent on its own", Duration.ofSeconds(10), () -> sink.calls() == 1);
    send(3);
    Await.until("second request delivered", Duration.ofSeconds(10), () -> sink.items(Signal.TRACES) == 3);
    Await.until("first counted as permanent", Duration.ofSeconds(10), () -> failed("permanent") == 2);
    assertThat(sink.calls()).isEqualTo(2);
  }

  @Test
  void backendDownAtStartIsRetriedUntilItComesUp() throws Exception {
    send(6); // sink not started yet: connection refused
    Await.until("a few failed attempts", Duration.ofSeconds(10), () -> gw.counter("gateway.exporter.retries") >= 2);
    sink.start();
    Await.until("6 spans delivered after the backend came up", Duration.ofSeconds(10),
        () -> sink.items(Signal.TRACES) == 6);
    assertThat(failed("retries_exhausted")).isZero();
  }

  @Test
  void slowBackendTimesOutAndIsRetried() throws Exception {
    sink.start().script(n -> n == 1 ? Reply.STALL : Reply.OK);
    send(7);
    Await.until("7 spans delivered by the retry after the 300ms timeout", Duration.ofSeconds(10),
        () -> sink.items(Signal.TRACES) == 7);
    assertThat(gw.counter("gateway.exporter.retries")).isEqualTo(1);
  }
}
