package dev.telemetry.gateway.receiver;

import io.vertx.core.Future;

/** Accepts telemetry from clients and hands it to the pipelines; one implementation per configured receiver. */
public interface Receiver {

  /** Binds the listeners; fails if a port cannot be bound. */
  Future<Void> start();

  /** Stops accepting new connections and requests. */
  Future<Void> stop();
}
