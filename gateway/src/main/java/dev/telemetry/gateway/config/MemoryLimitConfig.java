package dev.telemetry.gateway.config;

import java.time.Duration;

/**
 * The process's memory bounds. {@code chargedHeapPercent} of the maximum heap is what data held on the path may take
 * (the heap ledger: every holder charges the measured heap cost of what it keeps before allocating it, and refuses
 * past the limit). {@code maxHeapPercent} is the backstop: above that share of the heap in use, as the collector
 * reports it, receivers refuse new data too. 0 turns either off. {@code processBytes} (0: not set) is the memory the
 * whole process should stay under: the launcher ({@code deploy/bin/telemetry-gateway}) sizes the heap from it (see
 * {@code launcher.JvmOptions}); the process itself cannot change its heap once started.
 */
public record MemoryLimitConfig(int maxHeapPercent, Duration checkInterval, int chargedHeapPercent,
                                long processBytes) {
  public static final MemoryLimitConfig DEFAULTS = new MemoryLimitConfig(85, Duration.ofMillis(100), 60, 0);
  /** Below this a JVM with Vert.x, Netty and the pipeline's working set cannot run under load. */
  public static final long MIN_PROCESS_BYTES = 384L * 1024 * 1024;

  public MemoryLimitConfig(int maxHeapPercent, Duration checkInterval, int chargedHeapPercent) {
    this(maxHeapPercent, checkInterval, chargedHeapPercent, 0);
  }

  public MemoryLimitConfig {
    if (processBytes != 0 && processBytes < MIN_PROCESS_BYTES) {
      throw new IllegalArgumentException("process: at least 384MiB (the launcher sizes the heap from it), or leave "
          + "it out to use the container's limit");
    }
    if (maxHeapPercent < 0 || maxHeapPercent > 99) {
      throw new IllegalArgumentException("max_heap_percent: 1-99, or 0 to turn the guard off");
    }
    if (chargedHeapPercent < 0 || chargedHeapPercent > 95) {
      throw new IllegalArgumentException("charged_heap_percent: 1-95, or 0 to charge nothing");
    }
    if (maxHeapPercent > 0 && chargedHeapPercent > maxHeapPercent) {
      throw new IllegalArgumentException("charged_heap_percent (" + chargedHeapPercent + ") must not be above "
          + "max_heap_percent (" + maxHeapPercent + "): the data the gateway holds must fit under the guard, with "
          + "room for garbage and the process itself");
    }
  }

  /** The ledger's limit in bytes for a heap of {@code maxHeapBytes}; {@code Long.MAX_VALUE} when turned off. */
  public long chargedLimit(long maxHeapBytes) {
    return chargedHeapPercent == 0 ? Long.MAX_VALUE : maxHeapBytes / 100 * chargedHeapPercent;
  }
}
