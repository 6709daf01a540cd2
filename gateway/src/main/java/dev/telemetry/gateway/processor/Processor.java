package dev.telemetry.gateway.processor;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.Future;

/**
 * A stateless transformation of export requests, applied in a pipeline before the request is queued. It runs on the
 * receiving event loop, concurrently from several of them, so it must be thread-safe and must not block: state it
 * needs (lookup tables, compiled rules) is built off the event loop and swapped in as an immutable snapshot.
 */
public interface Processor {

  /** Returns the request to pass on: the same instance when nothing changed, otherwise a rebuilt one. */
  Message process(Signal signal, Message request);

  /** Loads what the processor needs (files, timers); the pipeline is not ready until every processor started. */
  default Future<Void> start() {
    return Future.succeededFuture();
  }

  default Future<Void> stop() {
    return Future.succeededFuture();
  }

  /**
   * A throwaway copy of this processor, same configuration, counting into meters of its own, for running its code
   * over synthetic requests before the gateway is ready (see {@code Pipeline#warmUp}); null when it has none (its
   * work would touch state it shares, or it needs {@link #start}).
   */
  default Processor warmUpCopy() {
    return null;
  }
}
