package dev.telemetry.gateway.processor;

import com.google.protobuf.Message;
import io.vertx.core.Future;

/** Where a stateful stage (the tail sampler) hands what it releases: the pipeline's exporter queues. */
@FunctionalInterface
public interface Downstream {
  /**
   * Completes at once: succeeded when queued, failed (having queued nothing) when a queue is full — the caller keeps
   * the data and tries again.
   */
  Future<Void> offer(Message request, int items, int bytes);
}
