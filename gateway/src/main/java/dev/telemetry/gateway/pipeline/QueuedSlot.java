package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.queue.WriteAheadLog;

/**
 * A queued request and, in a persistent queue, its write-ahead log sequence number and location (-1 and null
 * otherwise). A persistent queue over its memory budget keeps the request on disk only: {@code request.request()}
 * is then null and the batch reads it back before sending.
 */
record QueuedSlot(QueuedRequest request, long seq, WriteAheadLog.Location location) {
  static QueuedSlot inMemory(QueuedRequest r) {
    return new QueuedSlot(r, -1, null);
  }

  boolean spilled() {
    return request.request() == null;
  }
}
