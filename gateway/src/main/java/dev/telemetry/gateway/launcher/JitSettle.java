package dev.telemetry.gateway.launcher;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Waits, before the gateway reports ready, until the JIT compilers have worked through what the start queued: the
 * warm-ups' methods, and on JDK 25+ with the launcher's AOT cache the compilations its training run recorded. That
 * work took a whole core for about a second and a half after the warm-ups on the build machine; traffic arriving
 * meanwhile shared the cores with it, and its first requests waited (docs/benchmarks.md, cold start). Done when the
 * compilers were busy less than {@link #QUIET_CORES} of a core over a {@link #STEP_MILLIS} step, or at the deadline:
 * a busy machine delays readiness by at most that. The JIT's work is the process's: only its first start waits (tests
 * start many gateways in one JVM).
 */
public final class JitSettle {
  static final long STEP_MILLIS = 250;
  static final double QUIET_CORES = 0.2;
  private static final java.util.concurrent.atomic.AtomicBoolean WAITED =
      new java.util.concurrent.atomic.AtomicBoolean();

  private JitSettle() {
  }

  /**
   * Completes (never fails) with the time waited once the compilers are quiet or {@code deadline} has passed; at once
   * without a JIT that reports its time, or when this process has waited before.
   */
  public static Future<Duration> await(Vertx vertx, Duration deadline) {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported() || !WAITED.compareAndSet(false, true)) {
      return Future.succeededFuture(Duration.ZERO);
    }
    return await(vertx, deadline, jit::getTotalCompilationTime);
  }

  /** {@code compileMillis}: the compilers' accumulated time, in milliseconds of a thread. */
  static Future<Duration> await(Vertx vertx, Duration deadline, LongSupplier compileMillis) {
    long start = System.nanoTime();
    long end = start + deadline.toNanos();
    Promise<Duration> settled = Promise.promise();
    long[] last = {compileMillis.getAsLong(), start};
    vertx.setPeriodic(STEP_MILLIS, id -> {
      long now = System.nanoTime();
      long compiled = compileMillis.getAsLong();
      double cores = (compiled - last[0]) / ((now - last[1]) / 1e6);
      last[0] = compiled;
      last[1] = now;
      if (cores < QUIET_CORES || now - end >= 0) {
        vertx.cancelTimer(id);
        settled.complete(Duration.ofNanos(now - start));
      }
    });
    return settled.future();
  }
}
