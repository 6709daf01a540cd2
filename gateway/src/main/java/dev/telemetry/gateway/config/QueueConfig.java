package dev.telemetry.gateway.config;

/**
 * Bounds of an exporter's queue. Items and bytes count everything accepted but not yet delivered (waiting, in a
 * batch being sent, or being retried); when either bound would be exceeded the receivers refuse new data with a
 * retryable status. {@code concurrency} is the number of batches sent at once.
 */
public record QueueConfig(long maxItems, long maxBytes, int concurrency) {
  public static final QueueConfig DEFAULTS = new QueueConfig(100_000, 64L * 1024 * 1024, 4);

  public QueueConfig {
    if (maxItems < 1 || maxBytes < 1 || concurrency < 1) {
      throw new IllegalArgumentException("max_items, max_bytes and concurrency must be positive");
    }
  }
}
