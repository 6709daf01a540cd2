package dev.telemetry.gateway.config;

import java.time.Duration;

/**
 * When a batch is sent: as soon as {@code maxItems} items or {@code maxBytes} encoded bytes are waiting, or when
 * the oldest waiting request is {@code timeout} old. Requests are never split, so one request larger than the
 * bounds travels as a batch of its own.
 */
public record BatchConfig(int maxItems, long maxBytes, Duration timeout) {
  public static final BatchConfig DEFAULTS = new BatchConfig(8192, 4L * 1024 * 1024, Duration.ofMillis(200));

  public BatchConfig {
    if (maxItems < 1 || maxBytes < 1 || timeout.isNegative()) {
      throw new IllegalArgumentException("max_items and max_bytes must be positive and timeout not negative");
    }
  }

  /** Reads a {@code batch} object. */
  public static BatchConfig read(ConfigNode node) {
    node.allowOnly("max_items", "max_bytes", "timeout");
    BatchConfig d = DEFAULTS;
    return new BatchConfig((int) node.integer("max_items", d.maxItems(), 1, 1_000_000),
        node.bytes("max_bytes", d.maxBytes(), 1024),
        node.duration("timeout", d.timeout(), Duration.ZERO));
  }
}
