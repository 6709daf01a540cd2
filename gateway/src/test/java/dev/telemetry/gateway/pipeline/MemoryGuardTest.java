package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.backpressure.RefusedException;
import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MemoryGuardTest {
  @Test
  void refusesWithBackPressureWhileOverTheLimitOnly() {
    AtomicLong used = new AtomicLong(100);
    MemoryGuard guard = new MemoryGuard(1000, used::get, new SimpleMeterRegistry());
    Pipelines pipelines = new Pipelines();
    pipelines.guardMemory(guard);
    pipelines.open();
    guard.check();
    assertThat(guard.overLimit()).isFalse();

    used.set(1001);
    guard.check();
    assertThat(guard.overLimit()).isTrue();
    var refused = pipelines.consume("otlp", Signal.LOGS, ExportLogsServiceRequest.getDefaultInstance(), 1, 10,
        RequestHeaders.NONE);
    assertThat(refused.failed()).isTrue();
    assertThat(refused.cause()).isInstanceOfSatisfying(RefusedException.class, e -> {
      assertThat(e.reason()).isEqualTo(RefusedException.Reason.MEMORY_LIMIT);
      assertThat(e.reason().backPressure()).isTrue(); // 429 / RESOURCE_EXHAUSTED: clients retry
      assertThat(e.reason().tag()).isEqualTo("memory_limit");
    });

    used.set(999);
    guard.check();
    assertThat(guard.overLimit()).isFalse();
  }
}
