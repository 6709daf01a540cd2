package dev.telemetry.gateway.receiver;

import io.vertx.core.Future;

/** Accepts telemetry from clients and hands it to the pipelines; one implementation per configured receiver. */
public interface Receiver {

  /**
   * Runs this receiver's request path over synthetic requests, unseen, before {@link #start} binds it, so its first
   * clients do not meet interpreted code (none by default). Never fails the start: a warm-up that went wrong only
   * leaves the code cold.
   */
  default Future<Void> warmUp() {
    return Future.succeededFuture();
  }

  /** Binds the listeners; fails if a port cannot be bound. */
  Future<Void> start();

  /** Stops accepting new connections and requests. */
  Future<Void> stop();
}
