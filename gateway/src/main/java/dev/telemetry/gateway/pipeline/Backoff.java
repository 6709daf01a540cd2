package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.config.RetryConfig;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter, as configured by {@link RetryConfig}. Stateless; the caller counts attempts. */
final class Backoff {
  private final RetryConfig config;

  Backoff(RetryConfig config) {
    this.config = config;
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
