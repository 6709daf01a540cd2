package dev.telemetry.gateway.cluster;

/** The owning member has no room for forwarded spans now; the sender keeps them and retries. */
final class ForwardRefusedException extends RuntimeException {
  ForwardRefusedException(String message) {
    super(message, null, false, false);
  }
}
