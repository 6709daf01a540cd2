package dev.telemetry.gateway.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JitSettleTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** Compilers a whole core busy for three steps, then idle: done at the first quiet step, not before. */
  @Test
  void waitsWhileTheCompilersAreBusyAndNoLonger() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    AtomicLong compiled = new AtomicLong();
    Duration waited = JitSettle.await(vertx, Duration.ofSeconds(30), () -> {
      if (reads.getAndIncrement() <= 3) {
        compiled.addAndGet(JitSettle.STEP_MILLIS); // as if one compiler thread worked the whole step
      }
      return compiled.get();
    }).await(30, TimeUnit.SECONDS);
    // Reads: 0 at the start, 1-3 busy steps, the 4th step quiet.
    assertThat(reads.get()).isEqualTo(5);
    assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(4 * JitSettle.STEP_MILLIS));
  }

  /** Compilers that never quieten hold readiness until the deadline, and no longer. */
  @Test
  void aBusyMachineDelaysReadinessByTheDeadlineAtMost() throws Exception {
    AtomicLong compiled = new AtomicLong();
    Duration waited = JitSettle.await(vertx, Duration.ofMillis(600),
        () -> compiled.addAndGet(2 * JitSettle.STEP_MILLIS)).await(30, TimeUnit.SECONDS);
    assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(600)).isLessThan(Duration.ofSeconds(10));
  }
}
