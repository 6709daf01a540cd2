package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.otlp.Signal;

/**
 * Who sent a request: checks its credential (bearer token, JWT, client certificate) before anything is decoded and
 * says which tenant it belongs to, or throws {@link AccessDenied}.
 */
public interface Authentication {
  /** The tenant of the request's credential, which must allow {@code signal}. */
  String authenticate(String receiver, Signal signal, RequestHeaders headers) throws AccessDenied;

  /** Refused: no or a bad credential ({@code unauthenticated}: 401 / UNAUTHENTICATED), or not allowed (403). */
  final class AccessDenied extends RuntimeException {
    private final boolean unauthenticated;
    private final String reason;

    public AccessDenied(boolean unauthenticated, String reason, String message) {
      super(message, null, false, false);
      this.unauthenticated = unauthenticated;
      this.reason = reason;
    }

    public boolean unauthenticated() {
      return unauthenticated;
    }

    /** The metrics' reason tag. */
    public String reason() {
      return reason;
    }
  }
}
