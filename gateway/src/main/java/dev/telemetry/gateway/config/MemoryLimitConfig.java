package dev.telemetry.gateway.config;

import java.time.Duration;

/**
 * The process-wide memory guard: above {@code maxHeapPercent} of the maximum heap in use, receivers refuse new data
 * with back-pressure. 0 turns it off.
 */
public record MemoryLimitConfig(int maxHeapPercent, Duration checkInterval) {
  public static final MemoryLimitConfig DEFAULTS = new MemoryLimitConfig(85, Duration.ofMillis(100));

  public MemoryLimitConfig {
    if (maxHeapPercent < 0 || maxHeapPercent > 99) {
      throw new IllegalArgumentException("max_heap_percent: 1-99, or 0 to turn the guard off");
    }
  }
}
