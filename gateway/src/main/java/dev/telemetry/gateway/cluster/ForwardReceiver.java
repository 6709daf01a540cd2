package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.processor.sampling.EncodedSpans;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The owner's side of forwarding: puts forwarded spans into the named local tail sampler, with the destination the
 * sending member routed them to. A batch is taken whole or refused whole (no room: the sender retries), so a retry
 * never duplicates part of it. Spans this member does not own by its own ring view — views differ for a moment while
 * members change — are forwarded on, at most {@link #MAX_HOPS} times, so a disagreement cannot loop.
 */
final class ForwardReceiver {
  static final int MAX_HOPS = 2;

  /**
   * Spans for one sampler and destination; {@code request} is an encoded ExportTraceServiceRequest of {@code spans}
   * spans (counted where it is built, for metrics; not sent).
   */
  record Part(String sampler, List<String> exporters, ByteString request, Kind kind, int hops, int spans) {
    int size() {
      return request.size();
    }

    boolean handoff() {
      return kind == Kind.HANDOFF;
    }

    boolean replica() {
      return kind == Kind.REPLICA;
    }

    Part with(ByteString request, int hops, int spans) {
      return new Part(sampler, exporters, request, kind, hops, spans);
    }
  }

  /** Fresh client traffic for its owner, buffered traces handed to a new owner, or a copy for a successor. */
  enum Kind { TRAFFIC, HANDOFF, REPLICA }

  /**
   * How long a trace taken over from a crashed owner's replicas waits beyond decision_wait: the survivors' retried
   * forwards of its spans (they waited for the dead owner until the ring changed) join it rather than arrive late.
   */
  static final long ADOPT_GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

  private final Membership membership;
  private final Forwarder forwarder;
  private final ReplicaStore replicas;
  private final Map<String, TailSampler> samplers;
  private final OwnerTaps taps;
  private final Counter receivedSpans;
  private final Counter handoffSpans;
  private final Counter refusedBatches;
  private volatile Function<List<String>, Destination> destinations;

  ForwardReceiver(Membership membership, Forwarder forwarder, ReplicaStore replicas,
                  Map<String, TailSampler> samplers, OwnerTaps taps, MeterRegistry registry) {
    this.membership = membership;
    this.taps = taps;
    this.forwarder = forwarder;
    this.replicas = replicas;
    this.samplers = Map.copyOf(samplers);
    receivedSpans = Counter.builder("gateway.cluster.forward.received.spans").description("Spans other members "
        + "forwarded here, by kind").tag("kind", "traffic").register(registry);
    handoffSpans = Counter.builder("gateway.cluster.forward.received.spans").description("Spans other members "
        + "forwarded here, by kind").tag("kind", "handoff").register(registry);
    refusedBatches = Counter.builder("gateway.cluster.forward.refused.batches").description("Forwarded batches "
        + "this member refused for lack of room (the sender retries them)").register(registry);
  }

  /** Resolves exporter names to this member's traces pipeline; set once that pipeline runs. */
  void destinations(Function<List<String>, Destination> destinations) {
    this.destinations = destinations;
  }

  /** Takes a forwarded batch (any thread): all parts, or none with {@link ForwardRefusedException}. */
  Future<Void> accept(String origin, int hops, List<Part> parts) {
    return accept(origin, hops, parts, null);
  }

  /**
   * As {@link #accept(String, int, List)} for one part whose request the OTLP receiver has decoded already
   * ({@code part.request()} may then be empty): it is not encoded and parsed again.
   */
  Future<Void> accept(String origin, int hops, Part part, ExportTraceServiceRequest decoded) {
    return accept(origin, hops, List.of(part), decoded);
  }

  private Future<Void> accept(String origin, int hops, List<Part> parts, ExportTraceServiceRequest decoded) {
    Function<List<String>, Destination> dest = destinations;
    if (dest == null) {
      return Future.failedFuture(new ForwardRefusedException("this member is still starting"));
    }
    HashRing ring = membership.ring();
    String self = membership.self();
    boolean onRing = ring.members().contains(self);
    List<Reservation> held = new ArrayList<>(parts.size() + 1);
    List<Map.Entry<String, Part>> onward = new ArrayList<>(0);
    long onwardBytes = 0;
    int spans = 0;
    int handoff = 0;
    try {
      for (Part p : parts) {
        TailSampler sampler = samplers.get(p.sampler());
        if (sampler == null) {
          throw new IllegalArgumentException("no tail_sampling processor \"" + p.sampler() + "\" on this member "
              + "(members must run the same configuration)");
        }
        Destination d = dest.apply(p.exporters());
        if (p.replica()) {
          // A copy: held here whatever this member's ring view says (the sender chose it as a successor); only
          // its trace IDs are read, not the spans.
          held.add(replicas.reserve(p.sampler(), p.exporters(), decoded != null ? decoded.toByteString()
              : p.request()));
          continue;
        }
        // Not on the ring (leaving): everything goes on to its owner. On it: only what it does not own, while hops last.
        boolean keepAll = ring.isEmpty() || onRing && hops >= MAX_HOPS;
        if (decoded == null && (keepAll || onRing)) {
          // The usual case, all of it this member's: the spans go into the sampler as they came, not decoded and
          // encoded again; only connectors fed on the owner (the service graph) get them decoded.
          EncodedSpans read = sampler.read(p.request(), d);
          if (keepAll || read.allTraces(id -> self.equals(ring.owner(id)))) {
            ExportTraceServiceRequest tapped = p.handoff() || !taps.active() ? null
                : ExportTraceServiceRequest.parseFrom(p.request());
            spans += p.handoff() ? 0 : read.spanCount();
            handoff += p.handoff() ? read.spanCount() : 0;
            Reservation r = sampler.reserve(read);
            held.add(tapped == null ? r : taps.tapped(r, tapped));
            continue;
          }
        }
        ExportTraceServiceRequest request = decoded != null ? decoded
            : ExportTraceServiceRequest.parseFrom(p.request());
        int n = TraceSplitter.spanCount(request);
        spans += p.handoff() ? 0 : n;
        handoff += p.handoff() ? n : 0;
        Map<String, ExportTraceServiceRequest> byOwner = keepAll ? Map.of(self, request)
            : TraceSplitter.split(request, ring);
        for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
          if (e.getKey().equals(self)) {
            Reservation r = sampler.reserve(e.getValue(), d);
            held.add(p.handoff() ? r : taps.tapped(r, e.getValue()));
          } else {
            ByteString bytes = e.getValue() == request && decoded == null ? p.request()
                : e.getValue().toByteString();
            onward.add(Map.entry(e.getKey(), p.with(bytes, hops + 1, TraceSplitter.spanCount(e.getValue()))));
            onwardBytes += bytes.size();
          }
        }
      }
      if (onwardBytes > 0) {
        held.add(forwarder.reserve(onwardBytes, () -> onward));
      }
    } catch (RefusedException | IllegalArgumentException | IllegalStateException
             | InvalidProtocolBufferException e) {
      held.forEach(Reservation::release);
      if (e instanceof RefusedException) {
        refusedBatches.increment();
        return Future.failedFuture(new ForwardRefusedException(e.getMessage()));
      }
      return Future.failedFuture(new IllegalArgumentException("forwarded batch from " + origin + " rejected: "
          + e.getMessage(), e));
    }
    receivedSpans.increment(spans);
    handoffSpans.increment(handoff);
    // Spans sent on to their owner are taken once that owner has them: the sender's success waits for it too.
    return Reservation.all(held.size(), held::get).commit();
  }

  /**
   * Puts a part whose owner turned out to be this member into the local sampler (forwarder context); false when
   * the sampler has no room now.
   */
  boolean deliverLocally(Part p) {
    Function<List<String>, Destination> dest = destinations;
    TailSampler sampler = samplers.get(p.sampler());
    if (dest == null || sampler == null) {
      return false;
    }
    try {
      if (p.replica()) {
        replicas.holdBeyondBound(p.sampler(), p.exporters(), p.request());
        return true;
      }
      sampler.reserve(sampler.read(p.request(), dest.apply(p.exporters()))).commit();
      if (!p.handoff() && taps.active()) {
        taps.taken(ExportTraceServiceRequest.parseFrom(p.request()));
      }
      return true;
    } catch (RefusedException e) {
      return false;
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a queued forward no longer parses", e); // we encoded it ourselves
    }
  }

  /**
   * Puts spans taken over from a crashed owner's replicas into the named sampler (any thread), to be decided after
   * decision_wait plus {@link #ADOPT_GRACE_NANOS}.
   */
  void adopt(String samplerName, List<String> exporters, ExportTraceServiceRequest request) {
    TailSampler sampler = samplers.get(samplerName);
    Function<List<String>, Destination> dest = destinations;
    if (sampler == null || dest == null) {
      throw new IllegalStateException("no tail_sampling processor \"" + samplerName + "\" to take replicas over");
    }
    sampler.adopt(request, dest.apply(exporters), System.nanoTime() + sampler.decisionWait().toNanos()
        + ADOPT_GRACE_NANOS);
  }
}
