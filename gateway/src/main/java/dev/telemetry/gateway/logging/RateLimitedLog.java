package dev.telemetry.gateway.logging;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs a recurring problem at most once per interval per key, with how many occurrences were suppressed since the
 * last line, so that a failing backend cannot flood the gateway's own logs. Metrics carry the exact counts.
 */
public final class RateLimitedLog {
  private final Logger logger;
  private final long intervalNanos;
  private final ConcurrentMap<String, State> states = new ConcurrentHashMap<>();

  private static final class State {
    final AtomicLong lastNanos = new AtomicLong(Long.MIN_VALUE);
    final AtomicLong suppressed = new AtomicLong();
  }

  public RateLimitedLog(Logger logger, long intervalMillis) {
    this.logger = logger;
    this.intervalNanos = intervalMillis * 1_000_000L;
  }

  public void log(Level level, String key, String message) {
    State s = states.computeIfAbsent(key, k -> new State());
    long now = System.nanoTime();
    long last = s.lastNanos.get();
    if (last != Long.MIN_VALUE && now - last < intervalNanos || !s.lastNanos.compareAndSet(last, now)) {
      s.suppressed.incrementAndGet();
      return;
    }
    long n = s.suppressed.getAndSet(0);
    logger.log(level, n == 0 ? message : message + " (" + n + " similar messages suppressed)");
  }
}
