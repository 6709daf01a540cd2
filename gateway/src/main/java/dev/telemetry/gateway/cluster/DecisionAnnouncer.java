package dev.telemetry.gateway.cluster;

import com.google.protobuf.ByteString;
import dev.telemetry.proto.cluster.ReplicaRelease;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Tells the members holding replicas of a trace that its owner (this member) decided it, so they drop their copies.
 * One per tail sampler, confined to that sampler's context (decisions are reported there): IDs are collected per
 * successor and sent every {@link #INTERVAL_MILLIS} as one {@link ReplicaRelease} per member, fire and forget — a
 * lost announcement only makes a copy live until it expires. Bounded: beyond {@link #MAX_PENDING} IDs waiting for
 * one member, further ones are dropped and counted.
 *
 * <p>A dropped trace is announced at once. A kept one only {@link #KEPT_DELAY_NANOS} after its decision: by then
 * its export normally went through, so an owner crashing with the trace still in its memory exporter queue (or in
 * the request on the wire) leaves the copies to be decided again by the successor. The cost: a trace kept shortly
 * before a crash may be delivered twice.
 */
final class DecisionAnnouncer {
  static final long INTERVAL_MILLIS = 100;
  static final int MAX_PENDING = 200_000;
  static final long KEPT_DELAY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
  private static final int PER_MESSAGE = 20_000;

  private final Vertx vertx;
  private final Membership membership;
  private final int copies;
  private final ReplicaStore local;
  private final Counter sent;
  private final Counter dropped;
  private final Map<String, List<ByteString>> pending = new HashMap<>();
  private List<ByteString> mine = new ArrayList<>();
  /** Kept traces waiting out {@link #KEPT_DELAY_NANOS}, in decision order. */
  private final java.util.ArrayDeque<Kept> kept = new java.util.ArrayDeque<>();
  private boolean scheduled;

  /** A kept trace and when it was decided. */
  private record Kept(ByteString traceId, long decidedNanos) {
  }

  DecisionAnnouncer(Vertx vertx, Membership membership, int copies, ReplicaStore local, Counter sent,
                    Counter dropped) {
    this.vertx = vertx;
    this.membership = membership;
    this.copies = copies;
    this.local = local;
    this.sent = sent;
    this.dropped = dropped;
  }

  /** The sampler decided this trace (on its context). */
  void decided(ByteString traceId, boolean keep) {
    if (keep) {
      if (kept.size() >= MAX_PENDING) {
        dropped.increment();
      } else {
        kept.addLast(new Kept(traceId, System.nanoTime()));
      }
      schedule();
      return;
    }
    announce(traceId);
    schedule();
  }

  private void schedule() {
    if (!scheduled) {
      scheduled = true;
      vertx.setTimer(INTERVAL_MILLIS, id -> flush()); // runs on the sampler's context, like this call
    }
  }

  private void announce(ByteString traceId) {
    HashRing ring = membership.ring();
    String self = membership.self();
    // This member may hold a copy too: it succeeded the trace's previous owner, which handed the trace over here.
    mine.add(traceId);
    for (String m : ring.successors(traceId, copies)) {
      if (m.equals(self)) {
        continue;
      }
      List<ByteString> ids = pending.computeIfAbsent(m, k -> new ArrayList<>());
      if (ids.size() >= MAX_PENDING) {
        dropped.increment();
      } else {
        ids.add(traceId);
      }
    }
  }

  private void flush() {
    scheduled = false;
    long now = System.nanoTime();
    while (!kept.isEmpty() && now - kept.peekFirst().decidedNanos() >= KEPT_DELAY_NANOS) {
      announce(kept.pollFirst().traceId());
    }
    if (!mine.isEmpty()) {
      local.release(mine);
      mine = new ArrayList<>();
    }
    String self = membership.self();
    pending.forEach((member, ids) -> {
      for (int from = 0; from < ids.size(); from += PER_MESSAGE) {
        List<ByteString> chunk = ids.subList(from, Math.min(ids.size(), from + PER_MESSAGE));
        byte[] body = ReplicaRelease.newBuilder().setOrigin(self).addAllTraceIds(chunk).build().toByteArray();
        vertx.eventBus().send(ReplicaStore.RELEASE_ADDRESS + member, Buffer.buffer(body));
        sent.increment(chunk.size());
      }
    });
    pending.clear();
    if (!kept.isEmpty()) {
      schedule();
    }
  }
}
