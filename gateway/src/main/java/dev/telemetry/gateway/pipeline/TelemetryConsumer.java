package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.backpressure.RefusedException;
import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.Future;

/**
 * Where receivers hand decoded requests. The returned future is the back-pressure channel: it succeeds once the data
 * is safely queued and fails with {@link RefusedException} when the client should retry later.
 */
public interface TelemetryConsumer {

  /** Whether the named receiver feeds a pipeline of this signal; receivers answer "not found" otherwise. */
  boolean accepts(String receiver, Signal signal);

  /**
   * Checks the request's credential before it is decoded (nothing to check without authentication): the headers to
   * consume it with (carrying the authenticated tenant), or {@link Authentication.AccessDenied}.
   */
  default RequestHeaders authenticate(String receiver, Signal signal, RequestHeaders headers) {
    return headers;
  }

  /**
   * Takes a protobuf request without decoding it, when this consumer can (see {@code Pipeline#takesEncoded}): what
   * it read and the outcome, as {@link #consume}'s; null when the request must be decoded and consumed instead (the
   * default; also for a request with invalid items, whose valid ones are taken with a partial success then). The
   * bytes passed the receivers' {@code WireScan}.
   */
  default EncodedIntake consumeEncoded(String receiver, Signal signal, byte[] request, RequestHeaders headers) {
    return null;
  }

  /** What {@link #consumeEncoded} read: the request's item count, and the outcome. */
  record EncodedIntake(int items, Future<Void> outcome) {
  }

  /** {@code headers} are those of the carrying request (routing reads the tenant header from them). */
  Future<Void> consume(String receiver, Signal signal, Message request, int items, int bytes,
                       RequestHeaders headers);
}
