package dev.telemetry.gateway.cluster;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.TraceKey;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.proto.cluster.ReplicaRelease;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Copies of undecided traces other members own, held here because this member is one of their ring successors.
 * A copy leaves when its owner announces the trace's decision ({@link ReplicaRelease} on the event bus), or after
 * {@code holdNanos} (decision_wait + failure detection + slack: the owner decided long ago, the announcement was
 * lost). When the ring changes because an owner <em>crashed</em>, the copies of traces this member now owns go into
 * its tail sampler ({@link Adopter}), which decides them; copies of traces another survivor owns now stay, re-pointed
 * to that owner (replication factor 3: the second successor covers a second crash). A member that left gracefully
 * handed its traces over itself, so its copies are not taken over.
 *
 * <p>Bounded: copies are charged against {@code budgetBytes} and the heap ledger when the sender's forward arrives;
 * beyond it the forward is refused and the sender retries (its client waits). All state is confined to this
 * verticle's context; a forwarded part's spans share one encoded fragment, freed when its last trace leaves.
 */
final class ReplicaStore extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(ReplicaStore.class.getName());
  static final String RELEASE_ADDRESS = "gateway.cluster.replicas.release.";
  /**
   * Decided trace IDs remembered, so that a copy arriving after its trace's decision is not kept (about 6 MB; a late
   * copy of an older trace is held until it expires instead).
   */
  private static final int RECENTLY_RELEASED = 50_000;
  /** Per trace and per fragment, on top of the encoded bytes. */
  private static final long ENTRY_OVERHEAD = 160;

  /** Puts taken-over spans into the named sampler, with the exporters they were routed to. */
  interface Adopter {
    void adopt(String sampler, List<String> exporters, ExportTraceServiceRequest request);
  }

  private final Membership membership;
  private final long budgetBytes;
  private final long holdNanos;
  private final HeapLedger heap;
  private final AtomicLong charged = new AtomicLong();
  private final Counter received;
  private final Counter releasedDecided;
  private final Counter releasedExpired;
  private final Counter adoptedSpans;
  private final Counter adoptedTraces;
  private final Counter refused;
  private Adopter adopter;
  private MessageConsumer<Buffer> releases;
  private long timer = -1;

  // Confined to this verticle's context.
  private final LinkedHashMap<TraceKey, Replica> replicas = new LinkedHashMap<>();
  private final LinkedHashMap<TraceKey, Boolean> recentlyReleased = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<TraceKey, Boolean> eldest) {
      return size() > RECENTLY_RELEASED;
    }
  };
  private volatile long heldSpans;

  /** One forwarded replica part: its encoded spans, shared by the traces in it. */
  private static final class Fragment {
    final String sampler;
    final List<String> exporters;
    final ByteString request;
    final long cost;
    int traces;

    Fragment(String sampler, List<String> exporters, ByteString request, long cost) {
      this.sampler = sampler;
      this.exporters = exporters;
      this.request = request;
      this.cost = cost;
    }
  }

  /** One trace's copies: the fragments holding its spans and the member that owns it. */
  private static final class Replica {
    final long expiresAt;
    final List<Fragment> fragments = new ArrayList<>(2);
    String owner;
    int spans;

    Replica(String owner, long expiresAt) {
      this.owner = owner;
      this.expiresAt = expiresAt;
    }
  }

  ReplicaStore(Membership membership, long budgetBytes, long holdNanos, HeapLedger heap, MeterRegistry registry) {
    this.membership = membership;
    this.budgetBytes = budgetBytes;
    this.holdNanos = holdNanos;
    this.heap = heap;
    received = Counter.builder("gateway.cluster.replica.received.spans").description("Spans other members "
        + "replicated here (this member succeeds their traces' owner on the ring)").register(registry);
    releasedDecided = released(registry, "decided");
    releasedExpired = released(registry, "expired");
    adoptedSpans = released(registry, "adopted");
    adoptedTraces = Counter.builder("gateway.cluster.replica.adopted.traces").description("Traces this member took "
        + "over from its replicas because their owner crashed").register(registry);
    refused = Counter.builder("gateway.cluster.replica.refused.spans").description("Replicated spans refused for "
        + "lack of room (the sender retries; its client waits)").register(registry);
    Gauge.builder("gateway.cluster.replica.spans", () -> heldSpans).description("Spans held as replicas")
        .register(registry);
    Gauge.builder("gateway.cluster.replica.size", charged::get).baseUnit("bytes")
        .description("Bytes charged for replicas (bounded by the samplers' memory_budget)").register(registry);
  }

  private static Counter released(MeterRegistry registry, String reason) {
    return Counter.builder("gateway.cluster.replica.released.spans").description("Replicated spans that left this "
        + "member: their owner decided (decided), nobody said so in time (expired), or this member took them over "
        + "(adopted)").tag("reason", reason).register(registry);
  }

  void adopter(Adopter adopter) {
    this.adopter = adopter;
  }

  @Override
  public Future<?> start() {
    releases = vertx.eventBus().consumer(RELEASE_ADDRESS + membership.self(), msg -> {
      try {
        ReplicaRelease r = ReplicaRelease.parseFrom(msg.body().getBytes());
        release(r.getTraceIdsList());
      } catch (InvalidProtocolBufferException e) {
        LOG.warning("unreadable replica release from another member: " + e.getMessage());
      }
    });
    timer = vertx.setPeriodic(500, id -> expire());
    return releases.completion();
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return releases == null ? Future.succeededFuture() : releases.unregister();
  }

  /**
   * Reserves room for a replica part (any thread); throws {@link RefusedException} when the store is full. The
   * commit completes once the copy is held, which is what the sender's client waits for.
   */
  Reservation reserve(String sampler, List<String> exporters, ByteString encoded)
      throws InvalidProtocolBufferException {
    Map<ByteString, Integer> traces = TraceIdScan.spansPerTrace(encoded);
    long cost = encoded.size() + ENTRY_OVERHEAD * (traces.size() + 1);
    long after = charged.addAndGet(cost);
    if (after > budgetBytes && after != cost || !heap.tryCharge(cost)) {
      charged.addAndGet(-cost);
      refused.increment(spans(traces));
      throw new RefusedException(RefusedException.Reason.QUEUE_FULL, "cluster replicas are at their bound ("
          + budgetBytes + " bytes, the samplers' memory_budget); retry later");
    }
    return new Reservation() {
      @Override
      public Future<Void> commit() {
        context.runOnContext(v -> hold(new Fragment(sampler, exporters, encoded, cost), traces));
        return Future.succeededFuture();
      }

      @Override
      public void release() {
        uncharge(cost);
      }
    };
  }

  /** A replica part this member forwarded to itself (the ring changed on the way): held beyond the bound. */
  void holdBeyondBound(String sampler, List<String> exporters, ByteString encoded)
      throws InvalidProtocolBufferException {
    Map<ByteString, Integer> traces = TraceIdScan.spansPerTrace(encoded);
    long cost = encoded.size() + ENTRY_OVERHEAD * (traces.size() + 1);
    charged.addAndGet(cost);
    heap.charge(cost);
    context.runOnContext(v -> hold(new Fragment(sampler, exporters, encoded, cost), traces));
  }

  private static int spans(Map<ByteString, Integer> traces) {
    int n = 0;
    for (int c : traces.values()) {
      n += c;
    }
    return n;
  }

  private void hold(Fragment f, Map<ByteString, Integer> traces) {
    received.increment(spans(traces));
    HashRing ring = membership.ring();
    long expiresAt = System.nanoTime() + holdNanos;
    long held = 0;
    for (Map.Entry<ByteString, Integer> t : traces.entrySet()) {
      TraceKey id = TraceKey.of(t.getKey());
      int n = t.getValue();
      if (recentlyReleased.containsKey(id)) {
        releasedDecided.increment(n); // a span after its trace's decision: the owner has it and decides it alone
        continue;
      }
      Replica r = replicas.get(id);
      if (r == null) {
        r = new Replica(ring.isEmpty() ? null : ring.owner(id.id()), expiresAt);
        replicas.put(id, r);
      }
      r.fragments.add(f);
      r.spans += n;
      f.traces++;
      held += n;
    }
    heldSpans += held;
    if (f.traces == 0) {
      uncharge(f.cost);
    }
  }

  /** The owner decided these traces: their copies go (any thread). */
  void release(List<ByteString> ids) {
    context.runOnContext(v -> {
      for (ByteString traceId : ids) {
        TraceKey id = TraceKey.of(traceId);
        recentlyReleased.put(id, Boolean.TRUE);
        Replica r = replicas.remove(id);
        if (r != null) {
          releasedDecided.increment(r.spans);
          drop(r);
        }
      }
    });
  }

  private void expire() {
    long now = System.nanoTime();
    Iterator<Replica> it = replicas.values().iterator();
    while (it.hasNext()) {
      Replica r = it.next();
      if (r.expiresAt - now > 0) {
        break; // held in arrival order, each for the same time
      }
      it.remove();
      releasedExpired.increment(r.spans);
      drop(r);
    }
  }

  private void drop(Replica r) {
    heldSpans -= r.spans;
    for (Fragment f : r.fragments) {
      if (--f.traces == 0) {
        uncharge(f.cost);
      }
    }
  }

  private void uncharge(long cost) {
    charged.addAndGet(-cost);
    heap.free(cost);
  }

  /**
   * The ring changed (any thread): copies whose owner is gone are re-pointed to the new owner, and taken over when
   * that is this member and the old owner crashed ({@code leftGracefully} rejects it).
   */
  void ringChanged(HashRing ring, Predicate<String> leftGracefully) {
    context.runOnContext(v -> {
      if (ring.isEmpty()) {
        return;
      }
      String self = membership.self();
      Set<String> members = new HashSet<>(ring.members());
      Map<TraceKey, Replica> takeOver = new LinkedHashMap<>();
      Set<String> crashed = new HashSet<>();
      Iterator<Map.Entry<TraceKey, Replica>> it = replicas.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<TraceKey, Replica> e = it.next();
        Replica r = e.getValue();
        if (r.owner != null && members.contains(r.owner)) {
          continue;
        }
        String next = ring.owner(e.getKey().id());
        if (r.owner != null && !leftGracefully.test(r.owner) && next.equals(self)) {
          crashed.add(r.owner);
          takeOver.put(e.getKey(), r);
          it.remove();
        } else {
          r.owner = next;
        }
      }
      if (!takeOver.isEmpty()) {
        adopt(takeOver, crashed);
      }
    });
  }

  /** Hands the spans of these traces to the local samplers, one request per fragment. */
  private void adopt(Map<TraceKey, Replica> traces, Set<String> crashed) {
    Map<Fragment, Set<ByteString>> byFragment = new LinkedHashMap<>();
    long spans = 0;
    for (Map.Entry<TraceKey, Replica> e : traces.entrySet()) {
      spans += e.getValue().spans;
      for (Fragment f : e.getValue().fragments) {
        byFragment.computeIfAbsent(f, k -> new HashSet<>()).add(e.getKey().id());
      }
    }
    for (Map.Entry<Fragment, Set<ByteString>> e : byFragment.entrySet()) {
      Fragment f = e.getKey();
      try {
        ExportTraceServiceRequest only = only(ExportTraceServiceRequest.parseFrom(f.request), e.getValue());
        adopter.adopt(f.sampler, f.exporters, only);
      } catch (InvalidProtocolBufferException | RuntimeException ex) {
        LOG.log(java.util.logging.Level.SEVERE, "replicated spans could not be taken over", ex);
      }
    }
    for (Replica r : traces.values()) {
      drop(r);
    }
    adoptedSpans.increment(spans);
    adoptedTraces.increment(traces.size());
    LOG.warning("cluster: took over " + traces.size() + " undecided traces (" + spans + " spans) from replicas of "
        + "crashed member(s) " + crashed + "; deciding them here");
  }

  /** The request with only the spans of {@code ids}, resource and scope grouping kept. */
  static ExportTraceServiceRequest only(ExportTraceServiceRequest request, Set<ByteString> ids) {
    ExportTraceServiceRequest.Builder out = ExportTraceServiceRequest.newBuilder();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      ResourceSpans.Builder rb = null;
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        ScopeSpans.Builder sb = null;
        for (Span s : ss.getSpansList()) {
          if (ids.contains(s.getTraceId())) {
            if (sb == null) {
              sb = ScopeSpans.newBuilder().setScope(ss.getScope()).setSchemaUrl(ss.getSchemaUrl());
            }
            sb.addSpans(s);
          }
        }
        if (sb != null) {
          if (rb == null) {
            rb = ResourceSpans.newBuilder().setResource(rs.getResource()).setSchemaUrl(rs.getSchemaUrl());
          }
          rb.addScopeSpans(sb);
        }
      }
      if (rb != null) {
        out.addResourceSpans(rb);
      }
    }
    return out.build();
  }

  /** Spans held now (for tests and the admin view). */
  long heldSpans() {
    return heldSpans;
  }
}
