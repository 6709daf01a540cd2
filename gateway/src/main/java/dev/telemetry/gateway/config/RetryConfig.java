package dev.telemetry.gateway.config;

import java.time.Duration;

/**
 * Exponential backoff for retryable export failures: the n-th wait is {@code initialInterval * multiplier^n},
 * capped at {@code maxInterval}, randomised by ±{@code jitter}; a server-given delay (Retry-After, RetryInfo) is used
 * instead when present. A batch is given up (and counted) once {@code maxElapsed} has passed since its first try.
 */
public record RetryConfig(boolean enabled, Duration initialInterval, Duration maxInterval, Duration maxElapsed,
                          double multiplier, double jitter) {
  public static final RetryConfig DEFAULTS = new RetryConfig(true, Duration.ofSeconds(1), Duration.ofSeconds(30),
      Duration.ofMinutes(5), 1.5, 0.5);

  public RetryConfig {
    if (initialInterval.isZero() || initialInterval.isNegative()) {
      throw new IllegalArgumentException("initial_interval must be positive");
    }
    if (maxInterval.compareTo(initialInterval) < 0) {
      throw new IllegalArgumentException("max_interval must be at least initial_interval");
    }
    if (multiplier < 1 || jitter < 0 || jitter > 1) {
      throw new IllegalArgumentException("multiplier must be >= 1 and jitter within [0, 1]");
    }
  }

  /** Reads a {@code retry} object. */
  public static RetryConfig read(ConfigNode node) {
    node.allowOnly("enabled", "initial_interval", "max_interval", "max_elapsed_time", "multiplier", "jitter");
    RetryConfig d = DEFAULTS;
    int before = node.problems();
    boolean enabled = node.bool("enabled", d.enabled());
    Duration initial = node.duration("initial_interval", d.initialInterval(), Duration.ofMillis(1));
    Duration max = node.duration("max_interval", d.maxInterval(), Duration.ofMillis(1));
    Duration elapsed = node.duration("max_elapsed_time", d.maxElapsed(), Duration.ZERO);
    double multiplier = node.number("multiplier", d.multiplier(), 1, 100);
    double jitter = node.number("jitter", d.jitter(), 0, 1);
    if (node.problems() > before) {
      return d;
    }
    RetryConfig r = node.build(null, () -> new RetryConfig(enabled, initial, max, elapsed, multiplier, jitter));
    return r == null ? d : r;
  }
}
