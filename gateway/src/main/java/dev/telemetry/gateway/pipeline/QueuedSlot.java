package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.queue.WriteAheadLog;

/**
 * A queued request and, in a persistent queue, its write-ahead log sequence number and location (-1 and null
 * otherwise). A persistent queue over its memory budget keeps the request on disk only: {@code request.request()}
 * is then null and the batch reads it back before sending. {@code heap} is what the slot has charged to the heap
 * ledger (0 for a request on disk only).
 */
record QueuedSlot(QueuedRequest request, long seq, WriteAheadLog.Location location, long heap) {
  static QueuedSlot inMemory(QueuedRequest r, long heap) {
    return new QueuedSlot(r, -1, null, heap);
  }

  boolean spilled() {
    return request.request() == null;
  }
}
