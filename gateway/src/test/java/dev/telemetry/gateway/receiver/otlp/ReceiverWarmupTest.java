package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ReceiverWarmupTest {
  static OtlpReceiverConfig config(long maxRequestBytes) {
    return new OtlpReceiverConfig("otlp", OtlpReceiverConfig.DEFAULT_GRPC, OtlpReceiverConfig.DEFAULT_HTTP,
        maxRequestBytes, OtlpReceiverConfig.DEFAULT_MAX_DECOMPRESSED_BYTES, OtlpReceiverConfig.DEFAULT_RETRY_AFTER,
        null, null, ReceiverLimits.DEFAULTS);
  }

  static Set<Thread> threads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).collect(Collectors.toSet());
  }

  /**
   * Every kind of synthetic request (protobuf traces, logs and metrics, OTLP/JSON, gzip) goes the whole way through
   * the receiver and is answered 200 — a warm-up that met refusals would warm the refusal path instead — and the
   * Vert.x it ran on is gone afterwards.
   */
  @Test
  void everyKindOfSyntheticRequestIsAnsweredAndItsVertxClosed() throws Exception {
    Set<Thread> before = threads();
    int answered = ReceiverWarmup.http(config(OtlpReceiverConfig.DEFAULT_MAX_REQUEST_BYTES), 40)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(answered).isEqualTo(40);
    Await.until("the warm-up's threads have ended", Duration.ofSeconds(10), () -> {
      Set<Thread> left = threads();
      left.removeAll(before);
      return left.stream().noneMatch(t -> t.getName().startsWith("vert.x-") || t.getName().startsWith("gateway-"));
    });
  }

  /** What it counts is what the receiver answered: bodies over the receiver's limit are refused (413), not 200. */
  @Test
  void refusedRequestsAreNotCountedAsAnswered() throws Exception {
    int answered = ReceiverWarmup.http(config(64), 10).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    assertThat(answered).isZero();
  }
}
