package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.ExportException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Whether and when a failed batch is sent again: exponential backoff with jitter (or the delay the backend asked
 * for), within {@code max_elapsed_time} and, while stopping, within the shutdown deadline. Stateless; the caller
 * counts attempts.
 */
final class RetryPolicy {
  /** Retry after {@code delayMillis}, or give up for {@code giveUpReason} (the metrics' reason tag). */
  record Next(long delayMillis, String giveUpReason) {
    boolean retry() {
      return giveUpReason == null;
    }
  }

  private final RetryConfig config;

  RetryPolicy(RetryConfig config) {
    this.config = config;
  }

  /**
   * After attempt {@code retry} (0 for the first send) failed with {@code e}. {@code stopDeadlineNanos} applies when
   * {@code stopping}: a retry due after it would outlive the shutdown.
   */
  Next next(ExportException e, int retry, long firstTryNanos, long nowNanos, boolean stopping,
            long stopDeadlineNanos) {
    if (!e.retryable()) {
      return new Next(0, "permanent");
    }
    if (!config.enabled()) {
      return new Next(0, "retries_disabled");
    }
    long delayMs = e.retryAfter() != null ? Math.max(1, e.retryAfter().toMillis()) : delayMillis(retry + 1);
    long delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMs);
    if (stopping && nowNanos + delayNanos > stopDeadlineNanos) {
      return new Next(0, "shutdown");
    }
    if (nowNanos - firstTryNanos + delayNanos > config.maxElapsed().toNanos()) {
      return new Next(0, "retries_exhausted");
    }
    return new Next(delayMs, null);
  }

  /** Milliseconds to wait before retry number {@code retry} (1 for the first retry). */
  long delayMillis(int retry) {
    double base = config.initialInterval().toMillis() * Math.pow(config.multiplier(), Math.max(0, retry - 1));
    base = Math.min(base, config.maxInterval().toMillis());
    double spread = base * config.jitter();
    double jittered = base - spread + ThreadLocalRandom.current().nextDouble() * 2 * spread;
    return Math.max(1, Math.round(jittered));
  }
}
