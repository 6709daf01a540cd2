package dev.telemetry.gateway.exporter;

import java.time.Duration;

/**
 * A failed export, classified by the exporter per its backend's protocol: {@code retryable} failures are retried
 * with backoff (or after {@code retryAfter} when the backend named a delay), the others are dropped and counted.
 * {@code reason} becomes the {@code reason} tag of the failure metrics, so keep it a short stable word.
 */
public final class ExportException extends RuntimeException {
  private final boolean retryable;
  private final Duration retryAfter;
  private final String reason;

  public ExportException(String message, boolean retryable, Duration retryAfter, String reason, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
    this.retryAfter = retryAfter;
    this.reason = reason;
  }

  public static ExportException retryable(String reason, String message, Duration retryAfter) {
    return new ExportException(message, true, retryAfter, reason, null);
  }

  public static ExportException permanent(String reason, String message) {
    return new ExportException(message, false, null, reason, null);
  }

  public boolean retryable() {
    return retryable;
  }

  /** The backend's requested delay before a retry, or null. */
  public Duration retryAfter() {
    return retryAfter;
  }

  public String reason() {
    return reason;
  }
}
