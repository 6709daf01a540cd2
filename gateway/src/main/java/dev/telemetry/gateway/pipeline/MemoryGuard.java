package dev.telemetry.gateway.pipeline;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;
import dev.telemetry.gateway.logging.RateLimitedLog;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the process off the heap limit: while heap in use is above {@code limitBytes}, receivers refuse new data
 * with back-pressure (the queues' bounds cap what is accepted; this catches everything else — many queues, the
 * sampler, large requests in flight). Checked on a timer, so a request only reads a volatile flag. When over the
 * limit it asks for a collection (at most every few seconds, on its own thread) so that garbage alone does not keep
 * clients refused.
 */
public final class MemoryGuard {
  private static final Logger LOG = Logger.getLogger(MemoryGuard.class.getName());
  private static final long GC_HINT_EVERY_NANOS = 5_000_000_000L;

  /** Near the limit the flag flips with every young collection: say so once in a while, not each time. */
  private final RateLimitedLog transitions = new RateLimitedLog(LOG, 10_000);
  private final long limitBytes;
  private final LongSupplier used;
  private volatile boolean over;
  private long lastHintNanos;
  private long timer = -1;

  public MemoryGuard(long limitBytes, LongSupplier used, MeterRegistry registry) {
    this.limitBytes = limitBytes;
    this.used = used;
    Gauge.builder("gateway.memory.limit", () -> limitBytes).baseUnit("bytes")
        .description("Heap in use above which receivers refuse data").register(registry);
    Gauge.builder("gateway.memory.limited", () -> over ? 1 : 0)
        .description("1 while receivers refuse data because heap in use is above the limit").register(registry);
  }

  /** A guard at {@code percent} of the maximum heap, reading the JVM's heap usage. */
  public static MemoryGuard ofMaxHeap(int percent, MeterRegistry registry) {
    long max = Runtime.getRuntime().maxMemory();
    return new MemoryGuard(max / 100 * percent,
        () -> ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), registry);
  }

  public void start(Vertx vertx, long intervalMillis) {
    timer = vertx.setPeriodic(intervalMillis, id -> check());
  }

  public void stop(Vertx vertx) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Whether new data should be refused now. */
  public boolean overLimit() {
    return over;
  }

  /** Re-reads heap usage (the timer calls it; tests may too). */
  public void check() {
    long u = used.getAsLong();
    boolean wasOver = over;
    over = u > limitBytes;
    if (over && !wasOver) {
      transitions.log(Level.WARNING, "over", "heap in use " + (u >> 20) + " MiB is above the memory limit "
          + (limitBytes >> 20) + " MiB: refusing new data until it is below again");
    } else if (!over && wasOver) {
      transitions.log(Level.INFO, "below", "heap in use is below the memory limit again: accepting data");
    }
    long now = System.nanoTime();
    if (over && now - lastHintNanos > GC_HINT_EVERY_NANOS) {
      lastHintNanos = now;
      Thread t = new Thread(System::gc, "memory-guard-gc");
      t.setDaemon(true);
      t.start();
    }
  }
}
