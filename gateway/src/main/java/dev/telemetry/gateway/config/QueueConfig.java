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

  /** Reads a {@code queue} object; {@code d} holds the exporter type's defaults. */
  public static QueueConfig read(ConfigNode node, QueueConfig d) {
    node.allowOnly("type", "max_items", "max_bytes", "concurrency", "when_full", "directory", "fsync",
        "fsync_interval", "segment_bytes", "dead_letter_file", "memory_bytes");
    Type type = node.enumValue("type", Type.class, d.type());
    String dir = node.string("directory", type == Type.PERSISTENT ? null : "");
    String dlq = node.string("dead_letter_file", "");
    long maxItems = node.integer("max_items", d.maxItems(), 1, Integer.MAX_VALUE);
    long maxBytes = node.bytes("max_bytes", d.maxBytes(), 1024);
    int concurrency = (int) node.integer("concurrency", d.concurrency(), 1, 256);
    WhenFull whenFull = node.enumValue("when_full", WhenFull.class, d.whenFull());
    Fsync fsync = node.enumValue("fsync", Fsync.class, d.fsync());
    Duration fsyncInterval = node.duration("fsync_interval", d.fsyncInterval(), Duration.ofMillis(1));
    long segmentBytes = node.bytes("segment_bytes", d.segmentBytes(), 64 * 1024);
    long memoryBytes = node.bytes("memory_bytes", d.memoryBytes(), 0);
    if (type == Type.PERSISTENT && dir == null) {
      return d; // reported as required
    }
    QueueConfig q = node.build(null, () -> new QueueConfig(maxItems, maxBytes, concurrency, type, whenFull,
        dir == null || dir.isEmpty() ? null : Path.of(dir), fsync, fsyncInterval, segmentBytes,
        dlq == null || dlq.isEmpty() ? null : Path.of(dlq), memoryBytes));
    return q == null ? d : q;
  }
}
