package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * An exporter's queue. Items and bytes count everything accepted but not yet delivered (waiting, in a batch being
 * sent, or being retried); when either bound would be exceeded the receivers refuse new data with a retryable status
 * ({@code when_full: refuse}) or the oldest waiting data is dropped and counted ({@code drop_oldest}).
 * {@code concurrency} is the number of batches sent at once.
 *
 * <p>{@code deadLetterFile} (may be null) receives, one JSON line each, batches given up for good (a permanent
 * error, retries exhausted or disabled) with the reason.
 *
 * <p>{@code persistent} queues also write every request to a write-ahead log under {@code directory} before the
 * client is told success, and replay what was not delivered after a restart or crash. They keep at most
 * {@code memoryBytes} of waiting requests in memory; the rest waits on disk and is read back when sent, so
 * {@code maxBytes} may be far larger than the heap.
 */
public record QueueConfig(long maxItems, long maxBytes, int concurrency, Type type, WhenFull whenFull,
                          Path directory, Fsync fsync, Duration fsyncInterval, long segmentBytes,
                          Path deadLetterFile, long memoryBytes) {
  public static final long DEFAULT_MEMORY_BYTES = 64L * 1024 * 1024;
  public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofSeconds(1);
  public static final long DEFAULT_SEGMENT_BYTES = 16L * 1024 * 1024;
  public static final QueueConfig DEFAULTS = new QueueConfig(100_000, 64L * 1024 * 1024, 4);

  public enum Type { MEMORY, PERSISTENT }

  public enum WhenFull { REFUSE, DROP_OLDEST }

  /** When a persistent queue forces appended records to disk. */
  public enum Fsync {
    /** Before the client is told success: survives power loss. */
    ALWAYS,
    /** Every {@code fsync_interval}: survives a process crash; a power loss loses at most that interval. */
    INTERVAL,
    /** Left to the OS: survives a process crash. */
    NEVER
  }

  public QueueConfig {
    if (maxItems < 1 || maxBytes < 1 || concurrency < 1) {
      throw new IllegalArgumentException("max_items, max_bytes and concurrency must be positive");
    }
    if (type == Type.PERSISTENT && directory == null) {
      throw new IllegalArgumentException("directory: a persistent queue needs a directory for its write-ahead log");
    }
  }

  public QueueConfig(long maxItems, long maxBytes, int concurrency) {
    this(maxItems, maxBytes, concurrency, Type.MEMORY, WhenFull.REFUSE, null, Fsync.INTERVAL, DEFAULT_FSYNC_INTERVAL,
        DEFAULT_SEGMENT_BYTES, null, DEFAULT_MEMORY_BYTES);
  }
}
