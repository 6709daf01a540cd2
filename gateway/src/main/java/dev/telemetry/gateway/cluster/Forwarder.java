package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.telemetry.gateway.config.ClusterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Sends spans to the members that own their traces: one queue per member, batched up to {@code batch_max_bytes} or
 * {@code batch_timeout}, at most {@link #IN_FLIGHT} batches on the wire per member. All queues together hold at most
 * {@code max_bytes}; callers reserve before they enqueue, so a full forwarder turns into back-pressure for clients
 * (hand-overs after a membership change are already accepted data and are taken beyond the bound).
 *
 * <p>Nothing is dropped: a batch the owner refuses, or that fails, goes back to the front of its queue and is retried
 * with backoff; when a member leaves the ring, what waits for it is split again by the new ring (this member may
 * own some of it now). A commit completes only when every part's owner has taken it, so the client's success means
 * the owner has the spans. All state is confined to this verticle's context.
 */
final class Forwarder extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(Forwarder.class.getName());
  static final int IN_FLIGHT = 2;

  private final ClusterConfig.Forwarding config;
  /** Successors holding a copy of each trace (replication factor minus one): where a replica part goes again. */
  private final int copies;
  private final ForwardTransport transport;
  private final Membership membership;
  private final AtomicLong queuedBytes = new AtomicLong();
  /** Queued parts are charged there too (encoded bytes cost about their size on the heap). */
  private final HeapLedger heap;
  private final Map<String, Peer> peers = new HashMap<>();
  private final ArrayDeque<Queued> localBacklog = new ArrayDeque<>();
  private final Counter sentSpans;
  private final Counter handoffSpans;
  private final Counter replicaSpans;
  private final Counter sentBatches;
  private final Counter failedBatches;
  private final Counter refusedBatches;
  private final Counter sentBytes;
  private final Timer latency;
  private ForwardReceiver local;
  private long localTimer = -1;

  Forwarder(ClusterConfig.Forwarding config, int copies, ForwardTransport transport, Membership membership,
            MeterRegistry registry, HeapLedger heap) {
    this.copies = copies;
    this.heap = heap;
    this.config = config;
    this.transport = transport;
    this.membership = membership;
    sentSpans = Counter.builder("gateway.cluster.forward.sent.spans").description("Spans forwarded to the member "
        + "owning their trace, by kind").tag("kind", "traffic").register(registry);
    handoffSpans = Counter.builder("gateway.cluster.forward.sent.spans").description("Spans forwarded to the member "
        + "owning their trace, by kind").tag("kind", "handoff").register(registry);
    replicaSpans = Counter.builder("gateway.cluster.forward.sent.spans").description("Spans forwarded to the member "
        + "owning their trace, by kind").tag("kind", "replica").register(registry);
    sentBatches = batches(registry, "sent");
    failedBatches = batches(registry, "failed");
    refusedBatches = batches(registry, "refused");
    sentBytes = Counter.builder("gateway.cluster.forward.sent.size").baseUnit("bytes")
        .description("Encoded span bytes forwarded (before compression)").register(registry);
    latency = Timer.builder("gateway.cluster.forward.latency").description("Time for an owner to take a batch")
        .publishPercentileHistogram().register(registry);
    Gauge.builder("gateway.cluster.forward.queue.size", queuedBytes::get).baseUnit("bytes")
        .description("Span bytes waiting to be forwarded (bounded by cluster.forwarding.max_bytes)")
        .register(registry);
  }

  private static Counter batches(MeterRegistry registry, String result) {
    return Counter.builder("gateway.cluster.forward.batches").description("Forwarded batches by result (failed and "
        + "refused ones are retried)").tag("result", result).register(registry);
  }

  void local(ForwardReceiver local) {
    this.local = local;
  }

  /**
   * Reserves {@code bytes} (any thread); committing builds the parts, member by member, and queues them, and
   * completes once every part's owner has taken it — the client's success waits for that, so a crash of this member
   * cannot lose spans it acknowledged and had not forwarded yet. Throws {@link RefusedException} when the forwarder
   * is full. The parts are built only once room is there, so a refusal under overload costs no encoding.
   */
  Reservation reserve(long bytes, java.util.function.Supplier<List<Map.Entry<String, ForwardReceiver.Part>>> parts) {
    if (!tryReserve(bytes)) {
      throw new RefusedException(RefusedException.Reason.QUEUE_FULL, "the cluster forwarding queue of this member "
          + "is full (" + config.maxBytes() + " bytes); retry later");
    }
    long reserved = bytes;
    return new Reservation() {
      @Override
      public Future<Void> commit() {
        List<Map.Entry<String, ForwardReceiver.Part>> ps = parts.get();
        if (ps.isEmpty()) {
          return Future.succeededFuture();
        }
        Promise<Void> taken = Promise.promise();
        Ack ack = new Ack(ps.size(), taken, null);
        ps.forEach(p -> enqueue(p.getKey(), new Queued(p.getValue(), ack)));
        return taken.future();
      }

      @Override
      public void release() {
        cancel(reserved);
      }
    };
  }

  private boolean tryReserve(long bytes) {
    long after = queuedBytes.addAndGet(bytes);
    if (after > config.maxBytes() && after != bytes) {
      queuedBytes.addAndGet(-bytes);
      return false;
    }
    if (!heap.tryCharge(bytes)) {
      queuedBytes.addAndGet(-bytes);
      return false;
    }
    return true;
  }

  private void cancel(long bytes) {
    queued(-bytes);
  }

  /** Bytes come into (positive) or leave (negative) the forwarder's queues: the bound's count and the ledger's. */
  private void queued(long bytes) {
    queuedBytes.addAndGet(bytes);
    if (bytes >= 0) {
      heap.charge(bytes);
    } else {
      heap.free(-bytes);
    }
  }

  /** Queues a reserved part for {@code member} (any thread). */
  private void enqueue(String member, Queued q) {
    context.runOnContext(v -> add(member, q));
  }

  /** Queues hand-over spans beyond the bound: they are accepted data already (no client waits for them). */
  void handOver(String member, ForwardReceiver.Part part) {
    queued(part.size());
    enqueue(member, new Queued(part, Ack.NONE));
  }

  /** A part on its way, and what to tell when its owner has taken it. */
  private record Queued(ForwardReceiver.Part part, Ack ack) {
  }

  /**
   * Counts down the parts of one commit (or of one part split again after a ring change); at zero the commit's
   * promise completes, or its parent counts one. Forwarder context only.
   */
  private static final class Ack {
    static final Ack NONE = new Ack(Integer.MAX_VALUE, null, null);
    private int left;
    private final Promise<Void> promise;
    private final Ack parent;

    Ack(int parts, Promise<Void> promise, Ack parent) {
      this.left = parts;
      this.promise = promise;
      this.parent = parent;
    }

    void one() {
      if (this == NONE || --left > 0) {
        return;
      }
      if (promise != null) {
        promise.tryComplete();
      } else if (parent != null) {
        parent.one();
      }
    }
  }

  double sentSpans() {
    return sentSpans.count();
  }

  /** Bytes waiting or in flight. */
  long queuedBytes() {
    return queuedBytes.get();
  }

  /** The ring changed (forwarder context or any): what waits for members no longer on it is split again. */
  void ringChanged(HashRing ring) {
    context.runOnContext(v -> {
      List<Queued> orphaned = new ArrayList<>();
      for (Peer p : peers.values()) {
        if (ring.members().contains(p.member)) {
          continue;
        }
        p.drainTo(orphaned::add);
        if (!membership.leftGracefully(p.member)) {
          // It crashed: a batch on its way there will only time out (forwarding.timeout), while its clients wait.
          // Sent again now; should the dead member have taken it after all, its traces died with it.
          for (Flight f : p.flights) {
            if (!f.abandoned) {
              f.abandoned = true;
              orphaned.addAll(f.batch);
            }
          }
        }
      }
      orphaned.forEach(this::resplit);
      retryLocal();
    });
  }

  private void add(String member, Queued q) {
    if (member.equals(membership.self())) {
      deliverLocally(q);
      return;
    }
    if (!membership.ring().members().contains(member) && !membership.ring().isEmpty()) {
      resplit(q); // its owner left while it was on the way here
      return;
    }
    Peer p = peers.computeIfAbsent(member, Peer::new);
    p.add(q);
    schedule(p);
  }

  private void resplit(Queued q) {
    ForwardReceiver.Part part = q.part();
    HashRing ring = membership.ring();
    if (ring.isEmpty()) {
      deliverLocally(q);
      return;
    }
    ExportTraceServiceRequest request;
    try {
      request = ExportTraceServiceRequest.parseFrom(part.request());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a queued forward no longer parses", e); // we encoded it ourselves
    }
    // A copy goes to the traces' successors on the new ring, anything else to their owners.
    Map<String, ExportTraceServiceRequest> byOwner = part.replica() ? TraceSplitter.replicas(request, ring, copies)
        : TraceSplitter.split(request, ring);
    queued(-part.size());
    if (byOwner.isEmpty()) {
      q.ack().one(); // a copy with no successor left to hold it (one member remains)
      return;
    }
    Ack ack = q.ack() == Ack.NONE ? Ack.NONE : new Ack(byOwner.size(), null, q.ack());
    for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
      ByteString bytes = e.getValue() == request ? part.request() : e.getValue().toByteString();
      queued(bytes.size());
      ForwardReceiver.Part p = part.with(bytes, part.hops(), TraceSplitter.spanCount(e.getValue()));
      if (e.getKey().equals(membership.self())) {
        deliverLocally(new Queued(p, ack));
      } else {
        Peer peer = peers.computeIfAbsent(e.getKey(), Peer::new);
        peer.add(new Queued(p, ack));
        schedule(peer);
      }
    }
  }

  private void deliverLocally(Queued q) {
    if (localBacklog.isEmpty() && local.deliverLocally(q.part())) {
      queued(-q.part().size());
      q.ack().one();
      return;
    }
    localBacklog.addLast(q);
    if (localTimer < 0) {
      localTimer = vertx.setTimer(50, id -> {
        localTimer = -1;
        retryLocal();
      });
    }
  }

  private void retryLocal() {
    while (!localBacklog.isEmpty() && local.deliverLocally(localBacklog.peekFirst().part())) {
      Queued q = localBacklog.pollFirst();
      queued(-q.part().size());
      q.ack().one();
    }
    if (!localBacklog.isEmpty() && localTimer < 0) {
      localTimer = vertx.setTimer(50, id -> {
        localTimer = -1;
        retryLocal();
      });
    }
  }

  private void schedule(Peer p) {
    // Relayed parts (spans a member passed on because it does not own them) go out at once, past the window: the
    // batch that brought them waits for them, and it may be the very batch this queue waits for — two members
    // relaying to each other while their views of the ring differ would otherwise wait for each other until the
    // forward timeout.
    while (!p.items.isEmpty() && (p.flights.size() < IN_FLIGHT || p.relays > 0) && p.backoffTimer < 0) {
      if (p.relays == 0 && p.bytes < config.batchMaxBytes() && !config.batchTimeout().isZero()
          && !p.flights.isEmpty()) {
        // A batch is on the wire: let this one fill up while it travels (sent when that one returns).
        return;
      }
      if (p.waiting > 0) {
        // Clients wait for their spans to reach the owner: nothing on the wire, so send now (batches still form
        // while one travels, above) instead of lingering for batch_timeout.
        send(p);
        continue;
      }
      if (p.bytes < config.batchMaxBytes() && !config.batchTimeout().isZero() && !p.lingered) {
        if (p.batchTimer < 0) {
          p.batchTimer = vertx.setTimer(Math.max(1, config.batchTimeout().toMillis()), id -> {
            p.batchTimer = -1;
            p.lingered = true;
            schedule(p);
          });
        }
        return;
      }
      send(p);
    }
  }

  private void send(Peer p) {
    if (p.batchTimer >= 0) {
      vertx.cancelTimer(p.batchTimer);
      p.batchTimer = -1;
    }
    p.lingered = false;
    List<Queued> batch = new ArrayList<>();
    long bytes = 0;
    int hops = 0;
    while (!p.items.isEmpty()
        && (batch.isEmpty() || bytes + p.items.peekFirst().part().size() <= config.batchMaxBytes())) {
      Queued q = p.poll();
      batch.add(q);
      bytes += q.part().size();
      hops = Math.max(hops, q.part().hops());
    }
    Flight flight = new Flight(batch);
    p.flights.add(flight);
    long sent = bytes;
    long started = System.nanoTime();
    transport.send(p.member, membership.self(), hops, merge(batch.stream().map(Queued::part).toList()))
        .onComplete(ar -> context.runOnContext(v -> {
      p.flights.remove(flight);
      if (flight.abandoned) {
        return; // split again and resent when its member was found dead
      }
      if (ar.succeeded()) {
        queued(-sent);
        latency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        sentBatches.increment();
        sentBytes.increment(sent);
        for (Queued q : batch) {
          (q.part().handoff() ? handoffSpans : q.part().replica() ? replicaSpans : sentSpans)
              .increment(q.part().spans());
          q.ack().one();
        }
        p.failures = 0;
        schedule(p);
        return;
      }
      if (ar.cause() instanceof ForwardRefusedException) {
        refusedBatches.increment();
      } else {
        failedBatches.increment();
        if (p.failures == 0) {
          LOG.warning("forwarding to member " + p.member + " failed, retrying: " + ar.cause().getMessage());
        }
      }
      for (int i = batch.size() - 1; i >= 0; i--) {
        p.pushBack(batch.get(i));
      }
      p.failures++;
      if (!membership.ring().members().contains(p.member) && !membership.ring().isEmpty()) {
        p.drainTo(this::resplit);
        return;
      }
      long delay = Math.min(1000, 20L << Math.min(6, p.failures - 1));
      p.backoffTimer = vertx.setTimer(delay, id -> {
        p.backoffTimer = -1;
        schedule(p);
      });
    }));
  }

  /** Parts for the same sampler, destination and kind become one: encoded requests concatenate. */
  private static List<ForwardReceiver.Part> merge(List<ForwardReceiver.Part> batch) {
    if (batch.size() == 1) {
      return batch;
    }
    Map<List<Object>, ForwardReceiver.Part> merged = new LinkedHashMap<>();
    for (ForwardReceiver.Part part : batch) {
      List<Object> key = java.util.Arrays.asList(part.sampler(), part.exporters(), part.kind());
      merged.merge(key, part, (a, b) -> a.with(a.request().concat(b.request()), Math.max(a.hops(), b.hops()),
          a.spans() + b.spans()));
    }
    return new ArrayList<>(merged.values());
  }

  /** Completes when nothing waits to be forwarded, or after {@code timeoutMillis} (false then). */
  Future<Boolean> drained(long timeoutMillis) {
    Promise<Boolean> done = Promise.promise();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    awaitDrained(done, deadline);
    return done.future();
  }

  private void awaitDrained(Promise<Boolean> done, long deadline) {
    if (queuedBytes.get() <= 0) {
      done.complete(true);
    } else if (System.nanoTime() > deadline) {
      done.complete(false);
    } else {
      vertx.setTimer(20, id -> awaitDrained(done, deadline));
    }
  }

  /** A batch on the wire. */
  private static final class Flight {
    final List<Queued> batch;
    boolean abandoned;

    Flight(List<Queued> batch) {
      this.batch = batch;
    }
  }

  /** A member's queue; touched only on the forwarder's context. */
  private static final class Peer {
    final String member;
    final ArrayDeque<Queued> items = new ArrayDeque<>();
    long bytes;
    /**
     * Queued parts that should not linger for batch_timeout: a client waits on them, or they are hand-overs (their
     * new owner may already be deciding the trace on fresh spans).
     */
    int waiting;
    /** Queued parts relayed for another member, whose sender waits for them (hops above 0). */
    int relays;
    /** Batches on the wire. */
    final List<Flight> flights = new ArrayList<>(2);
    int failures;
    long batchTimer = -1;
    long backoffTimer = -1;
    boolean lingered;

    Peer(String member) {
      this.member = member;
    }

    void add(Queued q) {
      items.addLast(q);
      counted(q, 1);
    }

    void pushBack(Queued q) {
      items.addFirst(q);
      counted(q, 1);
    }

    Queued poll() {
      Queued q = items.pollFirst();
      counted(q, -1);
      return q;
    }

    void drainTo(java.util.function.Consumer<Queued> to) {
      while (!items.isEmpty()) {
        to.accept(poll());
      }
    }

    private void counted(Queued q, int sign) {
      bytes += sign * q.part().size();
      if (q.ack() != Ack.NONE || q.part().handoff()) {
        waiting += sign;
      }
      if (q.ack() != Ack.NONE && q.part().hops() > 0) {
        relays += sign;
      }
    }
  }
}
