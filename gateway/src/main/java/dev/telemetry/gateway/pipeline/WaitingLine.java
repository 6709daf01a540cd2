package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.config.BatchConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests of one exporter queue waiting to be batched, oldest first, with their item and byte totals. Any
 * thread adds; the exporter's context takes batches.
 */
final class WaitingLine {
  private final BatchConfig batch;
  private final ConcurrentLinkedQueue<QueuedSlot> slots = new ConcurrentLinkedQueue<>();
  private final AtomicLong items = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();

  WaitingLine(BatchConfig batch) {
    this.batch = batch;
  }

  void add(QueuedSlot slot) {
    slots.add(slot);
    items.addAndGet(slot.request().items());
    bytes.addAndGet(slot.request().bytes());
  }

  QueuedSlot oldest() {
    return slots.peek();
  }

  boolean isEmpty() {
    return slots.isEmpty();
  }

  /** Removes and returns the oldest slot, or null. */
  QueuedSlot poll() {
    QueuedSlot s = slots.poll();
    if (s != null) {
      taken(s);
    }
    return s;
  }

  /** Enough waits for a full batch: send now rather than at the batch timeout. */
  boolean batchFull() {
    return items.get() >= batch.maxItems() || bytes.get() >= batch.maxBytes();
  }

  /** Nanoseconds until the oldest request's batch timeout (≤ 0: due). */
  long nanosUntilDue(long nowNanos) {
    QueuedSlot head = slots.peek();
    return head == null ? Long.MAX_VALUE : batch.timeout().toNanos() - (nowNanos - head.request().receivedNanos());
  }

  /** Seconds the oldest waiting request has waited. */
  double oldestAgeSeconds() {
    QueuedSlot head = slots.peek();
    return head == null ? 0 : (System.nanoTime() - head.request().receivedNanos()) / 1e9;
  }

  /** Takes whole requests, oldest first, up to the batch bounds (at least one, however large). */
  List<QueuedSlot> takeBatch() {
    List<QueuedSlot> out = new ArrayList<>();
    long n = 0;
    long b = 0;
    QueuedSlot slot;
    while ((slot = slots.peek()) != null) {
      QueuedRequest next = slot.request();
      if (!out.isEmpty() && (n + next.items() > batch.maxItems() || b + next.bytes() > batch.maxBytes())) {
        break;
      }
      slots.poll();
      taken(slot);
      n += next.items();
      b += next.bytes();
      out.add(slot);
    }
    return out;
  }

  private void taken(QueuedSlot s) {
    items.addAndGet(-s.request().items());
    bytes.addAndGet(-s.request().bytes());
  }
}
