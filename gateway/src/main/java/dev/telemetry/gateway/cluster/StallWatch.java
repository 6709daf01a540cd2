package dev.telemetry.gateway.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Notices that this whole process stood still for longer than the failure timeout (SIGSTOP, a stop-the-world pause,
 * a frozen VM): the other members have dropped it meanwhile. On resuming it finds itself alone on its ring until
 * Hazelcast merges it back (seconds), and traces it took then would be decided apart from the spans the others
 * hold — split. So while it is {@link #rejoining()}, it refuses traces like a member without quorum; clients retry
 * on the others.
 *
 * <p>Rejoining ends when the ring has changed since the stall (the drop was noticed) and, stable for a second, again
 * has other members; when the ring has not changed within {@link #UNNOTICED_NANOS} (the others never dropped it);
 * or after the failure timeout plus {@link #ALONE_AFTER_NANOS} (no other member came back: it serves alone, as it
 * would after the others crashed). A plain thread measures the stall: event loops can be busy, a stopped process
 * stops every thread.
 */
final class StallWatch {
  private static final Logger LOG = Logger.getLogger(StallWatch.class.getName());
  private static final long TICK_MILLIS = 250;
  static final long UNNOTICED_NANOS = TimeUnit.SECONDS.toNanos(5);
  static final long ALONE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long STABLE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Membership membership;
  private final long failureTimeoutNanos;
  private final Counter stalls;
  private volatile boolean rejoining;
  private volatile long stalledAt;
  private volatile boolean changedSinceStall;
  private volatile long lastChange;
  private volatile boolean running = true;
  private Thread thread;

  StallWatch(Membership membership, Duration failureTimeout, MeterRegistry registry) {
    this.membership = membership;
    this.failureTimeoutNanos = failureTimeout.toNanos();
    this.stalls = Counter.builder("gateway.cluster.stalls").description("Times this process stood still longer "
        + "than cluster.failure_timeout (the others dropped it); it refused traces until back on their ring")
        .register(registry);
  }

  void start() {
    membership.onChange(ring -> {
      lastChange = System.nanoTime();
      changedSinceStall = true;
    });
    thread = new Thread(this::run, "gateway-cluster-stall-watch");
    thread.setDaemon(true);
    thread.start();
  }

  /** True from a stall until this member is back on the others' ring (see the class comment). */
  boolean rejoining() {
    return rejoining;
  }

  void stop() {
    running = false;
    if (thread != null) {
      thread.interrupt();
    }
  }

  private void run() {
    long last = System.nanoTime();
    while (running) {
      try {
        Thread.sleep(TICK_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long gap = now - last;
      last = now;
      if (gap > failureTimeoutNanos) {
        stalls.increment();
        stalledAt = now;
        changedSinceStall = false;
        rejoining = true;
        LOG.warning(String.format("cluster: this process stood still for %.1f s (longer than failure_timeout): the "
            + "other members have dropped it; refusing traces until it is back on their ring", gap / 1e9));
      } else if (rejoining) {
        settle(now);
      }
    }
  }

  private void settle(long now) {
    int members = membership.ring().members().size();
    if (changedSinceStall && members > 1 && now - lastChange >= STABLE_NANOS) {
      rejoining = false;
      LOG.info(String.format("cluster: back on a ring of %d members %.1f s after the stall; taking traces again",
          members, (now - stalledAt) / 1e9));
    } else if (!changedSinceStall && now - stalledAt > UNNOTICED_NANOS) {
      rejoining = false;
      LOG.info("cluster: the ring did not change after the stall (the others kept this member); taking traces again");
    } else if (now - stalledAt > failureTimeoutNanos + ALONE_AFTER_NANOS) {
      rejoining = false;
      LOG.warning(String.format("cluster: no other member on the ring %.0f s after the stall; taking traces alone",
          (now - stalledAt) / 1e9));
    }
  }
}
