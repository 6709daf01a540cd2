package dev.telemetry.gateway.backpressure;

/**
 * A bounded component (or the pipeline as a whole) did not take a request, and the client should retry later:
 * receivers turn this into HTTP 429/503 with Retry-After, or gRPC RESOURCE_EXHAUSTED/UNAVAILABLE with RetryInfo.
 * {@link Reservation} refusals are these.
 */
public final class RefusedException extends RuntimeException {

  /** Why the request was refused; the lower-case name is the metrics' {@code reason} tag. */
  public enum Reason {
    /** An exporter queue, a tail sampler's budget or a forwarding queue is at its bound: back-pressure. */
    QUEUE_FULL,
    /** The process is at its heap limit (the memory guard): back-pressure, like a full queue. */
    MEMORY_LIMIT,
    /** The gateway is starting or shutting down, or a queue cannot write to disk. */
    NOT_READY,
    /** The tenant is over its items/s or bytes/s quota: back-pressure for that tenant alone. */
    QUOTA;

    /** Back-pressure (HTTP 429, RESOURCE_EXHAUSTED) rather than unavailability (HTTP 503, UNAVAILABLE). */
    public boolean backPressure() {
      return this != NOT_READY;
    }

    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Reason reason;
  private final long retryAfterMillis;

  public RefusedException(Reason reason, String message) {
    this(reason, message, 0);
  }

  /** {@code retryAfterMillis}: when a retry can succeed, if the refuser knows (a quota refills); 0: unknown. */
  public RefusedException(Reason reason, String message, long retryAfterMillis) {
    super(message, null, false, false); // thrown often under load: no stack trace
    this.reason = reason;
    this.retryAfterMillis = retryAfterMillis;
  }

  public Reason reason() {
    return reason;
  }

  /** When a retry can succeed (0: unknown, the receiver's configured retry_after applies). */
  public long retryAfterMillis() {
    return retryAfterMillis;
  }
}
